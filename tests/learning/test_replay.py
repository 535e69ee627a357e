"""The replay buffer records every attempt of a real run through the run's storage."""

from __future__ import annotations

from darwin_core.replay import COLLECTION, FAILURE_KINDS, ReplayBuffer, ReplayRecord, record_key
from darwin_core.store import RunStore


def test_every_attempt_is_recorded_with_features_and_outcome(learning_run):
    engine = learning_run({"run": {"generations": 2, "children_per_generation": 3}})
    run_id = engine.pointer.run_id
    attempts = list(engine.attempts.values())
    assert len(attempts) == 6

    # read back through a fresh store over the same storage: the records are durable
    replay = ReplayBuffer(RunStore(engine.storage, run_id=run_id))
    assert COLLECTION.startswith("state_")
    assert len(replay) == len(attempts)
    for attempt in attempts:
        record = replay.get(record_key(run_id, attempt.id))
        assert record is not None, attempt.id
        child = engine.archive.get(attempt.child_id)
        parent = engine.archive.get(attempt.parent_id)
        assert record.parent_id == parent.id
        assert record.task_id == (attempt.target.task_id if attempt.target else None)
        assert record.features["parent_score"] == parent.score
        assert record.features["generator"] == "mutation"
        assert record.outcome["accepted"] == (child.status == "accepted")
        assert abs(record.outcome["score_delta"] - (child.score - parent.score)) < 1e-12
        assert record.outcome["failure_kind"] in (None, *FAILURE_KINDS)
        assert record.outcome["cost"]["tasks_evaluated"] == len(child.task_results)
        assert record.outcome["cost"]["evaluation_s"] == child.timings["evaluation_s"]


def test_queries_by_task_parent_and_failure_kind(learning_run):
    engine = learning_run({"run": {"generations": 2, "children_per_generation": 3}})
    replay = ReplayBuffer(RunStore(engine.storage, run_id=engine.pointer.run_id))
    records = replay.records()

    task = next(r.task_id for r in records if r.task_id)
    assert replay.by_task(task) == [r for r in records if r.task_id == task]
    assert all(r.task_id == task for r in replay.by_task(task))

    root_children = replay.by_parent("v0000root")
    assert root_children and all(r.parent_id == "v0000root" for r in root_children)
    assert len(replay.by_parent("v0000root")) == len(engine.archive.children("v0000root"))

    kinds = {r.failure_kind or "none" for r in records}
    total = 0
    for kind in kinds:
        matched = replay.by_failure_kind(kind)
        assert matched and all((r.failure_kind or "none") == kind for r in matched)
        total += len(matched)
    assert total == len(records)
    assert replay.query(task=task, parent="v0000root") == [
        r for r in records if r.task_id == task and r.parent_id == "v0000root"
    ]
    assert replay.by_failure_kind("no-such-kind") == []


def test_a_capped_buffer_evicts_the_oldest_and_still_answers_for_every_record(learning_run):
    engine = learning_run({"run": {"generations": 2, "children_per_generation": 3}})
    store = RunStore(engine.storage, run_id=engine.pointer.run_id)
    whole = ReplayBuffer(store).records()
    capped = ReplayBuffer(store, keep=2)
    assert capped.in_memory == len(whole) == 6  # read whole at start-up
    capped.trim()
    assert capped.in_memory == 2 and len(capped) == 6
    assert [r.to_dict() for r in capped.records()] == [r.to_dict() for r in whole]
    oldest = whole[0]
    assert oldest.key in capped and capped.get(oldest.key).to_dict() == oldest.to_dict()
    assert [r.key for r in capped.query(parent=oldest.parent_id)] == [r.key for r in whole if r.parent_id == oldest.parent_id]
    again = ReplayRecord.from_dict({**oldest.to_dict(), "features": {"other": 1}})
    assert capped.add(again).to_dict() == oldest.to_dict()  # the stored record wins, once evicted too
    assert len(capped) == 6 and capped.in_memory == 2
    assert "no-such-key" not in capped and capped.get("no-such-key") is None


def test_the_memory_cap_changes_no_feature_nor_decision(learning_run, quickstart):
    # one worker: with two, what an attempt's features see of its generation depends on timing
    sections = {"run": {"generations": 3, "children_per_generation": 3},
                "executor": {"name": "local", "max_workers": 1}}
    wide = learning_run(sections)
    narrow = learning_run({**sections, "run": {**sections["run"], "replay_in_memory": 1}},
                          run_dir=quickstart / "runs" / "narrow")
    assert narrow.gate.replay.in_memory == 1 and wide.gate.replay.in_memory == 9

    def seen(engine):
        records = ReplayBuffer(RunStore(engine.storage, run_id=engine.pointer.run_id)).records()
        return sorted((r.attempt_id, r.parent_id, sorted(r.features.items()), r.decision,
                       r.outcome["child_id"], r.outcome["failure_kind"]) for r in records)

    assert seen(narrow) == seen(wide)


def test_a_resumed_gate_with_the_cap_rebuilds_the_same_tallies(learning_run):
    from darwin_core.gating import LearningGate

    engine = learning_run({"run": {"generations": 2, "children_per_generation": 3}})
    store = RunStore(engine.storage, run_id=engine.pointer.run_id)
    gates = [LearningGate(store, run_id=engine.pointer.run_id, seed=0, generator="mutation", replay_in_memory=keep)
             for keep in (1, None)]
    capped, whole = gates
    assert capped.replay.in_memory == 1 and whole.replay.in_memory == 6
    for name in ("by_task", "by_parent"):
        assert dict(getattr(capped.history, name)) == dict(getattr(whole.history, name))
    assert capped.history.run == whole.history.run and capped.history.run.n == 6
