"""Opening a run reads variant summaries: the same values whether the records carry their counts
or not (runs written before them), with or without the ``file://`` index, as from the variants."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from darwin_core.store import RunStore
from darwin_core.summary import VariantSummary
from darwin_hookspecs import Target, TaskResult, Usage, Variant, to_dict
from darwin_plugins.file_storage.store import FileStorage


def variants(n: int) -> list[Variant]:
    rng = random.Random(3)
    out = []
    for i in range(n):
        results = {f"t{j}": TaskResult(task_id=f"t{j}", passed=rng.random() < 0.5, score=rng.random(),
                                       failure_kind=rng.choice([None, "fail", "timeout", "oom"]))
                   for j in range(rng.randint(0, 4))}
        out.append(Variant(
            id=f"v{i:04d}a000", parent_id=None if i == 0 else f"v{rng.randrange(i):04d}a000", generation=i,
            status=rng.choice(["accepted", "rejected", "invalid", "error"]), score=rng.random(),
            task_results=results, stage_reached=rng.choice([-1, 0, 1]), cost_usd=rng.random(),
            usage=[Usage(role="g", input_tokens=rng.randint(0, 99), output_tokens=rng.randint(0, 9))],
            target=rng.choice([None, Target(kind="explore"), Target(kind="failing_task", task_id="t1")]),
            description=rng.choice(["", "edit"]), created_at=float(i),
            metadata=rng.choice([{}, {"exhausted": True}, {"neighbourhood": 3}, {"neighbourhood": True}]),
            metrics=rng.choice([{}, {"score": -1.5, "pass_rate": 0.5, "radii": 2.61}]),
            repeats=rng.choice([{}, {"values": [1.0, 1.4], "seeds": [7, 8], "mean": 1.2, "stderr": 0.2}])))
    return out


@pytest.mark.parametrize("indexed", [True, False])
def test_summaries_are_the_variants_with_and_without_carried_counts(tmp_path: Path, indexed: bool) -> None:
    storage = FileStorage(tmp_path / "store", fsync=False)
    store = RunStore(storage)
    if indexed:
        store.prepare_indexes()
    written = variants(40)
    for variant in written[:25]:
        store.save_variant(variant)  # with the counts
    for variant in written[25:]:  # as a run written before the counts
        store.put("variants", variant.id, to_dict(variant), create=True)
    summaries = store.load_variant_summaries()
    assert summaries == [VariantSummary.of(v) for v in written]
    assert any(s.metrics.get("radii") == 2.61 for s in summaries) and any(s.repeats for s in summaries)
    assert [v.id for v in store.load_variants_by_id([w.id for w in written[3:9]])] == [w.id for w in written[3:9]]
    storage.close()


def test_a_record_that_is_not_json_is_named(tmp_path: Path) -> None:
    import sqlite3

    from darwin_hookspecs import CorruptRecordError

    storage = FileStorage(tmp_path / "store", fsync=False)
    store = RunStore(storage)
    store.prepare_indexes()
    for variant in variants(5):
        store.save_variant(variant)
    with sqlite3.connect(tmp_path / "store" / "darwin.sqlite3") as conn:
        conn.execute("UPDATE records SET value = '{not json' WHERE key = 'v0002a000'")
    conn.close()
    with pytest.raises(CorruptRecordError, match="v0002a000"):
        store.load_variant_summaries()
    storage.close()
