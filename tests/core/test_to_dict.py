"""``to_dict`` gives what ``dataclasses.asdict`` then JSON normalisation gives, in one pass."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from darwin_hookspecs import Attempt, TaskResult, Variant, to_dict
from darwin_hookspecs.records import Target


def _reference(record: object) -> object:
    """asdict (deep copies), then tuples to lists, keys and paths to strings (JSON types)."""
    return json.loads(json.dumps(dataclasses.asdict(record), default=str))


def test_to_dict_equals_asdict_normalised_on_nested_records() -> None:
    results = {
        f"t{i}": TaskResult(task_id=f"t{i}", passed=i % 2 == 0, score=i / 3, log="x" * i,
                            metrics={"m": float(i)}, details={"path": Path(f"/tmp/f{i}"), "pair": (i, "a"),
                                                               "nested": [{"k": (1, 2)}], 3: "int key"})
        for i in range(4)
    }
    variant = Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted", score=0.5,
                      task_results=results, target=Target(kind="explore", task_id="t1", coverage={"a.py": [1, 2]}),
                      metadata={"edits": ("a", "b"), "deep": {"x": [Path("p"), None, True]}})
    attempt = Attempt(id="g0001a000", generation=1, index=0, seed=7, parent_id="v0000root",
                      metadata={"gate": {"p": 0.5}, "tuple": (1.5, "z")})
    for record in (variant, attempt, results["t3"]):
        got = to_dict(record)
        assert got == _reference(record)
        assert json.loads(json.dumps(got)) == got  # JSON types only: nothing left to convert
    assert to_dict(variant)["task_results"]["t2"]["details"]["3"] == "int key"
    assert Variant.from_dict(to_dict(variant)).task_results["t1"].score == results["t1"].score
