"""Generator ``crossover``: the changes of two variants since their common ancestor, merged.

The engine hands the generator other variants in ``GenerationContext.inspirations`` (each with
its files, and the files of its most recent common ancestor with the parent). Per file, the
parent's and the inspiration's line hunks against the ancestor are merged: hunks that do not
overlap are all kept (the inspiration's each with probability ``take``); overlapping hunks
conflict and one side is picked at random. A merge that does not compile is retried with
another draw. With no inspiration (or with probability ``1 - rate``), the attempt is an
ordinary ``mutation`` one.
"""

from __future__ import annotations

import difflib
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, GenerationContext, Inspiration, Proposal

from .generator import MutationGenerator, MutationOptions
from .options import CrossoverOptions

Hunk = tuple[int, int, list[str]]
"""``(first, end, lines)``: base lines ``[first, end)`` become ``lines``."""




def hunks(base: list[str], other: list[str]) -> list[Hunk]:
    matcher = difflib.SequenceMatcher(a=base, b=other, autojunk=False)
    return [(i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _overlap(a: Hunk, b: Hunk) -> bool:
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]  # two insertions at the same place
    return a[0] < b[1] and b[0] < a[1] or (a[0] == a[1] and b[0] <= a[0] < b[1]) or (b[0] == b[1] and a[0] <= b[0] < a[1])


def merge(base: str, mine: str, theirs: str, rng: random.Random, take: float = 1.0) -> tuple[str, int, int]:
    """``(merged text, hunks taken from theirs, conflicts)``."""
    base_lines = base.splitlines(keepends=True)
    ours = hunks(base_lines, mine.splitlines(keepends=True))
    their = hunks(base_lines, theirs.splitlines(keepends=True))
    chosen: list[Hunk] = list(ours)
    taken = conflicts = 0
    for hunk in their:
        clashing = [h for h in chosen if _overlap(h, hunk)]
        if clashing:
            conflicts += 1
            if rng.random() < 0.5 and all(h in ours for h in clashing):
                chosen = [h for h in chosen if h not in clashing] + [hunk]
                taken += 1
        elif rng.random() < take:
            chosen.append(hunk)
            taken += 1
    out: list[str] = []
    at = 0
    for first, end, lines in sorted(chosen, key=lambda h: (h[0], h[1])):
        out.extend(base_lines[at:first])
        out.extend(lines)
        at = max(at, end)
    out.extend(base_lines[at:])
    return "".join(out), taken, conflicts


class CrossoverGenerator:
    def __init__(self, options: CrossoverOptions, mutation: MutationGenerator) -> None:
        self.options = options
        self.mutation = mutation

    def propose(self, context: GenerationContext) -> Proposal:
        rng = random.Random(context.seed ^ 0x5EED)
        usable = [i for i in context.inspirations if i.files]
        if not usable or rng.random() >= self.options.rate:
            return self.mutation.propose(context)
        other = usable[rng.randrange(len(usable))]
        for _ in range(self.options.max_tries):
            proposal = self._cross(context, other, rng)
            if proposal is not None:
                return proposal
        return self.mutation.propose(context)

    def _cross(self, context: GenerationContext, other: Inspiration, rng: random.Random) -> Proposal | None:
        base = other.ancestor_files or {}
        changes: dict[str, str | None] = {}
        taken = conflicts = 0
        for rel in sorted(set(other.files) | set(base)):
            path = context.parent_dir / rel
            mine = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
            theirs = other.files.get(rel)
            if mine is None or theirs is None or theirs == mine:
                continue  # files added or deleted on one side are left as the parent has them
            text, t, c = merge(base.get(rel, mine), mine, theirs, rng, self.options.take)
            if rel.endswith(".py"):
                try:
                    compile(text, rel, "exec")  # syntax check only; nothing is executed
                except (SyntaxError, ValueError):
                    return None
            if text != mine:
                changes[rel] = text
            taken, conflicts = taken + t, conflicts + c
        if not changes:
            return None
        return Proposal(
            changes=changes, improvement_type="crossover",
            description=f"crossover with {other.variant.id} since {other.ancestor_id or 'the parent'}: "
                        f"{taken} hunk(s) taken, {conflicts} conflict(s)",
            metadata={"family": "crossover", "families": ["crossover"], "inspiration": other.variant.id,
                      "ancestor": other.ancestor_id, "hunks": taken, "conflicts": conflicts},
        )


def create(options: CrossoverOptions, context: BuildContext) -> CrossoverGenerator:
    mutation = MutationGenerator(MutationOptions(**options.mutation), seed=context.seed)
    return CrossoverGenerator(options, mutation)
