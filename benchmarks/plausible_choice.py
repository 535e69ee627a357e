"""Choosing among plausible patches (bench_repair.py ``--plausible-extra``): criteria that pick one
of the variants passing every visible test without looking at the held-out tests.

Each plausible variant (``bench_search_loop.Outcome.plausible``) carries the attempt it was
found at, the edits and prior (product of :mod:`darwin_plugins.mutation.priors` multipliers) of
its lineage, and per visible task ``(passed, coverage)``. The criteria:

- ``first``: the first found (what a run stopping at 1.0 keeps; the baseline);
- ``prior``: the highest lineage prior, then fewest edits;
- ``edits``: the fewest edits;
- ``trace``: the least change of covered lines relative to the root on the tasks the root
  passes (Xiong et al. 2018: a correct patch changes passing tests' behaviour least);
- ``vote``: the variant whose coverage on every task the most plausible variants share;
- ``same``: the most probe calls (:func:`probes`, new inputs from the visible tests' calls)
  giving the root's output (the least change of behaviour);
- ``shared``: the most probe outputs shared with the other plausible variants (a behaviour vote);
- ``anti``: the fewest repair anti-patterns along the lineage
  (:mod:`darwin_plugins.mutation.antipatterns`: deletions, an operand dropped, an early exit
  inserted; Tan et al. 2016), then the earliest;
- ``anti_same``: the fewest anti-patterns, then ``same``;
- ``same_n``: ``same`` with probes inside list and tuple arguments too (reversed, an end
  dropped, a nested integer moved by one: ``probes(nested=True)``);
- ``engine``: the engine's rule since session 8 (``Archive._beats_best``): ``same`` (``same_n``
  when no call has a flat probe: the custom benchmark's fallback), then fewer generations from
  the root, then the earliest;
- ``oracle``: any plausible variant genuine (an upper bound, uses the held-out tests).

Ties go to the higher prior, then the earlier variant.
"""

from __future__ import annotations

import json
from typing import Any

CRITERIA = ("first", "prior", "edits", "trace", "vote", "same", "shared", "anti", "anti_same", "same_n", "engine")


def _lines(coverage: dict[str, list[int]] | None) -> set[tuple[str, int]]:
    return {(f, n) for f, ls in (coverage or {}).items() for n in ls}


def trace_change(root: dict[str, Any], variant: dict[str, Any]) -> int:
    """Covered lines added or lost, summed over the tasks the root passes."""
    total = 0
    for task, (passed, cov) in root["coverage"].items():
        if passed:
            total += len(_lines(cov) ^ _lines(variant["coverage"].get(task, (False, None))[1]))
    return total


def choose(criterion: str, root: dict[str, Any], plausible: list[dict[str, Any]]) -> int:
    """The index in ``plausible`` (non-empty, in order found) the criterion picks."""
    order = range(len(plausible))
    if criterion == "first":
        return 0
    if criterion == "prior":
        return min(order, key=lambda i: (-plausible[i]["prior"], plausible[i]["edits"], i))
    if criterion == "edits":
        return min(order, key=lambda i: (plausible[i]["edits"], i))
    if criterion == "trace":
        return min(order, key=lambda i: (trace_change(root, plausible[i]), -plausible[i]["prior"], i))
    if criterion == "vote":
        sig = [json.dumps(sorted(p["coverage"].items())) for p in plausible]
        return min(order, key=lambda i: (-sig.count(sig[i]), -plausible[i]["prior"], i))
    if criterion in ("same", "shared", "same_n"):
        return min(order, key=lambda i: (-plausible[i].get(criterion, 0), -plausible[i]["prior"], i))
    if criterion in ("anti", "anti_same"):
        from darwin_plugins.mutation.antipatterns import count

        same = criterion == "anti_same"
        return min(order, key=lambda i: (count(plausible[i].get("lineage") or [plausible[i].get("description", "")]),
                                         -plausible[i].get("same", 0) if same else 0,
                                         -plausible[i]["prior"] if same else 0, i))
    if criterion == "engine":
        key = "same" if root.get("flat") else "same_n"
        return min(order, key=lambda i: (-plausible[i].get(key, 0), len(plausible[i].get("lineage") or ()), i))
    raise ValueError(f"unknown criterion {criterion!r} (choose from {', '.join(CRITERIA)})")


