"""A run's local directory: the pointer file ``run.json`` and its storage.

``run.json`` names the run, its storage URL and the config it was started with, so that
``darwin resume DIR`` and ``darwin status DIR`` need nothing else. The records themselves live
in the storage (by default ``DIR/store``, a ``file://`` store).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darwin_hookspecs import BuildContext, CorruptRecordError, Storage, UserError

from .config import DarwinConfig, config_from_dict
from .plugins import PluginManager

POINTER = "run.json"


@dataclass
class RunPointer:
    run_id: str
    storage_url: str
    config: dict[str, Any]
    config_source: str | None
    created_at: float
    store: str | None = None
    """The store's path relative to the run dir when it lies inside it (a moved or copied run
    dir then resumes on its own store); ``storage_url`` is kept for older readers."""

    def url_in(self, run_dir: Path) -> str:
        """The storage URL of this run when its directory is ``run_dir``."""
        return (run_dir / self.store).resolve().as_uri() if self.store else self.storage_url

    def load_config(self) -> DarwinConfig:
        return config_from_dict(dict(self.config), source=Path(self.config_source) if self.config_source else None)


def new_run_id(name: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{name}-{stamp}-{uuid.uuid4().hex[:6]}"


def default_run_dir(config: DarwinConfig) -> Path:
    return Path.cwd() / "runs" / new_run_id(config.run.name)


def storage_url_for(config: DarwinConfig, run_dir: Path, run_id: str) -> str:
    url = config.storage.url or (run_dir / "store").resolve().as_uri()
    return url.replace("{run_id}", run_id).replace("{run_dir}", str(run_dir.resolve()))


def relative_store(url: str, run_dir: Path) -> str | None:
    """``url``'s path relative to ``run_dir`` when it is a ``file://`` store inside it."""
    if not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    try:
        return Path(unquote(urlparse(url).path)).resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        return None


def pointer_bytes(pointer: RunPointer) -> bytes:
    return json.dumps(pointer.__dict__, indent=2, sort_keys=True).encode()


def write_pointer(run_dir: Path, pointer: RunPointer) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    data = pointer_bytes(pointer)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, run_dir / POINTER)


def read_pointer(run_dir: Path) -> RunPointer:
    path = run_dir / POINTER
    if not path.is_file():
        raise UserError(
            f"{run_dir} is not a Darwin run directory ({POINTER} missing); fix: pass the directory "
            "given to (or printed by) `darwin run`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunPointer(**data)
    except (ValueError, TypeError) as exc:
        raise CorruptRecordError(
            f"{path} is corrupt ({exc}); fix: restore it (it holds run_id, storage_url and config)"
        ) from None


def open_storage(
    plugins: PluginManager, url: str, options: dict[str, Any], *, run_id: str = "",
    run_dir: Path | None = None, config_dir: Path | None = None,
) -> Storage:
    context = BuildContext(run_id=run_id, run_dir=run_dir, config_dir=config_dir or Path.cwd(), hook=plugins.hook)
    return plugins.create("storage", url, {**options, "url": url}, context, section="storage")


def override_config(run_dir: Path, settings: list[str], new_config: Path | None = None,
                    check: Any = None) -> RunPointer:
    """Change the config a run resumes with: ``new_config`` replaces it, then each ``KEY=VALUE``
    of ``settings`` (dotted key, TOML value; a bare word is a string) overrides one value. The
    result is validated (and given to ``check``, e.g. to validate backend options) before the
    pointer is rewritten."""
    from .config import load_config

    pointer = read_pointer(run_dir)
    data: dict[str, Any] = json.loads(json.dumps(pointer.config))
    if new_config is not None:
        config = load_config(new_config)
        data = config.model_dump(mode="json", exclude={"source"})
        pointer.config_source = str(config.source)
    from .commands.settings import apply_settings, validate_settings

    source = Path(pointer.config_source) if pointer.config_source else None
    config = validate_settings(data, settings, source)  # errors name --set, not the file
    if check is not None:
        check(config)
    data = apply_settings(data, settings)
    pointer.config = data
    write_pointer(run_dir, pointer)
    return pointer
