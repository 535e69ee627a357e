"""How agent failures are reported (through Docker), and how they aim DGM's targeting."""

from __future__ import annotations

import random
from pathlib import Path

from darwin_hookspecs import Variant

from darwin_core.targeting import choose_target

CALC = "darwin-examples__calc-1"


def agent(tmp_path: Path, name: str, code: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "agent.py").write_text(code)
    return folder


def evaluate_calc(bench, variant: Path):
    task = next(t for t in bench.tasks() if t.id == CALC)
    [result] = bench.evaluate(variant, [task], None)
    return result


def test_context_length_failure_becomes_a_target(make_benchmark, tmp_path: Path) -> None:
    bench = make_benchmark(instance_ids=[CALC])
    variant = agent(tmp_path, "ctx", "import sys\nprint('openai.BadRequestError: This model's "
                    "maximum context length is 8192 tokens')\nsys.exit(1)\n")
    result = evaluate_calc(bench, variant)
    assert result.passed is False and result.failure_kind == "context_length"
    assert result.details["swebench_status"] == "empty_patch"
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted",
                     task_results={CALC: result})
    target = choose_target(parent, random.Random(0))
    assert (target.kind, target.task_id) == ("context_length", CALC)
    assert "context length" in target.description and "maximum context length" in target.log


def test_crashing_agent_is_a_crash_not_a_valid_try(make_benchmark, tmp_path: Path) -> None:
    bench = make_benchmark(instance_ids=[CALC])
    result = evaluate_calc(bench, agent(tmp_path, "crash", "def broken(:\n"))
    assert result.failure_kind == "crash" and result.details["agent_exit_code"] == 1
    assert "SyntaxError" in result.log


def test_agent_timeout_keeps_its_partial_patch(make_benchmark, tmp_path: Path) -> None:
    """The agent fixes the bug, then hangs: it is killed at the limit, its diff is graded."""
    bench = make_benchmark(instance_ids=[CALC], agent_timeout_s=3)
    code = ("import pathlib, time\np = pathlib.Path('calc/ops.py')\n"
            "p.write_text(p.read_text().replace('return a - b', 'return a + b', 1))\n"
            "print('fixed', flush=True)\ntime.sleep(600)\n")
    result = evaluate_calc(bench, agent(tmp_path, "slow", code))
    assert result.details["agent_timed_out"] is True
    assert result.passed is True and result.details["swebench_status"] == "resolved"
    assert result.duration_s < 120


def test_agent_sees_the_problem_but_not_the_answer(make_benchmark, tmp_path: Path) -> None:
    """The task files hold the public fields only, and the repository has no later history."""
    code = (
        "import json, os, subprocess\n"
        "info = json.load(open(os.environ['DARWIN_INSTANCE']))\n"
        "assert sorted(info) == ['base_commit', 'created_at', 'hints_text', 'instance_id', "
        "'problem_statement', 'repo', 'version'], sorted(info)\n"
        "assert 'add' in open(os.environ['DARWIN_PROBLEM_STATEMENT']).read()\n"
        "refs = subprocess.run(['git', 'for-each-ref'], capture_output=True, text=True).stdout\n"
        "assert refs == '', refs\n"
        "log = subprocess.run(['git', 'log', '--all', '--format=%H'], capture_output=True, text=True).stdout\n"
        "assert log.split() == [info['base_commit']], log\n"
        "assert not any(k.endswith('_KEY') or k.endswith('TOKEN') for k in os.environ), sorted(os.environ)\n"
        "open('PROOF', 'w').write('checked')\n"
    )
    bench = make_benchmark(instance_ids=[CALC])
    result = evaluate_calc(bench, agent(tmp_path, "curious", code))
    # the assertions inside the container held: the agent exited 0 and its file is the patch
    assert result.details["agent_exit_code"] == 0, result.log
    assert result.details["patch_lines"] > 0
