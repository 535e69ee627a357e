"""What the engine holds per attempt is bounded: ended attempts whole, manifests and blob digests
are caches of a fixed size, read back from the store on demand; a run with tiny bounds records
exactly what a run with the defaults does."""

from __future__ import annotations

from pathlib import Path

import pytest

from darwin_core import Engine, attempt_index, config_from_dict, duplicates, snapshots
from darwin_core.reader import open_run
from darwin_hookspecs import Proposal, TaskResult, TaskSpec, hookimpl


class _Steps:
    """A generator appending a line to one of three files (so lineages differ) and a benchmark
    scoring by the file sizes, in process."""

    @hookimpl
    def darwin_register_generators(self, registry):
        class Append:
            def propose(self, context):
                rel = f"f{context.sibling_index % 3}.txt"
                old = (Path(context.parent_dir) / rel).read_text()
                return Proposal(changes={rel: old + f"{context.attempt_id}\n"}, improvement_type="append")

        registry.add("append", lambda o, c: Append())

    @hookimpl
    def darwin_register_benchmarks(self, registry):
        class Sizes:
            mode = "program"

            def tasks(self):
                return [TaskSpec(id="t0"), TaskSpec(id="t1")]

            def evaluate(self, variant_dir, tasks, sandbox):
                size = sum(p.stat().st_size for p in Path(variant_dir).glob("f*.txt"))
                return [TaskResult(t.id, size % (2 + i) == 0, float(size % (2 + i) == 0))
                        for i, t in enumerate(tasks)]

        registry.add("sizes", lambda o, c: Sizes())


def _run(tmp_path: Path, name: str) -> Engine:
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    for i in range(3):
        (program / f"f{i}.txt").write_text("start\n")
    config = {"run": {"name": name, "initial": str(program), "children_per_generation": 3, "generations": 12,
                      "seed": 3},
              "generator": {"name": "append"}, "benchmark": {"name": "sizes"}, "selection": {"name": "random"},
              "executor": {"name": "local", "max_workers": 2}, "storage": {"fsync": False}}
    engine = Engine.create(config_from_dict(config), tmp_path / name, extra_plugins=[_Steps()])
    assert engine.run_loop().status == "completed"
    return engine


def _records(run_dir: Path) -> tuple[list, list, dict]:
    view = open_run(run_dir)
    variants = [(v.id, v.parent_id, v.status, v.score, v.snapshot) for v in view.variants]
    attempts = [(a.id, a.status, a.parent_id, a.child_id, a.seed) for a in view.attempts]
    return variants, attempts, {v.id: view.code(v.id) for v in view.variants}


def test_tiny_bounds_hold_and_record_what_the_defaults_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wide = _run(tmp_path, "wide")
    monkeypatch.setattr(attempt_index, "WHOLE_KEPT", 3)
    monkeypatch.setattr(attempt_index, "_SLACK", 2)
    monkeypatch.setattr(snapshots, "MANIFESTS_KEPT", 4)
    monkeypatch.setattr(duplicates, "FILE_DIGESTS_KEPT", 2)
    tight = _run(tmp_path, "tight")
    held = tight.handle.attempts._whole
    assert len(tight.handle.attempts) == 36
    assert all(v.status != "error" for v in tight.handle.variants), [v.reason for v in tight.handle.variants]
    assert len(held) <= 3 + 2  # the ended ones dropped to their summaries
    assert len(tight.codebook._manifests) <= 4
    assert len(tight.contents._file_sha) <= 2 + 1
    assert len(wide.handle.attempts._whole) == 36  # the defaults held every one of this small run
    # an attempt dropped is read back whole, as recorded
    dropped = [key for key in tight.handle.attempts if key not in held]
    assert dropped and tight.handle.attempts[dropped[0]].status == "finished"
    wide_records, tight_records = _records(tmp_path / "wide"), _records(tmp_path / "tight")
    assert tight_records == wide_records
    assert len({tuple(sorted(code.items())) for code in tight_records[2].values()}) > 10  # lineages differ
