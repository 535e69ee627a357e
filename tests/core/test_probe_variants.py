"""Probe inputs inside list and tuple arguments (``argument_variants(nested=True)``): a program
whose only argument is a list gets probes too (reversed, an end dropped, a nested integer moved)."""

from __future__ import annotations

import ast
from pathlib import Path

from darwin_plugins.custom_benchmark.probes import argument_variants, container_variants


def _calls(expr: str, nested: bool) -> list[str]:
    call = ast.parse(expr, mode="eval").body
    assert isinstance(call, ast.Call)
    return [ast.unparse(ast.Tuple(elts=v, ctx=ast.Load())) for v in argument_variants(call.args, nested)]


def test_a_single_list_argument_has_probes_only_when_nested() -> None:
    assert _calls("longest_run([1, 1, 2])", nested=False) == []
    assert _calls("longest_run([1, 1, 2])", nested=True) == [
        "([2, 1, 1],)", "([1, 2],)", "([1, 1],)",  # reversed, first dropped, last dropped
        "([0, 1, 2],)", "([2, 1, 2],)", "([1, 0, 2],)", "([1, 2, 2],)", "([1, 1, 1],)", "([1, 1, 3],)"]


def test_integers_one_level_down_move_and_the_flat_probes_come_first() -> None:
    flat = _calls("earliest([(5, 'a'), (3, 'b')], 2)", nested=False)
    nested = _calls("earliest([(5, 'a'), (3, 'b')], 2)", nested=True)
    assert nested[:len(flat)] == flat and len(nested) > len(flat)
    assert "([(4, 'a'), (3, 'b')], 2)" in nested and "([(5, 'a'), (4, 'b')], 2)" in nested
    assert "([(3, 'b'), (5, 'a')], 2)" in nested  # reversed
    assert not any("'a'" in v and "'b'" in v and "(5, 'a', " in v for v in nested)  # no tuple grows


def test_short_containers_and_other_literals_give_nothing() -> None:
    for source in ("[1]", "[]", "'text'", "{1: 2}", "3"):
        assert container_variants(ast.parse(source, mode="eval").body) == []
    (probe,) = [ast.unparse(v) for v in container_variants(ast.parse("('x', 'y')", mode="eval").body)][:1]
    assert probe == "('y', 'x')"


PROGRAM = "def longest_run(xs):\n    best = run = 0\n    prev = None\n    for x in xs:\n" \
          "        run = run + 1 if x == prev else 1\n        prev = x\n        best = max(best, run)\n    return best\n"


def test_a_list_only_call_gets_fingerprints_from_the_sandbox(tmp_path: Path) -> None:
    """The custom benchmark derives nested probes for a call with one list argument (it had none
    before), runs them in the sandbox, and a changed program changes the fingerprint."""
    from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark
    from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

    (tmp_path / "program").mkdir()
    (tmp_path / "program" / "runs.py").write_text(PROGRAM)
    (tmp_path / "benchmark" / "tests").mkdir(parents=True)
    (tmp_path / "benchmark" / "tests" / "test_runs.py").write_text(
        "from runs import longest_run\n\n\ndef test_run():\n    assert longest_run([1, 1, 2]) == 2\n")
    (tmp_path / "benchmark" / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_runs.py"]\nrunner = "builtin"\nprobes = true\n')
    bench = CustomBenchmark(tmp_path / "benchmark" / "tasks.toml")
    assert [p.args for p in bench.probes][:3] == ["([2, 1, 1],)", "([1, 2],)", "([1, 1],)"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "runs.py").write_text(PROGRAM.replace("max(best, run)", "run"))
    sandbox = LocalSandbox(LocalSandboxOptions())
    try:
        tasks = bench.tasks()
        (one,) = bench.evaluate(tmp_path / "program", tasks, sandbox)
        (two,) = bench.evaluate(broken, tasks, sandbox)
    finally:
        sandbox.close()
    assert one.passed and len(one.details["probes"].split()) == len(bench.probes) == 9
    assert "!" not in one.details["probes"].split()
    assert two.details["probes"] != one.details["probes"]  # [2, 1, 1] gives 2 and 1
