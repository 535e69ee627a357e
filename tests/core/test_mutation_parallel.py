"""Edits over parallel code: a copy's unadapted name (``copy_paste``), two names exchanged
(``name_swap``), one edit at every site of one shape (``systematic``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from darwin_plugins.mutation.operators.parallel import ANALOGY
from darwin_plugins.mutation.operators.shapes import Shapes, skeleton, variables
from darwin_plugins.mutation.operators.systematic import MAX_SITES

import libcst as cst

from mutation_support import context, texts, weights

GRID = ("def inside(grid, r, c, dr, dc):\n    rows, cols = len(grid), len(grid[0])\n"
        "    nr, nc = r + dr, c + dc\n    return 0 <= nr < rows and 0 <= nc < rows\n")
ALLOC = ("def alloc(a, b):\n    n, m, p = len(a), len(b), len(b[0])\n"
         "    out = [[0] * n for _ in range(p)]\n    out.append(m)\n    return out\n")
SPIRAL = ("def backward(xs, top, bottom, left, right):\n    out = []\n"
          "    for c in range(right, left, -1):\n        out.append(xs[bottom][c])\n"
          "    for r in range(bottom, top, -1):\n        out.append(xs[r][left])\n    return out\n")


def test_skeleton_blanks_variables_only() -> None:
    one = cst.parse_expression("0 <= nr < rows")
    two = cst.parse_expression("0<=nc<cols")
    assert skeleton(one) == skeleton(two) == "0<=_<_"
    assert skeleton(cst.parse_expression("len(a.x)")) == "len(_.x)"  # called names, attributes kept


def test_shapes_from_one_code_generation_equal_the_per_node_functions() -> None:
    module = cst.parse_module(GRID + ALLOC + SPIRAL + "def g(d, k):\n    return f(k, key=d.get(k)) + (k)\n")
    nodes: list[cst.BaseExpression] = []

    class _V(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.BaseExpression):
                nodes.append(node)
            return True
    module.visit(_V())
    shapes = Shapes(module)
    assert len(nodes) > 60
    for node in nodes:
        assert shapes.skeleton(node) == skeleton(node)
        assert [id(n) for n in shapes.variables(node)] == [id(n) for n in variables(node)]
    assert shapes.skeleton(cst.parse_expression("a + b")) == "_+_"  # a node from elsewhere


def test_copy_paste_adapts_the_shared_name_by_analogy(tmp_path: Path) -> None:
    found = texts(tmp_path, GRID, "copy_paste")
    (tmp_path / "m.py").write_text(GRID)
    hood = MutationGenerator(MutationOptions(pairs=0, families=["copy_paste"]))._neighbourhood(context(0, tmp_path))
    assert hood is not None and len(hood.edits) == 2
    # the second copy's ``rows`` (``nc`` stands to ``nr`` as ``cols`` to ``rows``) weighs ANALOGY,
    # the first copy's ``rows`` (a partner, no analogy) 1
    second, first = sorted(hood.edits, key=lambda e: -e.weight)
    assert abs(second.weight - ANALOGY * first.weight) < 1e-12
    assert second.site.node.value == "rows" and GRID.index("rows and") < GRID.index("nc < rows")
    assert sorted(found) == sorted([GRID.replace("0 <= nr < rows", "0 <= nr < cols"),
                                    GRID.replace("0 <= nc < rows", "0 <= nc < cols")])


def test_copy_paste_needs_copies_that_differ_and_share_and_a_partner(tmp_path: Path) -> None:
    # copies share nothing: no edit
    assert texts(tmp_path, GRID.replace("0 <= nc < rows", "0 <= nc < cols"), "copy_paste") == []
    # copies identical: nothing tells which name was adapted
    assert texts(tmp_path, GRID.replace("0 <= nc < rows", "0 <= nr < rows"), "copy_paste") == []
    # ``lim`` bound alone: no partner to become
    assert texts(tmp_path, "def f(xs, ys):\n    lim = 3\n    return len(xs) < lim and len(ys) < lim\n",
                 "copy_paste") == []
    # different shapes
    assert texts(tmp_path, GRID.replace("0 <= nc < rows", "nc < rows"), "copy_paste") == []


def test_name_swap_exchanges_two_locals_of_one_expression(tmp_path: Path) -> None:
    found = texts(tmp_path, ALLOC, "name_swap")
    assert ALLOC.replace("[[0] * n for _ in range(p)]", "[[0] * p for _ in range(n)]") in found
    # the comprehension's own variable, a called name and a method's receiver are never swapped
    assert not any("range(_)" in t or "len(n)" in t or "[[0] * _" in t for t in found)
    assert not any("m.append(out)" in t for t in found)
    w = weights(tmp_path, ALLOC, "name_swap")
    # ``n``, ``m``, ``p`` are bound together, so are the parameters ``a``, ``b``: both ANALOGY
    assert abs(w["3: n <-> p"] - w["2: a <-> b"]) < 1e-12
    # two parameters weigh ANALOGY against two names bound apart
    w = weights(tmp_path, "def f(a, b):\n    t = 0\n    s = 1\n    return (a - b, t - s)\n", "name_swap")
    assert abs(w["4: a <-> b"] - ANALOGY * w["4: t <-> s"]) < 1e-12 and len(w) == 6
    assert texts(tmp_path, "def f(x):\n    return x + 1\n", "name_swap") == []


def test_systematic_repeats_one_edit_at_every_site_of_a_shape(tmp_path: Path) -> None:
    found = texts(tmp_path, SPIRAL, "systematic")
    fixed = SPIRAL.replace("range(right, left, -1)", "range(right, (left - 1), -1)").replace(
        "range(bottom, top, -1)", "range(bottom, (top - 1), -1)")
    assert fixed in found
    # each mutant changes two lines (the two sites of its shape)
    assert all(sum(a != b for a, b in zip(t.splitlines(), SPIRAL.splitlines())) == 2 for t in found)
    # a shape at one site only: nothing
    single = "def f(xs, a, b):\n    for c in range(a, b, -1):\n        xs.append(c)\n    return xs\n"
    assert texts(tmp_path, single, "systematic") == []


def test_systematic_is_not_an_analogy_at_many_sites_nor_far_operators(tmp_path: Path) -> None:
    many = "def f(a, b):\n" + "".join(f"    x{i} = a < b\n" for i in range(MAX_SITES + 1)) + "    return x0\n"
    assert texts(tmp_path, many, "systematic") == []
    two = "def f(a, b, c, d):\n    x = a < b\n    y = c < d\n    return x, y\n"
    found = texts(tmp_path, two, "systematic")
    assert "def f(a, b, c, d):\n    x = a <= b\n    y = c <= d\n    return x, y\n" in found
    assert not any("==" in t or "!=" in t for t in found)  # ``<`` to ``==`` is no near miss


def test_a_systematic_edit_composes_with_another_edit_of_its_function() -> None:
    from darwin_plugins.mutation.operators import apply_edits, parse_module

    parsed = parse_module(SPIRAL)
    systematic = next(s for s in parsed.sites if s.family == "systematic" and s.label == "systematic-range-bound"
                      and any("argument 2 - 1" in d for d, _ in s.alternatives))
    alt = next(i for i, (d, _) in enumerate(systematic.alternatives) if "argument 2 - 1" in d)
    delete = next(s for s in parsed.sites if s.family == "delete" and s.line == 2)  # ``out = []``
    both = apply_edits(parsed, [(systematic, alt), (delete, 0)])
    assert "(left - 1)" in both and "(top - 1)" in both and "out = []" not in both
