"""The ``world-model`` predictor: learns online, predicts in batches, saves and restores exactly."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from darwin_core.calibration import brier_score, roc_auc
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, UserError
from darwin_plugins.world_model.model import WorldModel, WorldModelOptions

GOOD_TASKS = {"t0", "t2", "t5"}


def _sample(rng: random.Random) -> tuple[dict, dict]:
    task = f"t{rng.randrange(8)}"
    score = rng.random()
    p = 0.85 if task in GOOD_TASKS else 0.15
    accepted = rng.random() < p
    features = {"parent_score": score, "parent_children": float(rng.randrange(5)),
                "target_task": task, "generator": "mutation"}
    outcome = {"accepted": accepted, "score_delta": (0.2 if accepted else -0.3) + 0.05 * rng.random()}
    return features, outcome


def _model(**options) -> WorldModel:
    return WorldModel(WorldModelOptions(**options), seed=5)


def test_it_learns_online_what_predicts_acceptance():
    rng = random.Random(0)
    model = _model(retrain_every=10)
    cold = model.predict([_sample(rng)[0]])[0]
    assert cold.p_accept == 0.5 and cold.expected_delta == 0.0  # untrained: an uninformed prior
    for _ in range(200):
        model.observe(*_sample(rng))
    held_out = [_sample(rng) for _ in range(400)]
    predictions = model.predict([f for f, _ in held_out])
    probabilities = [p.p_accept for p in predictions]
    outcomes = [o["accepted"] for _, o in held_out]
    assert roc_auc(probabilities, outcomes) > 0.8
    assert brier_score(probabilities, outcomes) < 0.17  # a coin at the base rate scores ~0.25
    deltas = {True: [], False: []}
    for p, (_, o) in zip(predictions, held_out):
        deltas[o["accepted"]].append(p.expected_delta)
    assert sum(deltas[True]) / len(deltas[True]) > sum(deltas[False]) / len(deltas[False]) + 0.1
    assert model.metrics()["observations"] == 200


def test_state_round_trip_predicts_identically_and_keeps_learning():
    rng = random.Random(1)
    model = _model(window=64, retrain_every=10)
    for _ in range(60):
        model.observe(*_sample(rng))
    probe = [_sample(rng)[0] for _ in range(50)]
    state = model.state()
    assert len(state) < 200_000  # small enough to live in one storage record

    restored = _model(window=64, retrain_every=10)
    restored.load_state(state)
    assert [p.p_accept for p in restored.predict(probe)] == [p.p_accept for p in model.predict(probe)]
    assert restored.metrics() == model.metrics()
    sample = _sample(rng)
    for m in (model, restored):
        for _ in range(10):
            m.observe(*sample)
    assert restored.metrics()["observations"] == 70
    # the saved window is float16: training after a restore matches to about 1e-3
    for a, b in zip(restored.predict(probe), model.predict(probe)):
        assert abs(a.p_accept - b.p_accept) < 5e-3


def test_foreign_or_corrupt_state_is_a_clear_error():
    model = _model()
    with pytest.raises(UserError, match="cannot be read"):
        model.load_state(b"not a state")
    with pytest.raises(UserError, match="dims/hidden"):
        _model(dims=64).load_state(model.state())


def test_registered_with_its_extra_and_options():
    manager = PluginManager()
    spec = manager.spec("predictor", "world-model")
    assert spec.extra == "world-model" and "torch" in spec.requires
    predictor = manager.create("predictor", "world-model", {"hidden": 0, "dims": 32}, BuildContext(seed=3))
    assert predictor.predict([{"a": 1.0}])[0].p_accept == 0.5
    from darwin_core.config import ConfigError

    with pytest.raises(ConfigError, match="unknown key"):
        manager.create("predictor", "world-model", {"layers": 3}, BuildContext())


def test_missing_torch_names_the_extra():
    code = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from darwin_core.plugins import PluginManager\n"
        "from darwin_hookspecs import BuildContext, DarwinError\n"
        "try:\n"
        "    PluginManager().create('predictor', 'world-model', {}, BuildContext())\n"
        "except DarwinError as exc:\n"
        "    print(type(exc).__name__, exc.exit_code, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "MissingDependencyError 2" in out.stdout, out.stdout + out.stderr
    assert "darwin[world-model]" in out.stdout


def test_batched_encoding_matches_the_row_by_row_reference():
    import torch

    from darwin_plugins.world_model.encoding import FeatureHasher

    hasher = FeatureHasher(32)
    rng = random.Random(4)
    uniform = [_sample(rng)[0] for _ in range(200)]
    mixed = [{"a": 1.0, "b": "x"}, {"a": "s", "b": "x"}, {"a": None, "c": 2},
             {"a": float("inf"), "b": "y", "flag": True}, {"b": "x", "a": -3.0}, {}]
    # as many keys in every row, but not the same keys; a label where a number was
    same_length = [{"a": 1.0, "b": "x"}, {"a": 2.0, "c": "y"}, {"d": 3.0, "b": "z"}, {"a": "t", "b": "x"}]
    for batch in (uniform, mixed, uniform[:3] + mixed, same_length, uniform[:5] + same_length):
        rows, cols, vals = hasher.rows(batch)
        reference = torch.zeros((len(batch), 32))
        reference.index_put_((torch.tensor(rows), torch.tensor(cols)), torch.tensor(vals), accumulate=True)
        assert torch.allclose(hasher.matrix(batch, torch), reference, atol=1e-5)
    assert hasher.matrix([], torch).shape == (0, 32)
