"""Loading SWE-bench instances: local JSON / JSONL files, or a Hugging Face dataset (lazily).

Instances keep the official field names (``instance_id``, ``repo``, ``base_commit``,
``patch``, ``test_patch``, ``problem_statement``, ``FAIL_TO_PASS``, ``PASS_TO_PASS``...). The
two test lists are JSON-encoded strings in the official files; they are decoded here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from darwin_hookspecs import UserError

REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement", "test_patch",
            "FAIL_TO_PASS", "PASS_TO_PASS")
LIST_FIELDS = ("FAIL_TO_PASS", "PASS_TO_PASS", "setup_commands")


def load_instances(
    dataset: str,
    *,
    base_dir: Path,
    split: str = "test",
    instance_ids: Iterable[str] = (),
    instance_ids_file: Path | None = None,
) -> list[dict[str, Any]]:
    """All instances of ``dataset`` (a file or a Hugging Face name), optionally a subset."""
    path = Path(dataset).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if dataset.endswith(".parquet"):
        rows = _read_parquet(path)
        where = str(path)
    elif dataset.endswith((".json", ".jsonl")) or path.exists():
        rows = _read_file(path)
        where = str(path)
    else:
        rows = _read_hub(dataset, split)
        where = f"{dataset} [{split}]"
    instances = [normalise(row, where, index) for index, row in enumerate(rows)]
    seen: set[str] = set()
    for inst in instances:
        if inst["instance_id"] in seen:
            raise UserError(f"{where}: instance {inst['instance_id']!r} appears twice; "
                            "fix: remove the duplicate")
        seen.add(inst["instance_id"])
    wanted = list(instance_ids)
    if instance_ids_file is not None:
        wanted += read_id_file(instance_ids_file if instance_ids_file.is_absolute()
                               else base_dir / instance_ids_file)
    if wanted:
        missing = [i for i in wanted if i not in seen]
        if missing:
            raise UserError(f"{where}: no instance {', '.join(map(repr, missing[:5]))}"
                            f"{' ...' if len(missing) > 5 else ''}; fix: correct the instance "
                            "ids (instance_ids / instance_ids_file) or the dataset")
        keep = set(wanted)
        instances = [i for i in instances if i["instance_id"] in keep]
    if not instances:
        raise UserError(f"{where}: no instance to evaluate; fix: point `dataset` at a file "
                        "holding SWE-bench instances")
    return instances


def read_id_file(path: Path) -> list[str]:
    """Instance ids, one per line; blank lines and ``#`` comments are ignored. A JSON list
    (as in DGM's subset files) is accepted too."""
    if not path.is_file():
        raise UserError(f"{path}: instance id file not found; fix: instance_ids_file")
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            return [str(i) for i in json.loads(text)]
        except ValueError as exc:
            raise UserError(f"{path}: not a JSON list of ids ({exc}); fix the file") from None
    ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [i for i in ids if i]


def normalise(row: Any, where: str, index: int) -> dict[str, Any]:
    """Check the required fields and decode the JSON-encoded lists."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: entry {index} is not an object; fix: one instance per entry")
    missing = [k for k in REQUIRED if k not in row]
    name = row.get("instance_id", f"entry {index}")
    if missing:
        raise UserError(f"{where}: instance {name!r} lacks {', '.join(missing)}; fix: use "
                        "SWE-bench's instance format")
    inst = dict(row)
    for key in LIST_FIELDS:
        value = inst.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except ValueError:
                raise UserError(f"{where}: instance {name!r}: {key} is not a JSON list; "
                                "fix: encode it as a JSON list of test names") from None
        if value is None and key == "setup_commands":
            continue
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise UserError(f"{where}: instance {name!r}: {key} must be a list of strings")
        if value is not None:
            inst[key] = value
    inst["instance_id"] = str(inst["instance_id"])
    return inst


def _read_file(path: Path) -> list[Any]:
    if not path.is_file():
        raise UserError(f"{path}: dataset file not found; fix: [benchmark] dataset")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise UserError(f"{path}:{number}: not valid JSON ({exc}); fix that line") from None
        return rows
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); fix the file") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of instances; fix the file")
    return data


def _read_parquet(path: Path) -> list[Any]:
    """A ``.parquet`` export (as published on Hugging Face), read with ``datasets``."""
    if not path.is_file():
        raise UserError(f"{path}: dataset file not found; fix: [benchmark] dataset")
    try:
        import datasets  # noqa: PLC0415 - optional, heavy
    except ImportError:
        raise UserError(f"{path}: reading parquet needs the `datasets` package; fix: pip "
                        "install datasets, or convert the file to .jsonl") from None
    return [dict(row) for row in datasets.load_dataset("parquet", data_files=str(path), split="train")]


def _read_hub(name: str, split: str) -> list[Any]:
    """A Hugging Face dataset, imported and fetched only when asked for."""
    try:
        import datasets  # noqa: PLC0415 - optional, heavy, needs network
    except ImportError:
        raise UserError(
            f"dataset {name!r} is neither a file nor loadable: reading a Hugging Face dataset "
            "needs the `datasets` package; fix: pip install datasets, or download the dataset "
            "to a .json/.jsonl file and point `dataset` at it"
        ) from None
    try:
        return [dict(row) for row in datasets.load_dataset(name, split=split)]
    except Exception as exc:  # noqa: BLE001 - network, auth, unknown name...
        raise UserError(
            f"dataset {name!r} (split {split!r}) could not be loaded from Hugging Face "
            f"({type(exc).__name__}: {exc}); fix: check the name and network access, or use a "
            "local .json/.jsonl file"
        ) from None
