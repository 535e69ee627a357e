"""Noise: a deliberately flaky instance evaluated several times on identical code."""

from __future__ import annotations

from darwin_hookspecs import TaskResult

from darwin_plugins.swebench.noise import combine

from .conftest import EXAMPLE

CLOCK, CALC = "darwin-examples__clock-1", "darwin-examples__calc-1"


def test_flaky_instance_is_detected_and_weighted(make_benchmark) -> None:
    bench = make_benchmark(instance_ids=[CLOCK, CALC], repeats=2)
    tasks = {t.id: t for t in bench.tasks()}
    results = {r.task_id: r for r in bench.evaluate(EXAMPLE / "agent", list(tasks.values()), None)}
    clock = results[CLOCK]
    # identical agent code and identical patch, yet the result flips between the two runs
    assert clock.runs == 2 and clock.flaky is True
    assert clock.details["run_outcomes"] == ["resolved", "unresolved"]
    assert clock.score == 0.5 and clock.passed is False
    assert clock.details["target_kind"] == "stochastic"
    calc = results[CALC]
    assert calc.runs == 2 and calc.flaky is False and calc.passed is True and calc.score == 1.0
    # each repeat is its own official evaluation run, with its own summary
    model = calc.details["model_name_or_path"]
    first = (bench.output_dir / f"{model}.test-run.json").read_text()
    second = (bench.output_dir / f"{model}.test-run.r1.json").read_text()
    assert CLOCK in first.split('"resolved_ids"')[1].split("]")[0]
    assert CLOCK in second.split('"unresolved_ids"')[1].split("]")[0]


def _r(passed: bool, score: float | None = None) -> TaskResult:
    return TaskResult(task_id="t", passed=passed, score=float(passed) if score is None else score,
                      failure_kind=None if passed else "fail")


def test_combine_rules() -> None:
    assert combine([_r(True)]).runs == 1
    steady = combine([_r(False), _r(False), _r(False)])
    assert (steady.flaky, steady.passed, steady.score, steady.runs) == (False, False, 0.0, 3)
    majority = combine([_r(True), _r(False), _r(True)])
    assert majority.flaky and majority.passed and majority.failure_kind is None
    assert abs(majority.score - 2 / 3) < 1e-9
    assert "target_kind" not in majority.details  # passed: nothing to aim at
    minority = combine([_r(False), _r(True), _r(False)])
    assert minority.flaky and not minority.passed and minority.failure_kind == "fail"

