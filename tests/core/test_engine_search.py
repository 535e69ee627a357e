"""The engine's side of search: inspirations, operator statistics and duplicate skipping, in
real runs on the quickstart program."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from darwin_core import Engine, load_config
from darwin_core.reader import open_run
from darwin_hookspecs import Proposal, hookimpl
from darwin_plugins.mutation.generator import MutationOptions, create

from support import quick_config


class _Recording:
    """A generator plugin that records what each context carried, then mutates like ``mutation``
    (``interrupt_at``: raise KeyboardInterrupt on that attempt, as a Ctrl-C would)."""

    def __init__(self, interrupt_at: str = "") -> None:
        self.seen: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.interrupt_at = interrupt_at

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        outer = self

        class Recorder:
            def __init__(self, context: Any) -> None:
                self.inner = create(MutationOptions(), context)

            def propose(self, context: Any) -> Proposal:
                with outer.lock:
                    outer.seen[context.attempt_id] = {
                        "parent": context.parent.id,
                        "inspirations": [(i.variant.id, i.ancestor_id, dict(i.files), i.ancestor_files)
                                         for i in context.inspirations],
                        "stats": dict(context.operator_stats),
                    }
                if context.attempt_id == outer.interrupt_at:
                    outer.interrupt_at = ""
                    raise KeyboardInterrupt
                return self.inner.propose(context)

        registry.add("recording", lambda options, context: Recorder(context))


def _files(view: Any, variant_id: str) -> dict[str, str]:
    return {rel: data.decode() for rel, data in view.handle.codebook.files(variant_id).items()}


def test_generator_sees_inspirations_and_earlier_generations_stats(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=4, children_per_generation=3, generator__name="recording")
    recording = _Recording()
    assert Engine.create(load_config(config), quickstart / "run", extra_plugins=[recording]).run_loop().status == "completed"
    view = open_run(quickstart / "run")
    attempts = {a.id: a for a in view.attempts}
    variants = {v.id: v for v in view.variants}
    shown = 0
    for attempt_id, seen in recording.seen.items():
        ids = [i[0] for i in seen["inspirations"]]
        assert ids == attempts[attempt_id].metadata.get("inspirations", [])
        assert seen["parent"] not in ids and len(ids) <= 3
        for variant_id, ancestor_id, files, ancestor_files in seen["inspirations"]:
            shown += 1
            assert variants[variant_id].status == "accepted"
            assert files == _files(view, variant_id)
            lineage = view.archive.lineage(variant_id)
            assert ancestor_id in lineage and ancestor_id in view.archive.lineage(seen["parent"])
            assert all(a in lineage for a in view.archive.lineage(ancestor_id))
            assert ancestor_files == _files(view, ancestor_id)
        generation = attempts[attempt_id].generation
        expected: dict[str, list[int]] = {}
        for child in variants.values():
            families = child.metadata.get("families") or []
            if child.parent_id is None or child.generation >= generation or child.metadata.get("duplicate_of"):
                continue
            improved = child.score > variants[child.parent_id].score + 1e-12
            for family in set(families):
                entry = expected.setdefault(family, [0, 0])
                entry[0] += int(improved)
                entry[1] += 1
        assert seen["stats"] == {f: tuple(v) for f, v in expected.items()}, attempt_id
    assert shown > 0, "no attempt was shown an inspiration"
    assert any(seen["stats"] for seen in recording.seen.values())


def test_a_retry_after_an_interrupt_sees_the_same_inspirations(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=3, children_per_generation=3, generator__name="recording",
                          executor__max_workers=1)
    recording = _Recording(interrupt_at="g0003a001")
    try:
        Engine.create(load_config(config), quickstart / "run", extra_plugins=[recording]).run_loop()
    except KeyboardInterrupt:
        pass
    first = recording.seen["g0003a001"]["inspirations"]
    assert first, "the interrupted attempt had no inspiration to compare"
    Engine.open(quickstart / "run", extra_plugins=[recording]).run_loop()
    attempts = {a.id: a for a in open_run(quickstart / "run").attempts}
    assert attempts["g0003a001r1"].status == "finished"
    again = recording.seen["g0003a001r1"]["inspirations"]
    assert [i[0] for i in again] == [i[0] for i in first]
    assert [i[2] for i in again] == [i[2] for i in first]


class _Constant:
    """A generator that always proposes the same code: the root's, with one comment added."""

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        class Constant:
            def propose(self, context: Any) -> Proposal:
                source = (context.parent_dir / "textstats.py").read_text()
                if "# constant\n" not in source:
                    source += "# constant\n"
                else:
                    source = source.replace("# constant\n", "# constant again\n")
                return Proposal(changes={"textstats.py": source}, improvement_type="constant")

        registry.add("constant", lambda options, context: Constant())


def _constant_run(quickstart: Path, run_dir: Path, skip: bool) -> list[Any]:
    config = quick_config(quickstart, generations=3, children_per_generation=2, generator__name="constant",
                          executor__max_workers=1, evaluation__skip_duplicates=skip, selection__name="best")
    Engine.create(load_config(config), run_dir, extra_plugins=[_Constant()]).run_loop()
    return open_run(run_dir).variants[1:]


def test_a_child_equal_to_evaluated_code_is_recorded_without_evaluation(quickstart: Path) -> None:
    children = _constant_run(quickstart, quickstart / "run", skip=True)
    view = open_run(quickstart / "run")
    evaluated = [c for c in children if c.task_results]
    duplicates = [c for c in children if c.metadata.get("duplicate_of")]
    assert len(children) == 6 and evaluated and duplicates
    assert len(evaluated) + len(duplicates) == 6
    for child in duplicates:
        original = child.metadata["duplicate_of"]
        assert child.status == "invalid" and original in child.reason and "duplicate" in child.reason
        assert not child.task_results and child.timings["evaluation_s"] == 0.0
        assert view.handle.codebook.manifest(child.id) == view.handle.codebook.manifest(original)
        assert view.archive.get(original).status in ("accepted", "rejected")
    manifests = [tuple(sorted(view.handle.codebook.manifest(c.id).items())) for c in evaluated]
    assert len(set(manifests)) == len(manifests)  # no code evaluated twice


def test_skip_duplicates_off_evaluates_every_child(quickstart: Path, tmp_path: Path) -> None:
    children = _constant_run(quickstart, tmp_path / "off", skip=False)
    assert len(children) == 6 and all(c.task_results for c in children)
    assert not any(c.metadata.get("duplicate_of") for c in children)


def test_known_digests_are_a_snapshot_that_later_records_do_not_change() -> None:
    import pickle

    from darwin_core.duplicates import KnownDigests

    order = {"d0": 0, "d1": 1}
    taken = KnownDigests(order, 2)
    order["d2"] = 2  # recorded after the job was handed its digests
    assert "d0" in taken and "d1" in taken and "d2" not in taken and 3 not in taken
    assert len(taken) == 2 and set(taken) == {"d0", "d1"} and taken == {"d0", "d1"}
    assert not KnownDigests(order, 0)
    assert pickle.loads(pickle.dumps(taken)) == frozenset({"d0", "d1"})  # to a worker process
