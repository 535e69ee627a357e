"""Probe inputs inside list and tuple arguments (``argument_variants(nested=True)``): a program
whose only argument is a list gets probes too (reversed, an end dropped, a nested integer moved)."""

from __future__ import annotations

import ast

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
