"""The gate in real runs: warm-up, skips, exploration, recorded decisions, saved state, status."""

from __future__ import annotations

import json
import shutil

import pytest

from darwin_core.calibration import brier_score
from darwin_core.config import ConfigError, load_config
from darwin_core.engine import Engine
from darwin_core.gating import STATE_COLLECTION, STATE_KEY, LearningGate, build_gate
from darwin_core.replay import ReplayBuffer, record_key
from darwin_core.session import build_context
from darwin_core.store import RunStore

from .conftest import write_learning_config

PREDICTOR = {"name": "world-model", "warmup": 3, "retrain_every": 1, "steps": 10, "save_every": 2}


def _gate_of(engine: Engine) -> LearningGate:
    assert isinstance(engine.gate, LearningGate)
    return engine.gate


def test_gate_skips_after_warmup_and_records_every_decision(learning_run):
    engine = learning_run({"predictor": {**PREDICTOR, "threshold": 1.0, "exploration": 0.0},
                           "run": {"generations": 3, "children_per_generation": 3}})
    attempts = sorted(engine.attempts.values(), key=lambda a: a.id)
    decisions = [a.metadata["gate"]["decision"] for a in attempts]
    # generation 1 runs before anything is learned; afterwards nothing reaches threshold 1.0
    assert decisions == ["warmup"] * 3 + ["skip"] * 6
    for attempt in attempts:
        gate = attempt.metadata["gate"]
        assert gate["predictor"] == "world-model" and 0.0 <= gate["p_accept"] <= 1.0
        if gate["decision"] == "skip":
            assert attempt.status == "skipped" and attempt.child_id is None
            assert gate["ready"] and gate["observations"] == 3
        else:
            assert attempt.status == "finished" and attempt.child_id in engine.archive
    replay = ReplayBuffer(RunStore(engine.storage, run_id=engine.pointer.run_id))
    assert len(replay) == 9
    skipped = replay.by_failure_kind("skipped")
    assert sorted(r.attempt_id for r in skipped) == [a.id for a in attempts[3:]]
    assert all(r.outcome["cost"]["tasks_evaluated"] == 0 and r.decision["decision"] == "skip" for r in skipped)
    assert len(engine.archive) == 4  # root + the three warm-up children: skipped ones cost nothing


def test_exploration_runs_what_the_gate_would_skip(learning_run):
    engine = learning_run({"predictor": {**PREDICTOR, "threshold": 1.0, "exploration": 1.0},
                           "run": {"generations": 2, "children_per_generation": 3}})
    decisions = sorted((a.id, a.metadata["gate"]["decision"]) for a in engine.attempts.values())
    assert [d for _, d in decisions] == ["warmup"] * 3 + ["explore"] * 3
    assert all(a.status == "finished" for a in engine.attempts.values())


def test_state_is_saved_restored_and_reported_by_status(learning_run, darwin_cli, quickstart):
    engine = learning_run({"predictor": {**PREDICTOR, "threshold": 0.0},
                           "run": {"generations": 3, "children_per_generation": 3}})
    gate = _gate_of(engine)
    finished = [a for a in engine.attempts.values() if a.status == "finished"]
    assert len(finished) == 9 and gate.observations == 9
    saved, _ = engine.storage.get_record(STATE_COLLECTION, STATE_KEY)
    assert saved["backend"] == "world-model" and saved["observations"] == 9
    assert sorted(saved["observed"]) == sorted(record_key(engine.pointer.run_id, a.id) for a in finished)

    # a new gate over the same storage (a resumed run) predicts exactly as the finished one
    store = RunStore(engine.storage, run_id=engine.pointer.run_id)
    restored = build_gate(engine.config, engine.plugins, build_context(engine.handle), store)
    assert isinstance(restored, LearningGate) and restored.observations == 9
    features = [r.features for r in restored.replay.records()]
    assert restored.predictor.predict(features) == gate.predictor.predict(features)

    result = darwin_cli("status", str(engine.run_dir), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    held_out = [a for a in finished if a.metadata["gate"]["ready"]]
    assert status["predictor"] == "world-model" and status["predictor_heldout"] == len(held_out) == 6
    assert status["gate_decisions"] == {"warmup": 3, "run": 6}
    expected = brier_score([a.metadata["gate"]["p_accept"] for a in held_out],
                           [engine.archive.get(a.child_id).status == "accepted" for a in held_out])
    assert status["predictor_brier"] == pytest.approx(expected, abs=1e-4)
    accepted = [engine.archive.get(a.child_id).status == "accepted" for a in held_out]
    rate = sum(accepted) / len(accepted)
    assert status["predictor_base_rate"] == pytest.approx(rate, abs=1e-4)
    assert status["predictor_base_brier"] == pytest.approx(brier_score([rate] * len(accepted), accepted), abs=1e-4)
    assert "predictor_auc" in status  # None when the held-out attempts are all of one class
    text = darwin_cli("status", str(engine.run_dir))
    assert "predictor_brier" in text.stdout and "replay_records" in text.stdout

    # without its saved state, the gate retrains from the replay buffer
    engine.storage.put_record(STATE_COLLECTION, STATE_KEY, {"backend": "other"}, if_version=_version(engine))
    retrained = build_gate(engine.config, engine.plugins, build_context(engine.handle), store)
    assert retrained.observations == 9


def _version(engine: Engine) -> str:
    _, version = engine.storage.get_record(STATE_COLLECTION, STATE_KEY)
    return version


def test_a_warm_start_carries_the_predictor_and_the_replay(learning_run, quickstart):
    first = learning_run({"predictor": {**PREDICTOR, "threshold": 0.0},
                          "run": {"generations": 2, "children_per_generation": 2}})
    config = load_config(write_learning_config(
        quickstart, {"predictor": {**PREDICTOR, "threshold": 0.0},
                     "run": {"generations": 1, "children_per_generation": 2}}, "warm.toml"))
    second = Engine.create(config, quickstart / "runs" / "warm")
    # a warm start copies the plugin state (collections prefixed state_) into the new run
    for collection in first.storage.collections():
        if collection.startswith("state_"):
            for key, value, _ in first.storage.scan(collection):
                second.storage.put_record(collection, key, value)
    second.run_loop()
    gate = _gate_of(second)
    assert gate.observations == 4 + 2
    new = sorted(second.attempts.values(), key=lambda a: a.id)
    assert all(a.metadata["gate"]["ready"] and a.metadata["gate"]["observations"] == 4 for a in new)
    assert len(gate.replay.query(run_id=first.pointer.run_id)) == 4
    assert len(gate.replay.query(run_id=second.pointer.run_id)) == 2


def test_bad_gate_options_are_config_errors(quickstart, darwin_cli):
    path = write_learning_config(quickstart, {"predictor": {"name": "world-model", "threshold": 2}})
    with pytest.raises(ConfigError, match=r"\[predictor\]\.threshold"):
        Engine.create(load_config(path), quickstart / "runs" / "bad").run_loop()
    path = write_learning_config(quickstart, {"predictor": {"name": "world-model", "thresold": 0.5}}, "typo.toml")
    result = darwin_cli("run", str(path), "--run-dir", str(quickstart / "runs" / "typo"), "-q")
    assert result.returncode == 2
    assert "thresold" in result.stderr and "allowed keys" in result.stderr
