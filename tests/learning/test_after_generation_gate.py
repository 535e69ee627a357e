"""The after-generation gate in real runs: the change is generated, reviewed with its patch
features, and evaluated only if the gate lets it through; duplicates of recorded code are
never evaluated again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from darwin_core.config import ConfigError, load_config
from darwin_core.engine import Engine
from darwin_core.gating import LearningGate
from darwin_core.patch_features import Patch, edit_signature, patch_features
from darwin_core.replay import ReplayBuffer, record_key
from darwin_core.store import RunStore
from darwin_hookspecs import GenerationContext, Proposal, Target, hookimpl

from .conftest import write_learning_config

AFTER = {"name": "world-model", "when": "after", "warmup": 3, "retrain_every": 1, "steps": 10}


def _replay(engine: Engine) -> ReplayBuffer:
    return ReplayBuffer(RunStore(engine.storage, run_id=engine.pointer.run_id))


def test_skipped_changes_are_generated_recorded_and_never_evaluated(learning_run):
    engine = learning_run({"predictor": {**AFTER, "threshold": 1.0, "exploration": 0.0},
                           "run": {"generations": 3, "children_per_generation": 3}})
    attempts = sorted(engine.attempts.values(), key=lambda a: a.id)
    reviewed = [a for a in attempts if "gate" in a.metadata]
    assert reviewed and all(a.metadata["gate"]["stage"] == "after_generation" for a in reviewed)
    skipped = [a for a in attempts if a.status == "skipped"]
    assert skipped, "threshold 1.0 skips every change once warmed up"
    replay = _replay(engine)
    for attempt in skipped:
        gate = attempt.metadata["gate"]
        assert gate["decision"] in ("skip", "duplicate", "failed_edit") and attempt.child_id is None
        proposal = attempt.metadata["proposal"]
        assert proposal["improvement_type"].startswith("mutation:")
        diff = engine.store.get_blob(proposal["patch_ref"]).decode()
        assert diff.startswith("diff --git a/") and "\n+" in diff  # the change that was not evaluated
        record = replay.get(record_key(engine.pointer.run_id, attempt.id))
        assert record is not None and record.outcome["skipped"] and record.outcome["cost"]["tasks_evaluated"] == 0
        assert record.features["patch_lines_added"] + record.features["patch_lines_removed"] >= 1
        assert record.features["patch_kind"] == proposal["improvement_type"]
    for attempt in attempts:
        if attempt.status == "finished":
            child = engine.archive.get(attempt.child_id)
            record = replay.get(record_key(engine.pointer.run_id, attempt.id))
            if child.status in ("accepted", "rejected"):
                assert record.features["patch_signature"] and "patch_files" in record.features
                assert record.decision["decision"] in ("warmup", "run", "explore")
    # the predictor learned from the evaluated changes only, before the gate closed
    gate = engine.gate
    assert isinstance(gate, LearningGate) and gate.observations >= 3
    assert len(engine.archive) == 1 + sum(a.status == "finished" for a in attempts)


class SameChangeGenerator:
    """Always proposes the same new file: every child of the root has the same code."""

    def propose(self, context: GenerationContext) -> Proposal:
        return Proposal(changes={"note.txt": "same\n"}, improvement_type="fixed:note",
                        metadata={"kind": "note"})


class SameChangePlugin:
    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        registry.add("same-change", lambda options, context: SameChangeGenerator())


@pytest.mark.parametrize("skip_duplicates", [True, False])
def test_a_change_equal_to_recorded_code_is_not_evaluated_again(learning_run, skip_duplicates):
    engine = learning_run({"generator": {"name": "same-change"},
                           "selection": {"name": "random"},
                           "predictor": {**AFTER, "threshold": 0.0, "skip_duplicates": skip_duplicates,
                                         "skip_failed_edits": 0},
                           "run": {"generations": 2, "children_per_generation": 3}},
                          extra_plugins=[SameChangePlugin()])
    attempts = sorted(engine.attempts.values(), key=lambda a: a.id)
    from_root = [a for a in attempts if a.parent_id == "v0000root"]
    assert len(from_root) >= 3
    evaluated = [a for a in from_root if a.status == "finished"]
    duplicates = [a for a in from_root if a.metadata.get("gate", {}).get("decision") == "duplicate"]
    if skip_duplicates:
        assert len(evaluated) == 1 and len(duplicates) == len(from_root) - 1
        first = engine.archive.get(evaluated[0].child_id)
        assert all(a.status == "skipped" and a.metadata["gate"]["duplicate_of"] == first.id for a in duplicates)
    else:
        assert not duplicates and len(evaluated) == len(from_root)
    # children of a child propose no change at all: invalid, never reviewed
    for attempt in attempts:
        if attempt.parent_id != "v0000root":
            assert engine.archive.get(attempt.child_id).status == "invalid"
            assert "gate" not in attempt.metadata or not attempt.metadata["gate"]


def test_when_must_be_before_or_after(quickstart: Path):
    path = write_learning_config(quickstart, {"predictor": {"name": "world-model", "when": "during"}})
    with pytest.raises(ConfigError, match=r"\[predictor\]\.when"):
        Engine.create(load_config(path), quickstart / "runs" / "bad").run_loop()


def test_patch_features_describe_the_change():
    old = {"pkg/mod.py": b"a = 1\nb = 2\nc = 3\n", "tests/test_mod.py": b"x\n"}
    new = {"pkg/mod.py": b"a = 1\nb = 20\nc = 3\nd = 4\n", "tests/test_mod.py": None, "pkg/new.py": b"n\n"}
    patch = Patch(proposal=Proposal(changes={}, improvement_type="llm:edit",
                                    metadata={"operator": "swap", "tries": 2, "long": "x" * 200}),
                  old=old, new=new)
    assert patch.added == 1 + 1 + 1 and patch.removed == 1 + 1
    assert patch.changed_lines == {"pkg/mod.py": [2, 3], "tests/test_mod.py": [1], "pkg/new.py": [1]}
    target = Target(kind="failing_task", task_id="t", coverage={"pkg/mod.py": [2]})
    features = patch_features(patch, target, {"patch_seen_attempts": 0.0})
    assert features["patch_files"] == 3 and features["patch_new_files"] == 1 and features["patch_deleted_files"] == 1
    assert features["patch_touches_tests"] == 1.0 and features["patch_kind"] == "llm:edit"
    assert features["patch_target_coverage"] == pytest.approx(1 / 4)
    assert features["patch_meta_operator"] == "swap" and features["patch_meta_tries"] == 2.0
    assert "patch_meta_long" not in features  # free text is not a category
    # the same edit on another parent has the same signature; another edit does not
    other_parent = {"pkg/mod.py": b"z = 0\nb = 2\n"}
    assert edit_signature(other_parent, {"pkg/mod.py": b"z = 0\nb = 20\n"}) == \
        edit_signature({"pkg/mod.py": b"b = 2\n"}, {"pkg/mod.py": b"b = 20\n"})
    assert edit_signature(old, {"pkg/mod.py": b"a = 1\nb = 21\nc = 3\n"}) != \
        edit_signature(old, {"pkg/mod.py": b"a = 1\nb = 20\nc = 3\n"})


class AppendGenerator:
    """Appends the same line to ``note.txt``: the same edit on every parent, a new tree each time."""

    def propose(self, context: GenerationContext) -> Proposal:
        note = context.parent_dir / "note.txt"
        text = note.read_text() if note.exists() else ""
        return Proposal(changes={"note.txt": text + "same\n"}, improvement_type="fixed:append")


class AppendPlugin:
    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        registry.add("append", lambda options, context: AppendGenerator())


@pytest.mark.parametrize("limit", [1, 0])
def test_an_edit_that_never_improved_is_not_evaluated_again(learning_run, limit):
    engine = learning_run({"generator": {"name": "append"}, "selection": {"name": "random"},
                           "predictor": {**AFTER, "threshold": 0.0, "skip_failed_edits": limit},
                           "run": {"generations": 3, "children_per_generation": 3}},
                          extra_plugins=[AppendPlugin()])
    attempts = sorted(engine.attempts.values(), key=lambda a: a.id)
    decisions = {a.id: a.metadata.get("gate", {}).get("decision") for a in attempts}
    deeper = [a for a in attempts if a.parent_id != "v0000root"]
    assert deeper, "random selection picks a child as parent at least once with this seed"
    if limit:
        # the first child showed that appending the line changes no test outcome
        assert all(decisions[a.id] == "failed_edit" and a.status == "skipped" for a in deeper)
    else:
        assert all(decisions[a.id] != "failed_edit" and a.status == "finished" for a in deeper)
    assert sum(a.status == "finished" for a in attempts if a.parent_id == "v0000root") == 1  # duplicates


def test_the_rules_run_without_torch_on_the_base_rate_predictor(learning_run):
    engine = learning_run({"predictor": {"name": "base-rate", "when": "after", "threshold": 0.0, "warmup": 2},
                           "run": {"generations": 3, "children_per_generation": 3}})
    gate = engine.gate
    assert isinstance(gate, LearningGate) and gate.predictor_name == "base-rate"
    reviewed = [r for r in gate.replay.records() if r.decision.get("stage") == "after_generation"]
    assert reviewed and all(r.decision["predictor"] == "base-rate" for r in reviewed)
    learned = [r for r in reviewed if r.trainable]
    accepted = sum(r.outcome["accepted"] for r in learned)
    [prediction] = gate.predictor.predict([{}])
    assert prediction.p_accept == pytest.approx((accepted + 1) / (len(learned) + 2))
    # nothing of it needs torch
    code = ("import sys; sys.modules['torch'] = None\n"
            "from darwin_core.plugins import PluginManager\n"
            "from darwin_hookspecs import BuildContext\n"
            "p = PluginManager().create('predictor', 'base-rate', {}, BuildContext(run_id='x'))\n"
            "p.observe({}, {'accepted': True, 'score_delta': 0.5})\n"
            "print(p.predict([{}, {}]))\n")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("p_accept=0.666") == 2 and "expected_delta=0.5" in out.stdout


def test_the_improved_objective_teaches_and_scores_improvement(learning_run, darwin_cli):
    import json

    engine = learning_run({"predictor": {"name": "base-rate", "objective": "improved", "threshold": 0.0, "warmup": 2},
                           "run": {"generations": 3, "children_per_generation": 3}})
    gate = engine.gate
    learned = [r for r in gate.replay.records() if r.trainable]
    improved = sum(r.outcome["failure_kind"] is None for r in learned)
    accepted = sum(r.outcome["accepted"] for r in learned)
    assert improved < accepted  # the two labels differ on this run
    [prediction] = gate.predictor.predict([{}])
    assert prediction.p_accept == pytest.approx((improved + 1) / (len(learned) + 2))
    held_out = [r for r in learned if r.decision.get("ready")]
    assert held_out and all(r.decision["objective"] == "improved" for r in held_out)
    status = json.loads(darwin_cli("status", str(engine.run_dir), "--json").stdout)
    rate = sum(r.outcome["failure_kind"] is None for r in held_out) / len(held_out)
    assert status["predictor_base_rate"] == pytest.approx(rate, abs=1e-4)


def test_the_gated_quickstart_example_runs_on_a_core_install(quickstart: Path, darwin_cli):
    """examples/quickstart/gated.toml as shipped, with fewer generations."""
    import json
    import re

    config = quickstart / "gated.toml"
    config.write_text(re.sub(r"(?m)^generations = \d+", "generations = 6", config.read_text()))
    run_dir = quickstart / "runs" / "gated"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    decisions = status["gate_decisions"]
    assert status["predictor"] == "base-rate" and decisions.get("run", 0) > 0
    assert set(decisions) <= {"run", "duplicate", "failed_edit"}  # threshold 0: only the rules skip
    assert status["best_score"] > status["initial_score"]
