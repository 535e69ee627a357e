"""The archive: every recorded variant as a tree, and the best-so-far.

The best variant is the best-scoring accepted variant evaluated on every stage (highest, or
lowest when the objective minimises); ties keep the earlier one (in id order), so a later
variant displaces it only by scoring strictly better. With ``behaviour_ties`` (``[run]
plausible_extra > 0``, docs/search.md) a tie goes first to the variant fewer edits from the
root (:attr:`VariantSummary.edits` along its lineage: a pair of edits counts two), then to the one
whose behaviour fingerprint (:attr:`VariantSummary.behaviour`) agrees most with the root's (the
least change of behaviour), then to the one fewer generations from the root, then to the
earlier: a total order on the records, so a resume chooses the same.

The archive indexes :class:`~darwin_core.summary.VariantSummary` records (what opening a run
reads) and decodes full variants only when one is asked for (:meth:`Archive.get`,
:meth:`Archive.variants`...), through the loader the run handle gives it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict, deque
from typing import Callable, Iterable

from darwin_hookspecs import Objective, Variant

from .summary import VariantSummary, agreement

Loader = Callable[[list[str]], Iterable[Variant]]
"""Decodes the variants of the given ids (any order; every id must be found)."""
_SINGLY = 256
"""Variants decoded a few at a time before the archive decodes all the rest at once."""
_KEEP = 1024
"""Recorded (or decoded again) variants kept whole, the newest; older ones are dropped to their
summary and decoded again when asked for, unless the whole archive was asked for (a strategy
reading every variant keeps them all): the engine's memory per attempt is then a summary's."""


class Archive:
    """In-memory index of a run's variants (the storage holds the durable copy).

    Variants are kept in id order (generation, then attempt index), not completion order, so
    that selection is reproducible whatever the executor's timing.
    """

    def __init__(self, last_stage: int = 0, objective: Objective | None = None,
                 loader: Loader | None = None, behaviour_ties: bool = False) -> None:
        self.last_stage = last_stage
        self.behaviour_ties = behaviour_ties
        """Break score ties by agreement with the root's behaviour fingerprint (see above)."""
        self.objective = objective or Objective()
        self.loader = loader
        self._summaries: dict[str, VariantSummary] = {}
        self._variants: dict[str, Variant] = {}  # decoded so far
        self._order: list[str] = []
        self._children: dict[str, list[str]] = defaultdict(list)
        self._added: list[str] = []  # insertion order (the archive only grows)
        self.best_id: str | None = None
        self._decoded_singly = 0
        self._recent: deque[str] = deque()  # whole variants that may be dropped, oldest first
        self._dropped: set[str] = set()
        self._keep_all = False
        self._ranked: list[tuple[float, str]] = []  # accepted, best first: (-fitness, id)
        self._branch: dict[str, str | None] = {}
        self._per_branch: dict[str | None, int] = defaultdict(int)  # accepted per branch
        self._ranked_in: dict[str | None, list[tuple[float, str]]] = defaultdict(list)  # per branch
        self.epoch = 0
        """Bumped when a held variant is replaced: incremental indexes built on
        :meth:`summaries_since` start again from 0 when it changes."""

    # ---------------------------------------------------------------- ArchiveView

    def variants(self) -> list[Variant]:
        self._keep_all = True
        return self._fetch(self._order)

    def selectable(self) -> list[Variant]:
        self._keep_all = True
        ids = [i for i in self._order if self._summaries[i].status == "accepted"]
        return self._fetch(ids)

    def children(self, variant_id: str) -> list[Variant]:
        return self._fetch(self._children.get(variant_id, []))

    def get(self, variant_id: str) -> Variant:
        variant = self._variants.get(variant_id)
        if variant is None:
            if variant_id not in self._summaries:
                raise KeyError(variant_id)
            variant = self._fetch([variant_id])[0]
        return variant

    def added_since(self, count: int) -> list[Variant]:
        """The variants added after the first ``count``, in the order they were added."""
        return self._fetch(self._added[count:])

    # ------------------------------------------------------------ summaries

    def summary(self, variant_id: str) -> VariantSummary:
        return self._summaries[variant_id]

    def summaries(self) -> list[VariantSummary]:
        """Every variant's summary, in id order (nothing is decoded)."""
        return [self._summaries[i] for i in self._order]

    def summaries_since(self, count: int) -> list[VariantSummary]:
        """Summaries of the variants added after the first ``count``, in the order they were
        added (what incremental indexes, e.g. selection's, consume)."""
        return [self._summaries[i] for i in self._added[count:]]

    def child_count(self, variant_id: str) -> int:
        return len(self._children.get(variant_id, ()))

    def child_ids(self, variant_id: str) -> list[str]:
        return list(self._children.get(variant_id, ()))

    def ids(self) -> list[str]:
        return list(self._order)

    def ranked_accepted(self) -> list[tuple[float, str]]:
        """``(-fitness, id)`` of every accepted variant, best first in the objective's direction
        (ties in id order); read it, never change it."""
        return self._ranked

    def branch(self, variant_id: str) -> str:
        """The child of the root that ``variant_id`` descends from (the root for the root)."""
        branch = self._branch.get(variant_id)
        if branch is None:  # indexed before its parent was
            chain = self.lineage(variant_id)
            branch = chain[1] if len(chain) > 1 else chain[0]
        return branch

    def accepted_in_branch(self, branch: str) -> int:
        if self._per_branch.get(None):  # some branch was unknown when indexed: count now
            return sum(1 for _, i in self._ranked if self.branch(i) == branch)
        return self._per_branch[branch]

    def ranked_in_branch(self, branch: str) -> list[tuple[float, str]] | None:
        """The entries of :meth:`ranked_accepted` in ``branch``, in the same order (read it,
        never change it); ``None`` while some variant's branch is unknown (indexed before its
        parent)."""
        if self._per_branch.get(None):
            return None
        return self._ranked_in.get(branch, [])

    def rank_key(self, variant_id: str) -> tuple[float, str] | None:
        """``variant_id``'s entry in :meth:`ranked_accepted` (``None`` unless accepted)."""
        summary = self._summaries.get(variant_id)
        return self._key(summary) if summary is not None and summary.status == "accepted" else None

    def _fetch(self, ids: list[str]) -> list[Variant]:
        """The variants ``ids``, decoding those not held. Collected as they are found: holding
        a decoded one may drop an older one of the same ``ids`` from the held set."""
        held = self._variants
        found = {i: held[i] for i in ids if i in held}
        if len(found) < len(ids):
            self._decode([i for i in ids if i not in found], found)
        return [found[i] for i in ids]

    def _decode(self, ids: list[str], found: dict[str, Variant]) -> None:
        missing = ids
        if self.loader is None:
            raise KeyError(f"variant {missing[0]} is indexed but cannot be decoded (no loader)")
        self._decoded_singly += sum(1 for i in missing if i not in self._dropped)
        if self._decoded_singly > _SINGLY:  # asked for one by one, all in the end: one bulk read
            missing = [i for i in self._order if i not in self._variants]
        for variant in self.loader(missing):
            self._variants[variant.id] = found[variant.id] = variant
            if variant.id in self._dropped:
                self._dropped.discard(variant.id)
                self._keep(variant.id)

    def _keep(self, variant_id: str) -> None:
        """Hold ``variant_id`` whole among the newest; drop the oldest past :data:`_KEEP`."""
        if self.loader is None:  # nothing could decode it again: kept
            return
        self._recent.append(variant_id)
        if len(self._recent) > _KEEP and not self._keep_all:
            oldest = self._recent.popleft()
            if self._variants.pop(oldest, None) is not None:
                self._dropped.add(oldest)

    # ---------------------------------------------------------------- mutation

    def add(self, variant: Variant) -> bool:
        """Add a recorded variant; return ``True`` if it became the new best."""
        if variant.id in self._summaries:
            return False
        self._variants[variant.id] = variant
        self._keep(variant.id)
        return self._index(VariantSummary.of(variant))

    def add_summary(self, summary: VariantSummary) -> bool:
        """Index a recorded variant by its summary (decoded later, on demand)."""
        if summary.id in self._summaries:
            return False
        return self._index(summary)

    def add_summaries(self, summaries: Iterable[VariantSummary]) -> None:
        """Index many summaries (opening a run): the state :meth:`add_summary` of each in turn
        leaves, with each ranking sorted once instead of one insertion per variant."""
        if self._summaries:  # not a fresh archive: one at a time
            for summary in summaries:
                self.add_summary(summary)
            return
        index, order, branch_of, children = self._summaries, self._order, self._branch, self._children
        ranked: list[tuple[float, str]] = []
        utility, last_stage = self.objective.utility, self.last_stage
        best: VariantSummary | None = None
        best_utility = 0.0
        for summary in summaries:
            vid, parent_id = summary.id, summary.parent_id
            if vid in index:
                continue
            index[vid] = summary
            if not order or vid > order[-1]:
                order.append(vid)
            else:
                bisect.insort(order, vid)
            parent = index.get(parent_id) if parent_id is not None else None
            if parent_id is None or (parent is not None and parent.parent_id is None):
                branch_of[vid] = vid
            else:
                branch_of[vid] = branch_of.get(parent_id) if parent is not None else None
            if parent_id is not None:
                siblings = children[parent_id]
                if not siblings or vid > siblings[-1]:
                    siblings.append(vid)
                else:
                    bisect.insort(siblings, vid)
            if summary.status != "accepted":
                continue
            fitness = utility(summary.score)
            ranked.append((-fitness, vid))
            if summary.stage_reached >= last_stage and (  # _beats_best, the utility computed once
                    best is None or fitness > best_utility or (summary.score == best.score and vid < best.id)):
                best, best_utility = summary, fitness
        self._added.extend(index)
        ranked.sort()
        self._ranked = ranked
        for key in ranked:
            branch = branch_of[key[1]]
            self._ranked_in[branch].append(key)
            self._per_branch[branch] += 1
        self.best_id = best.id if best is not None else None
        if self.behaviour_ties:  # the inlined rule above ignores behaviour: the full rule once
            self._recompute_best()

    def _index(self, summary: VariantSummary) -> bool:
        late = self.behaviour_ties and bool(self._children.get(summary.id))  # descendants' depths change
        self._summaries[summary.id] = summary
        self._added.append(summary.id)
        if not self._order or summary.id > self._order[-1]:
            self._order.append(summary.id)  # the usual case: ids grow with the run
        else:
            bisect.insort(self._order, summary.id)  # ids sort by generation, then attempt
        parent = self._summaries.get(summary.parent_id) if summary.parent_id is not None else None
        if summary.parent_id is None or (parent is not None and parent.parent_id is None):
            self._branch[summary.id] = summary.id
        else:
            self._branch[summary.id] = self._branch.get(summary.parent_id) if parent is not None else None
        if summary.status == "accepted":
            self._rank(summary, add=True)
        if summary.parent_id is not None:
            siblings = self._children[summary.parent_id]
            if not siblings or summary.id > siblings[-1]:
                siblings.append(summary.id)
            else:
                bisect.insort(siblings, summary.id)
        if late or (self.behaviour_ties and summary.id == self._order[0] and len(self._order) > 1):
            before = self.best_id  # the root indexed after others (agreements change), or an ancestor
            self._recompute_best()
            return self.best_id != before and self.best_id == summary.id
        if self._beats_best(summary):
            self.best_id = summary.id
            return True
        return False

    def _recompute_best(self) -> None:
        self.best_id = None
        for variant_id in self._order:
            if self._beats_best(self._summaries[variant_id]):
                self.best_id = variant_id

    def replace(self, variant: Variant) -> None:
        """A recorded copy of a held variant (same id) supersedes it; the best is recomputed."""
        self._variants[variant.id] = variant
        self._dropped.discard(variant.id)
        old = self._summaries[variant.id]
        self._summaries[variant.id] = new = VariantSummary.of(variant)
        if old.status == "accepted":
            self._rank(old, add=False)
        if new.status == "accepted":
            self._rank(new, add=True)
        self.epoch += 1
        self._recompute_best()

    def _rank(self, summary: VariantSummary, *, add: bool) -> None:
        """Add ``summary`` to (or remove it from) the ranking and its branch's."""
        key, branch = self._key(summary), self._branch[summary.id]
        if add:
            bisect.insort(self._ranked, key)
            bisect.insort(self._ranked_in[branch], key)
        else:
            self._ranked.remove(key)
            self._ranked_in[branch].remove(key)
        self._per_branch[branch] += 1 if add else -1

    def _beats_best(self, variant: VariantSummary) -> bool:
        if variant.status != "accepted" or variant.stage_reached < self.last_stage:
            return False
        if self.best_id is None:
            return True
        best = self._summaries[self.best_id]
        if self.objective.better(variant.score, best.score):
            return True
        if variant.score != best.score:
            return False
        if self.behaviour_ties:
            for mine, theirs in ((-self.edits(variant.id), -self.edits(best.id)),
                                 (self.root_agreement(variant), self.root_agreement(best)),
                                 (-self.edits(variant.id, 1), -self.edits(best.id, 1))):
                if mine != theirs:
                    return mine > theirs
        return variant.id < best.id

    def edits(self, variant_id: str, each: int | None = None) -> int:
        """Changes from the root along ``variant_id``'s indexed ancestors: their
        :attr:`VariantSummary.edits` (``each`` per generation instead: 1 counts generations)."""
        n, summary = 0, self._summaries.get(variant_id)
        while summary is not None and summary.parent_id is not None:
            n, summary = n + (summary.edits if each is None else each), self._summaries.get(summary.parent_id)
        return n

    def root_agreement(self, variant: VariantSummary) -> int:
        """Probes on which ``variant`` behaves as the root (0 without fingerprints)."""
        root = self._summaries.get(self._order[0]) if self._order else None
        return agreement(variant.behaviour, root.behaviour) if root is not None else 0

    def set_objective(self, objective: Objective) -> None:
        """Rank by ``objective`` from now on (the best is recomputed; nothing to do for the
        objective it ranks by already, e.g. the one a resumed run recorded)."""
        if objective == self.objective:
            return
        self.objective, self.best_id = objective, None
        self._ranked = sorted(self._key(s) for s in self._summaries.values() if s.status == "accepted")
        self._ranked_in = defaultdict(list)
        for key in self._ranked:
            self._ranked_in[self._branch[key[1]]].append(key)
        self.epoch += 1
        for variant_id in self._added:
            if self._beats_best(self._summaries[variant_id]):
                self.best_id = variant_id

    def fitness(self, variant: Variant | VariantSummary) -> float:
        """``variant.score`` oriented so that higher is better (for selection rules)."""
        return self.objective.utility(variant.score)

    def _key(self, summary: VariantSummary) -> tuple[float, str]:
        """An accepted variant's place in :meth:`ranked_accepted`."""
        return (-self.fitness(summary), summary.id)

    def __contains__(self, variant_id: object) -> bool:
        return variant_id in self._summaries

    def __len__(self) -> int:
        return len(self._order)

    @property
    def root(self) -> Variant | None:
        return self.get(self._order[0]) if self._order else None

    @property
    def best(self) -> Variant | None:
        return self.get(self.best_id) if self.best_id else None

    def depth(self, variant_id: str) -> int:
        return len(self.lineage(variant_id)) - 1

    def lineage(self, variant_id: str) -> list[str]:
        """Ids from the root down to ``variant_id``."""
        chain: list[str] = []
        current: str | None = variant_id
        while current is not None:
            chain.append(current)
            current = self._summaries[current].parent_id
        return chain[::-1]