def choices(outcome_plausible: list[dict[str, Any]], genuine: list[bool]) -> dict[str, bool]:
    """``{criterion: whether its pick is genuine}``, plus ``oracle``; ``genuine`` per plausible
    variant (``outcome_plausible[0]`` is the root's entry, not a candidate)."""
    root, plausible = outcome_plausible[0], outcome_plausible[1:]
    if not plausible:
        return {c: False for c in (*CRITERIA, "oracle")}
    out = {c: genuine[choose(c, root, plausible)] for c in CRITERIA}
    out["oracle"] = any(genuine)
    return out


def candidates(plausible: list[dict[str, Any]], genuine: list[bool]) -> list[dict[str, Any]]:
    """Each plausible variant's lineage, prior, probe agreements and held-out verdict (a row's
    ``candidates``: new criteria can be judged on recorded runs without running them again)."""
    keys = ("attempt", "lineage", "prior", "same", "same_n", "shared")
    return [{k: p.get(k) for k in keys} | {"genuine": g} for p, g in zip(plausible[1:], genuine)]


# ------------------------------------------------------------------ behaviour on probe inputs

PROBE_TEST = '''import {module} as _v
import _reference as _r


def _out(module, call):
    try:
        return repr(eval(call, vars(module)))
    except BaseException as exc:  # noqa: B036 - the variant's code may raise anything
        return type(exc).__name__
'''


def probes(visible: list[str], limit: int = 40, nested: bool = False) -> list[str]:
    """New calls derived from the visible tests' calls: each integer argument moved by one,
    each pair of adjacent arguments swapped (the inputs a held-out test might use)."""
    import ast

    from darwin_plugins.custom_benchmark.probes import argument_variants

    out: list[str] = []
    for expr in visible:
        for node in ast.walk(ast.parse(expr, mode="eval")):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)) or node.keywords:
                continue
            for v in argument_variants(node.args, nested):
                call = ast.unparse(ast.Call(func=node.func, args=v, keywords=[]))
                if call not in out:
                    out.append(call)
    return out[:limit]


def agreement(evaluate: Any, module: str, files: dict[str, str], reference: str,
              calls: list[str]) -> list[bool]:
    """Per probe call, whether ``files`` (the variant) and ``reference`` (a program's source)
    give the same output: run as tests in the evaluator's process, never here."""
    body = [PROBE_TEST.format(module=module)]
    for i, call in enumerate(calls, start=1):
        body.append(f"\n\ndef test_{i:02d}():\n    assert _out(_v, {call!r}) == _out(_r, {call!r})\n")
    results = evaluate("".join(body), {**files, "_reference.py": reference})
    return [r.passed for _, r in sorted(results.items())]


def add_behaviour(module: str, visible: list[str], plausible: list[dict[str, Any]], root_source: str,
                  run: Any) -> None:
    """Set ``same`` (probes agreeing with the root) and ``shared`` (agreements with the other
    plausible variants) on each plausible entry; ``run(test_text, files)`` evaluates."""
    calls, nested = probes(visible), probes(visible, nested=True)
    rel, plausible[0]["flat"] = f"{module}.py", bool(calls)
    for p in plausible[1:]:
        p["same"] = sum(agreement(run, module, p["files"], root_source, calls)) if calls else 0
        p["same_n"] = sum(agreement(run, module, p["files"], root_source, nested)) if nested else 0
        p["shared"] = sum(sum(agreement(run, module, p["files"], q["files"][rel], calls))
                          for q in plausible[1:] if q is not p) if calls else 0


class SiteFirst:
    """``extra_from="site"``: the root's edits on the lines a plausible patch touched (its lineage's
    ``descriptions``), in the generator's order, until spent; then ``propose`` gives ``None``."""

    def __init__(self, plugins: Any, generator: str, options: dict[str, Any] | None, context: Any,
                 descriptions: list[str]) -> None:
        import re

        lines = sorted({(m[1], int(m[2])) for d in descriptions for m in re.finditer(r" in (\S+) line (\d+)", d)})
        regions = [f"{rel}:{line}-{line}" for rel, line in lines]
        self.gen: Any = plugins.create("generator", generator, {**(options or {}), "regions": regions,
                                                               "perturb": 0.0, "pairs": 0}, context)
        self.k = 0

    def propose(self, ctx: Any) -> Any:
        if self.gen is None:
            return None
        own, ctx.sibling_index = ctx.sibling_index, self.k
        proposal, self.k, ctx.sibling_index = self.gen.propose(ctx), self.k + 1, own
        if not proposal.changes:
            self.gen = None
            return None
        return proposal
