"""Choice rules among plausible patches, judged on recorded engine runs (an analysis aid).

    python benchmarks/plausible_rules.py ROWS.jsonl [ROWS.jsonl ...] [--extras 30 200] [--label L]
        [--programs]

``ROWS``: rows of ``bench_repair.py --engine-extras K`` (``engine_repair.py``), whose
``candidates`` hold every plausible variant of the run with its held-out verdict. The engine's
extra attempts are planned from the root whatever the archive's best is (and selection ranks by
its own index), so the run with ``plausible_extra = 30`` is the first 30 extra attempts of the
run with 200: each rule is judged at each K on the candidates found by then (``extra <= K``).
Per half: genuine per seed of each rule (a run counts when solved and the pick is genuine).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable


def agreement(one: dict[str, str], other: dict[str, str]) -> int:
    """Probes giving the same hash in two fingerprints (as :func:`darwin_core.summary.agreement`)."""
    return sum(a == b for t, hashes in one.items() if t in other for a, b in zip(hashes.split(), other[t].split()))


Rule = Callable[[dict[str, Any], list[dict[str, Any]]], int]


def _pick(cands: list[dict[str, Any]], key: Callable[[int], Any]) -> int:
    return min(range(len(cands)), key=key)


def root(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    return _pick(c, lambda i: (-c[i]["same"], c[i]["gen"], c[i]["id"]))


def first(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    return _pick(c, lambda i: c[i]["id"])


def _consensus(c: list[dict[str, Any]]) -> list[int]:
    return [sum(agreement(p["behaviour"], q["behaviour"]) for q in c if q is not p) for p in c]


def consensus(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Most probes agreeing with the other plausible patches, then the root rule."""
    votes = _consensus(c)
    return _pick(c, lambda i: (-votes[i], -c[i]["same"], c[i]["gen"], c[i]["id"]))


