"""Generator ``mutation``: offline genetic-improvement edits, a parent's neighbourhood enumerated
without replacement.

The ``k``-th attempt on a parent (``k = GenerationContext.sibling_index``) gets the ``k``-th
valid, distinct single edit of the parent's ordered neighbourhood (:mod:`.neighbourhood`); when
``k`` passes its end the proposal says so (``metadata["exhausted"]``) and selection stops
drawing that parent. With ``edits_mean > 1`` a child carries a geometric number of further
edits drawn by the same priorities. Family weights adapt to the run (:mod:`.bandit`); the
weights a parent's neighbourhood is ordered by are frozen on the parent when it is created
(``metadata["bandit"]``), so its siblings share one order and a resume finds it again.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import random
from pathlib import Path
from typing import Any

from darwin_hookspecs import BuildContext, GenerationContext, Proposal, UserError

from . import focus as aim
from . import pairs as two
from . import perturb as numeric
from . import perturb_es as lineage_es
from . import regions as evolve
from .bandit import weights
from .options import MutationOptions
from .parses import Flights, ParseCache
from .neighbourhood import Edit, Neighbourhood, NeighbourhoodCache, build
from .operators import FAMILIES, ParsedModule, apply_edits

PRIORS: dict[str, float] = {
    "comparison": 3.0, "arithmetic": 2.0, "bitwise": 1.0, "augmented": 2.0, "boolean": 2.0,
    "condition": 1.5, "constant": 2.0, "off_by_one": 3.0, "swap": 1.5, "name": 2.0,
    "attribute": 1.0, "return": 1.5, "delete": 1.0, "insert": 0.5, "move": 0.5,
    "index": 1.0, "update": 1.0,
    "method_call": 0.25, "initial": 0.25, "guard": 0.25, "builtin": 0.25,
    "continue": 0.1, "strengthen": 0.1, "weaken": 0.1,
    "method_swap": 0.25, "transform": 0.25, "wrap": 0.25, "reset": 0.25, "break": 0.1,
    "lookup": 0.5, "transplant": 0.5,
    "extend": 0.25, "negative_bound": 0.25,
    "assign": 0.5, "unpack": 0.25, "length_check": 0.25,
    "copy_paste": 0.5, "name_swap": 1.0, "systematic": 2.0, "mirror": 0.25, "bound_swap": 0.25,
    "stale_length": 0.25, "indentation": 0.25,
}
MAX_TRIED = 2000


class MutationGenerator:
    sandbox_free = True
    """``propose`` rewrites code in this process and runs none of it (see ``darwin_core.durable``)."""

    def __init__(self, options: MutationOptions, seed: int = 0) -> None:
        unknown = (set(options.families) | set(options.family_weights)) - set(FAMILIES)
        if unknown:
            raise UserError(f"[generator] families: unknown {sorted(unknown)}; known: {', '.join(FAMILIES)}")
        self.options = options
        self.seed = seed
        self.priors = {f: options.family_weights.get(f, PRIORS[f]) for f in options.families}
        self.regions = evolve.parse_specs(options.regions)
        self.parses = ParseCache()
        self.neighbourhoods = NeighbourhoodCache()
        self.building = Flights()

    # ---------------------------------------------------------------- inputs

    def _files(self, root: Path) -> list[str]:
        files = []
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or path.is_symlink():
                continue
            name_or_rel = (path.name, rel)
            if not any(fnmatch.fnmatch(x, p) for p in self.options.include for x in name_or_rel):
                continue
            if any(fnmatch.fnmatch(x, p) for p in self.options.exclude for x in name_or_rel):
                continue
            files.append(rel)
        return files

    def _neighbourhood(self, context: GenerationContext) -> Neighbourhood | None:
        sources: dict[str, str] = {}
        parsed: dict[str, ParsedModule] = {}
        spans: evolve.Regions = {}
        for rel in self._files(context.parent_dir):
            source = (context.parent_dir / rel).read_text(encoding="utf-8", errors="replace")
            module = self.parses.get(source)
            if module is None:
                continue
            sources[rel], parsed[rel] = source, module
            spans[rel] = evolve.marked(source) + self.regions.get(rel, [])
        restricted = any(spans.values())
        meta = context.parent.metadata or {}
        bandit = meta.get("bandit") if self.options.adaptive else None
        family_weights = {f: w * float((bandit or {}).get(f, 1.0)) for f, w in self.priors.items()}
        coverage = [r.coverage for r in context.parent.task_results.values() if not r.passed and r.coverage]
        if context.target.coverage and context.target.coverage not in coverage:
            coverage.append(context.target.coverage)
        passing = [r.coverage for r in context.parent.task_results.values() if r.passed and r.coverage]
        if self.options.localise != "ochiai":
            passing = []
        tried = set(meta.get("tried") or ())
        key = hashlib.sha1(repr((context.parent.id, self.seed, sorted(sources.items()),
                                 sorted(family_weights.items()), coverage, passing, sorted(tried),
                                 self.options.sharpness, self.options.tried_delay, self.options.share,
                                 self.options.complements, self.options.idioms)).encode()).hexdigest()
        cached = self.neighbourhoods.get(key)
        if cached is not None:
            return cached
        if not parsed:
            return None

        def keep(rel: str, site: Any) -> bool:
            return not restricted or evolve.inside(spans[rel], site.line, site.end_line)

        with self.building.one(key):  # the workers' first attempts on a parent build it once
            cached = self.neighbourhoods.get(key)
            if cached is not None:
                return cached
            hood = build(parsed, sources, seed=self.seed, family_weights=family_weights, coverage=coverage,
                         uncovered_weight=self.options.uncovered_weight, tried=tried, keep=keep,
                         sharpness=self.options.sharpness, tried_delay=self.options.tried_delay,
                         share=self.options.share, passing=passing, localise=self.options.localise,
                         complements=self.options.complements, idioms=self.options.idioms)
            hood.literals, hood.restricted = numeric.literals(parsed, keep), restricted
            return self.neighbourhoods.put(key, hood)

    # --------------------------------------------------------------- propose

    def propose(self, context: GenerationContext) -> Proposal:
        hood = self._neighbourhood(context)
        k = int(context.sibling_index or 0)
        share = self._perturb_share(context, hood)
        if hood is not None and share > 0.0:
            return self._numeric(context, hood, k, share)
        if hood is None or not hood.edits:
            return Proposal(changes={}, improvement_type="mutation:none",
                            description="no mutable site in the variant's Python files (or its evolve blocks)",
                            metadata={"neighbourhood": 0, "exhausted": True})
        size = len(hood.edits) + two.size(self.options.pairs)
        if self.options.pairs > 1:
            where = aim.plan(hood, self.options.pairs_focus, self.options.pairs, self.options.pairs_after,
                             self.options.pairs_early)
            turn = two.slot(hood, k, where.start, self.options.pairs, where.firsts, where.early)
            if turn is not None and turn[0]:
                pair = two.nth(hood, turn[1], self.options.pairs, where.firsts)
                assert pair is not None  # slot() checked it
                return self._pair(context, hood, k, pair)
            index = turn[1] if turn is not None else len(hood.valid)
        else:
            index = k
        found = hood.nth(index)
        if found is None:
            what = "single edits" + (" and pairs of its likeliest" if self.options.pairs > 1 else "")
            return Proposal(changes={}, improvement_type="mutation:exhausted",
                            description=f"the parent's {len(hood.valid)} distinct {what} are all tried",
                            metadata={"neighbourhood": size, "exhausted": True, "sibling_index": k})
        proposal = self._enumerated(context, hood, index, found)
        proposal.metadata["sibling_index"] = k  # the attempt's, not the single edit's index
        return proposal

    def _pair(self, context: GenerationContext, hood: Neighbourhood, k: int,
              pair: tuple[list[Edit], dict[str, str]]) -> Proposal:
        """A two-edit child (:mod:`.pairs`): the parent's single edits are all tried."""
        chosen, changes = pair
        stats = self._family_stats(context)
        tried = list((context.parent.metadata or {}).get("tried") or ()) + hood.tried_before(hood.settle())
        return Proposal(
            changes=changes, improvement_type=f"mutation:{chosen[0].site.family}",
            description="; ".join(f"{e.site.label} ({e.description}) in {e.rel} line {e.site.line}" for e in chosen),
            metadata={
                "file": chosen[0].rel, "line": chosen[0].site.line, "family": chosen[0].site.family,
                "operator": chosen[0].site.label, "families": [e.site.family for e in chosen],
                "edits": [e.key for e in chosen], "pair": True, "sibling_index": k,
                "neighbourhood": len(hood.edits) + two.size(self.options.pairs),
                "bandit": weights(stats, self._bandit_families(0.0)) if stats else {},
                "tried": tried[-MAX_TRIED:],
            },
        )

    def _enumerated(self, context: GenerationContext, hood: Neighbourhood, k: int, found: tuple[Edit, str],
                    share: float = 0.0) -> Proposal:
        """The proposal of the neighbourhood's ``k``-th mutant (plus further edits)."""
        size = len(hood.edits) + (two.size(self.options.pairs) if share == 0.0 else 0)
        primary, new_source = found
        chosen = [primary]
        changes = {primary.rel: new_source}
        rng = random.Random(context.seed)
        extra = self._extra_count(rng)
        if extra:
            chosen, changes = self._multi(hood, primary, changes, extra, rng)
        families = [e.site.family for e in chosen]
        stats = self._family_stats(context)
        tried = list((context.parent.metadata or {}).get("tried") or ()) + hood.tried_before(k)
        proposal = Proposal(
            changes=changes,
            improvement_type=f"mutation:{primary.site.family}",
            description="; ".join(f"{e.site.label} ({e.description}) in {e.rel} line {e.site.line}" for e in chosen),
            metadata={
                "file": primary.rel, "line": primary.site.line, "family": primary.site.family,
                "operator": primary.site.label, "families": families, "edits": [e.key for e in chosen],
                "sibling_index": k, "neighbourhood": size,
                "bandit": weights(stats, self._bandit_families(share)) if stats else {},
                "tried": tried[-MAX_TRIED:],
            },
        )
        if share > 0.0:  # a perturbing parent never runs out: its size is not a bound
            proposal.metadata["enumerable"] = proposal.metadata.pop("neighbourhood")
            proposal.metadata["perturb_share"] = round(share, 4)
            proposal.metadata.update(self._next_share(context, hood))
        return proposal

    # ------------------------------------------------------- numeric perturbation

    def _family_stats(self, context: GenerationContext) -> dict[str, list[int]]:
        if not self.options.adaptive:
            return {}
        return {f: list(s) for f, s in context.operator_stats.items() if f in self.priors or f == numeric.FAMILY}

    def _bandit_families(self, share: float) -> list[str]:
        return list(self.priors) + ([numeric.FAMILY] if share > 0.0 else [])

    def _perturb_share(self, context: GenerationContext, hood: Neighbourhood | None) -> float:
        if hood is None:
            return 0.0
        frozen = (context.parent.metadata or {}).get("next_share")
        if frozen is not None and self.options.perturb is None and self.options.adaptive and hood.literals:
            return float(frozen)
        bandit = (context.parent.metadata or {}).get("bandit") if self.options.adaptive else None
        multiplier = float((bandit or {}).get(numeric.FAMILY, 1.0))
        return numeric.share(self.options.perturb, hood.restricted, hood.literals, multiplier)

    def _next_share(self, context: GenerationContext, hood: Neighbourhood) -> dict[str, float]:
        """``{"next_share": ...}`` for a child's metadata: its own children's perturbation share,
        from the run's record of both kinds of edit (only when ``perturb`` is left to default)."""
        if self.options.perturb is not None or not self.options.adaptive:
            return {}
        base = numeric.share(None, hood.restricted, hood.literals, 1.0)
        return {"next_share": numeric.next_share(dict(context.operator_stats), list(self.priors), base)}

    def _plan(self, parent_id: str, k: int, share: float) -> tuple[bool, int]:
        """Whether attempt ``k`` on the parent perturbs (always below ``perturb.STALL``), and how
        many earlier ones enumerated (a hash of the run's seed, the parent and the index: the same
        on a resume)."""
        def perturbs(j: int) -> bool:
            digest = hashlib.sha256(f"{self.seed}\0{parent_id}\0perturb\0{j}".encode()).digest()
            return j < numeric.STALL or (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64 < share

        return perturbs(k), sum(not perturbs(j) for j in range(k))

    def _numeric(self, context: GenerationContext, hood: Neighbourhood, k: int, share: float) -> Proposal:
        """Attempt ``k`` on a parent with numeric literals: the next enumerated edit, or (by the
        plan, or once the enumeration is spent) a perturbation of several literals."""
        perturbs, k_enum = self._plan(context.parent.id, k, share)
        if not perturbs and hood.edits:
            found = hood.nth(k_enum)
            if found is not None:
                return self._enumerated(context, hood, k_enum, found, share)
        stats = self._family_stats(context)
        rng = random.Random(f"{context.seed}:perturb")
        moves = (context.parent.metadata or {}).get("moves")
        made, kind, es = None, None, None
        if self.options.perturb_search == "lineage":  # the lineage ES (perturb_es.py)
            found = lineage_es.propose(hood, context.parent, k - k_enum, dict(context.operator_stats),
                                       inspirations=context.inspirations, sign=lineage_es.sign_of(context.benchmark),
                                       initial_step=self.options.perturb_step, edits_mean=self.options.perturb_edits,
                                       rng=rng, read=self._literals_of)
            made, kind, es = found if found is not None else (None, None, None)
        elif moves and k - k_enum == 0:  # the first perturbation of a perturbed parent: its move again
            made = numeric.repeat(hood.parsed, hood.sources, hood.literals, moves)
        if made is None and self.options.perturb_search != "lineage":
            made = numeric.propose(hood.parsed, hood.sources, hood.literals, dict(context.operator_stats),
                                   initial_step=self.options.perturb_step, edits_mean=self.options.perturb_edits,
                                   rng=rng)
        base = {"sibling_index": k, "enumerable": len(hood.edits), "perturb_share": round(share, 4)}
        if made is None:
            return Proposal(changes={}, improvement_type="mutation:perturb",
                            description="a perturbation of the numeric literals did not compile", metadata=base)
        changes, chosen, s = made
        tried = list((context.parent.metadata or {}).get("tried") or ()) + hood.tried_before(k_enum)
        return Proposal(
            changes=changes,
            improvement_type=f"mutation:{numeric.FAMILY}",
            description="; ".join(f"{lit.value!r} -> {v!r} in {lit.rel} line {lit.site.line}" for lit, v in chosen),
            metadata={
                **base, "file": chosen[0][0].rel, "line": chosen[0][0].site.line, "family": numeric.FAMILY,
                "operator": numeric.FAMILY,
                "families": [kind or (numeric.REPEAT if s == 0.0 else numeric.FAMILY), *(lit.label for lit, _ in chosen)],
                "edits": [f"{lit.label}={v!r}" for lit, v in chosen], "step": round(s, 6),
                "moves": [[lit.label, lit.value, v] for lit, v in chosen], "repeat": (kind or "") == numeric.REPEAT or s == 0.0,
                **({"es": es} if es else {}), **self._next_share(context, hood),
                "bandit": weights(stats, self._bandit_families(share)) if stats else {},
                "tried": tried[-MAX_TRIED:],
            },
        )

    def _literals_of(self, rel: str, source: str) -> list[numeric.Literal] | None:
        """The perturbable literals of another version of ``rel`` (an inspiration's)."""
        module = self.parses.get(source)
        if module is None:
            return None
        spans = evolve.marked(source) + self.regions.get(rel, [])
        return numeric.literals({rel: module}, lambda r, site: not spans or evolve.inside(spans, site.line, site.end_line))

    def _extra_count(self, rng: random.Random) -> int:
        if self.options.edits_mean <= 1.0:
            return 0
        go_on = 1.0 - 1.0 / self.options.edits_mean
        count = 0
        while count + 1 < self.options.max_edits and rng.random() < go_on:
            count += 1
        return count

    def _multi(self, hood: Neighbourhood, primary: Edit, changes: dict[str, str], extra: int,
               rng: random.Random) -> tuple[list[Edit], dict[str, str]]:
        """Add ``extra`` edits drawn by priority (on other nodes); keep whatever still compiles."""
        keyed = sorted(hood.edits, key=lambda e: math.log(rng.random() or 1e-300) / e.weight, reverse=True)
        chosen = [primary]
        for edit in keyed[: self.options.max_tries * 4]:
            if len(chosen) > extra:
                break
            if any(edit.site.node is c.site.node for c in chosen):
                continue
            group = [c for c in chosen if c.rel == edit.rel] + [edit]
            try:
                new = apply_edits(hood.parsed[edit.rel], [(c.site, c.alt) for c in group])
                compile(new, edit.rel, "exec")
            except Exception:  # noqa: BLE001 - an incompatible combination is dropped
                continue
            if new == hood.sources[edit.rel] or new == changes.get(edit.rel):
                continue
            chosen.append(edit)
            changes = {**changes, edit.rel: new}
        return chosen, changes


def create(options: MutationOptions, context: BuildContext) -> MutationGenerator:
    return MutationGenerator(options, seed=context.seed)
