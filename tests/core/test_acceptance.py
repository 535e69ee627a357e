"""Noise-aware acceptance: margins and the sign test on paired task results, flaky tasks
down-weighted, and the ``[acceptance]`` config section (also through a real run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darwin_hookspecs import TaskResult, Variant

from darwin_core.acceptance import AcceptanceSection, compare, judge, sign_test_p
from darwin_core.config import ConfigError, config_from_dict, load_config
from darwin_core.reader import open_run

from support import quick_config


def res(task: str, passed: bool, flaky: bool = False, score: float | None = None) -> TaskResult:
    return TaskResult(task_id=task, passed=passed, score=float(passed) if score is None else score,
                      flaky=flaky, runs=3 if flaky else 1)


def parent_with(*results: TaskResult) -> Variant:
    return Variant(id="vp", parent_id=None, generation=0, status="accepted",
                   task_results={r.task_id: r for r in results})


def config(**acceptance: object):
    return config_from_dict({"run": {"initial": "."}, "acceptance": acceptance})


def test_default_rule_accepts_like_dgm() -> None:
    parent = parent_with(res("a", True), res("b", True))
    status, _ = judge(config(), 0.0, parent, None, [res("a", False), res("b", False)])
    assert status == "accepted"


def test_margin_rule_on_shared_tasks() -> None:
    parent = parent_with(res("a", False), res("b", True), res("c", False), res("d", False))
    better = [res("a", True), res("b", True), res("c", False)]  # d not evaluated: not compared
    cfg = config(rule="margin", margin=0.3)
    assert judge(cfg, 0.5, parent, None, better)[0] == "accepted"  # gain 1/3 on 3 shared
    status, reason = judge(config(rule="margin", margin=0.5), 0.5, parent, None, better)
    assert status == "rejected" and "below the margin" in reason
    same = [res("a", False), res("b", True)]
    assert judge(config(rule="margin", margin=0.0), 0.25, parent, None, same)[0] == "accepted"
    worse = [res("a", False), res("b", False)]
    assert judge(config(rule="margin", margin=0.0), 0.0, parent, None, worse)[0] == "rejected"


def test_flaky_gain_does_not_count_as_improvement() -> None:
    """The only 'improvement' is on a task that flips on identical code: rejected by default,
    accepted when flaky tasks are given full weight."""
    parent = parent_with(res("a", False, flaky=True, score=0.0), res("b", True))
    child = [res("a", True, flaky=True, score=1.0), res("b", True)]
    status, reason = judge(config(rule="margin", margin=0.1), 1.0, parent, None, child)
    assert status == "rejected" and "+0.0000" in reason
    assert judge(config(rule="margin", margin=0.1, flaky_weight=1.0), 1.0, parent, None, child)[0] == "accepted"
    everything_flaky = parent_with(res("a", False, flaky=True))
    status, reason = judge(config(rule="margin"), 1.0, everything_flaky, None,
                           [res("a", True, flaky=True)])
    assert status == "rejected" and "flaky" in reason


def test_sign_test_needs_enough_wins() -> None:
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(5, 0) == pytest.approx(1 / 32)
    assert sign_test_p(4, 1) == pytest.approx(6 / 32)
    n = 8
    parent = parent_with(*[res(f"t{i}", False) for i in range(n)])
    cfg = config(rule="sign_test", alpha=0.05)
    five_wins = [res(f"t{i}", i < 5) for i in range(n)]
    assert judge(cfg, 5 / n, parent, None, five_wins)[0] == "accepted"  # p = 1/32
    four_wins = [res(f"t{i}", i < 4) for i in range(n)]
    status, reason = judge(cfg, 4 / n, parent, None, four_wins)
    assert status == "rejected" and "p=0.0625" in reason
    # flaky tasks are left out of the test entirely
    flaky_wins = [res(f"t{i}", i < 5, flaky=i < 2) for i in range(n)]
    status, reason = judge(cfg, 5 / n, parent, None, flaky_wins)
    assert status == "rejected" and "3 win(s)" in reason


def test_no_shared_task_is_rejected() -> None:
    parent = parent_with(res("a", True))
    status, reason = compare(AcceptanceSection(rule="margin"), [res("z", True)], parent)
    assert status == "rejected" and "0 task(s) shared" in reason


def test_keep_better_still_applies_first() -> None:
    cfg = config_from_dict({"run": {"initial": ".", "archive_policy": "keep_better",
                                    "keep_better_margin": 0.0}})
    root = parent_with(res("a", True))
    root.score = 1.0
    status, reason = judge(cfg, 0.0, root, root, [res("a", False)])
    assert status == "rejected" and "keep_better" in reason


def test_acceptance_section_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "darwin.toml"
    path.write_text('[run]\ninitial = "."\n[acceptance]\nrule = "t_test"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert "acceptance.rule" in str(exc.value)
    path.write_text('[run]\ninitial = "."\n[acceptance]\nrule = "margin"\nmargn = 0.1\n')
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert "unknown key 'acceptance.margn'" in str(exc.value) and "margin" in str(exc.value)
    path.write_text('[run]\ninitial = "."\n[acceptance]\nrule = "sign_test"\nalpha = 0.1\n')
    assert load_config(path).acceptance.alpha == 0.1


def test_run_with_an_impossible_margin_rejects_every_child(quickstart: Path, tmp_path: Path,
                                                         darwin_cli) -> None:
    """Through the engine: with margin 1.0 no child can be accepted, and each says why."""
    config_path = quick_config(quickstart, generations=1, children_per_generation=2)
    config_path.write_text(config_path.read_text() + "[acceptance]\nrule = \"margin\"\nmargin = 1.0\n")
    proc = darwin_cli("run", str(config_path), "--run-dir", str(tmp_path / "run"), "-q")
    assert proc.returncode == 0, proc.stderr[-2000:]
    view = open_run(tmp_path / "run")
    children = [v for v in view.variants if v.parent_id is not None]
    assert children
    judged = [v for v in children if v.status in ("accepted", "rejected")]
    assert judged, [(v.status, v.reason) for v in children]
    for child in judged:
        assert child.status == "rejected" and "below the margin 1.0000" in child.reason