def both(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Most probes agreeing with the root plus the mean agreement with the others."""
    votes = _consensus(c)
    n = max(len(c) - 1, 1)
    return _pick(c, lambda i: (-(c[i]["same"] + votes[i] / n), c[i]["gen"], c[i]["id"]))


def classes(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """The largest class of identical fingerprints, then the root rule."""
    sig = [json.dumps(p["behaviour"], sort_keys=True) for p in c]
    return _pick(c, lambda i: (-sig.count(sig[i]), -c[i]["same"], c[i]["gen"], c[i]["id"]))


def diff(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Fewest changed lines against the root, then the root rule."""
    return _pick(c, lambda i: (len(c[i]["diff"]), -c[i]["same"], c[i]["gen"], c[i]["id"]))


def shallow(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Fewest generations, then the root rule."""
    return _pick(c, lambda i: (c[i]["gen"], -c[i]["same"], c[i]["id"]))


def _literals(lines: list[str]) -> set[str]:
    import io
    import tokenize

    out: set[str] = set()
    for line in lines:
        try:
            out |= {t.string for t in tokenize.generate_tokens(io.StringIO(line[1:].strip() + "\n").readline)
                    if t.type in (tokenize.NUMBER, tokenize.STRING)}
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
    return out


def literal(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Fewest literals new to the changed lines (special-casing), then the root rule."""
    new = [len(_literals([l for l in p["diff"] if l[0] == "+"]) - _literals([l for l in p["diff"] if l[0] == "-"]))
           for p in c]
    return _pick(c, lambda i: (new[i], -c[i]["same"], c[i]["gen"], c[i]["id"]))


def edits_of(p: dict[str, Any]) -> int:
    """Edits along the lineage: the last attempt's (its description's ``; ``-joined parts, the
    mutation generator's format) plus one per earlier generation (an approximation)."""
    return p["description"].count("; ") + 1 + max(p["gen"] - 1, 0)


def edits(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Fewest edits, then the root rule."""
    return _pick(c, lambda i: (edits_of(c[i]), -c[i]["same"], c[i]["gen"], c[i]["id"]))


def regions_of(p: dict[str, Any]) -> int:
    """Separate changed token runs between the removed and the added lines."""
    import difflib
    import io
    import tokenize

    def toks(lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            try:
                out += [t.string for t in tokenize.generate_tokens(io.StringIO(line[1:].strip() + "\n").readline)
                        if t.string.strip()]
            except (tokenize.TokenError, IndentationError, SyntaxError):
                out += line[1:].split()
            out.append("\n")
        return out

    old, new = toks([l for l in p["diff"] if l[0] == "-"]), toks([l for l in p["diff"] if l[0] == "+"])
    return sum(1 for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal")


def regions(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """Fewest separate changed token runs against the root, then the root rule."""
    n = [regions_of(p) for p in c]
    return _pick(c, lambda i: (n[i], -c[i]["same"], c[i]["gen"], c[i]["id"]))


def blind(run: dict[str, Any], c: list[dict[str, Any]]) -> int:
    """The engine's order without fingerprints (no probes): fewest edits, then generations."""
    return _pick(c, lambda i: (edits_of(c[i]), c[i]["gen"], c[i]["id"]))


RULES: dict[str, Rule] = {"first": first, "root": root, "consensus": consensus, "both": both,
                          "classes": classes, "diff": diff, "shallow": shallow, "literal": literal,
                          "edits": edits, "blind": blind, "regions": regions}


def judge(rows: list[dict[str, Any]], extras: list[int]) -> dict[tuple[str, int, str], dict[int, list[tuple[str, bool]]]]:
    """``{(half, K, rule): {seed: [(program, genuine)]}}`` (``oracle``: any plausible genuine)."""
    out: dict[tuple[str, int, str], dict[int, list[tuple[str, bool]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        cands = (r.get("candidates") or {}).get("plausible") or []
        for k in extras:
            c = [p for p in cands if p["extra"] <= k]
            for name, rule in [*RULES.items(), ("oracle", None)]:
                if not c:
                    g = False
                elif rule is None:
                    g = any(p["genuine"] for p in c)
                else:
                    g = c[rule(r, c)]["genuine"]
                out[(r["half"], k, name)][r["seed"]].append((r["program"], g))
    return out


def check(rows: list[dict[str, Any]], suffix: str, extras: list[int]) -> None:
    """Print where the root rule on the largest K's candidates (cut at K) differs from the
    engine's own run at K (chosen id or verdict): the prefix assumption's test."""
    big = {(r["program"], r["seed"]): r for r in rows if r.get("candidates") and r["label"].endswith(suffix)}
    same = differ = 0
    for r in rows:
        k = int(r["label"].rpartition("+")[2]) if "engine+" in r["label"] else None
        b = big.get((r["program"], r["seed"]))
        if k is None or k not in extras or b is None or b is r:
            continue
        c = [p for p in b["candidates"]["plausible"] if p["extra"] <= k]
        chosen = c[root(b, c)]["id"] if c else None
        if (chosen != r["chosen"]) if r["solved"] else bool(c):
            differ += 1
            print(f"differs: {r['program']} seed {r['seed']} K={k}: simulated {chosen}, engine {r['chosen']}")
        else:
            same += 1
    print(f"prefix check: {same} runs agree, {differ} differ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, nargs="+")
    parser.add_argument("--extras", type=int, nargs="+", default=[30, 200])
    parser.add_argument("--label", default=None, help="only rows of this label (default: labels ending engine+MAX(extras))")
    parser.add_argument("--check", action="store_true", help="the root rule at each K against the engine's own row at K")
    parser.add_argument("--programs", action="store_true", help="per program: genuine runs of each rule")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for f in args.rows for line in f.read_text().splitlines() if line.strip()]
    suffix = f"engine+{max(args.extras)}"
    if args.check:
        check(rows, suffix, args.extras)
    rows = [r for r in rows if r.get("candidates") is not None
            and (r["label"] == args.label if args.label else r["label"].endswith(suffix))]
    got = judge(rows, args.extras)
    names = [*RULES, "oracle"]
    print("| half | K | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    totals: dict[tuple[int, str], float] = defaultdict(float)
    for half in sorted({h for h, _, _ in got}):
        for k in args.extras:
            cells = []
            for name in names:
                per_seed = [sum(g for _, g in v) for v in got[(half, k, name)].values()]
                mean = sum(per_seed) / max(len(per_seed), 1)
                totals[(k, name)] += mean
                cells.append(f"{mean:.1f}")
            print(f"| {half} | {k} | " + " | ".join(cells) + " |")
    for k in args.extras:
        print(f"| total | {k} | " + " | ".join(f"{totals[(k, n)]:.1f}" for n in names) + " |")
    if args.programs:
        for half, k, name in sorted(got):
            progs: dict[str, int] = defaultdict(int)
            for v in got[(half, k, name)].values():
                for p, g in v:
                    progs[p] += g
            print(half, k, name, " ".join(f"{p}={n}" for p, n in sorted(progs.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
