"""Incremental state of the ``islands`` strategy (:mod:`.islands`) for an archive that lists what
was added (``summaries_since``): each island's pool, the migrations and the draw counters, kept
as variants arrive, so a draw costs the island rule's own indexed draw instead of a scan.

Each island is a persistent :class:`IslandView` of the archive; its rule's
:class:`~.selection_index.SelectionIndex` consumes every summary (children counts and exhaustion
come from the whole archive) and keeps as selectable only the island's members (``member``) and
the migrants it was given since (``admitted_since``). Migrations are computed as
:meth:`.islands.Islands._received` does, each island's running best folded in id order from
the members of the generations up to the event (the same ``max`` with the earliest among
equals). A retry (a variant of a generation already migrated), a replaced variant or a change of
draws per generation starts the state again from the archive (what a resume does once).
"""

from __future__ import annotations

from typing import Any, Callable

from darwin_hookspecs import Variant

from .fitness import fitness_of


class IslandView:
    """Island ``island``'s view of the archive: its pool is :meth:`selectable`."""

    def __init__(self, state: "IslandState", island: int) -> None:
        self.state, self.island = state, island
        self.archive = state.archive
        self.pool: set[str] = set()
        self.admitted: list[str] = []  # migrants, in the order they were received

    # --- what the island rule's index reads
    def summaries_since(self, count: int) -> list[Any]:
        return self.archive.summaries_since(count)

    @property
    def epoch(self) -> Any:
        return (getattr(self.archive, "epoch", 0), self.state.generation_of_state)

    @property
    def objective(self) -> Any:
        return getattr(self.archive, "objective", None)

    def member(self, summary: Any) -> bool:
        return summary.id in self.pool

    def admitted_since(self, count: int) -> list[str]:
        return self.admitted[count:]

    # --- the scan view (rules without an index)
    def variants(self) -> list[Variant]:
        return self.archive.variants()

    def selectable(self) -> list[Variant]:
        return [self.archive.get(i) for i in sorted(self.pool)]

    def children(self, variant_id: str) -> list[Variant]:
        return self.archive.children(variant_id)

    def get(self, variant_id: str) -> Variant:
        return self.archive.get(variant_id)


class IslandState:
    """Pools, migrations and counters of ``count`` islands over ``archive``, for ``per`` draws
    per generation; :meth:`advance` takes in what was added since the last call."""

    def __init__(self, archive: Any, count: int, every: int, per: int,
                 island_of: Callable[[Any, int], int | None], generation_of_state: int) -> None:
        self.archive, self.count, self.every, self.per = archive, count, every, per
        self.island_of = island_of
        self.generation_of_state = generation_of_state
        self.key = (getattr(archive, "epoch", 0), getattr(archive, "objective", None))
        self.fitness = fitness_of(archive)
        self.seen = 0
        self.top = 0  # the largest attempt index + 1
        self.generation = 0  # the largest generation
        self.selectable = 0
        self.done = 0  # migrations computed up to this generation
        self.views = [IslandView(self, i) for i in range(count)]
        self.members: list[list[Any]] = [[] for _ in range(count)]  # own variants and the root
        self.pending: list[list[Any]] = [[] for _ in range(count)]  # members not yet folded
        self.best: list[Any] = [None] * count  # running best member folded so far
        self.last_folded: list[str | None] = [None] * count

    def take(self, summaries: list[Any], attempt: Callable[[str], int | None]) -> bool:
        """Index new summaries; ``False`` if the state must start again (a retry)."""
        for s in summaries:
            if s.generation <= self.done and self.done > 0:
                return False
            self.generation = max(self.generation, s.generation)
            index = attempt(s.id)
            if index is not None:
                self.top = max(self.top, index + 1)
            if s.status != "accepted":
                continue
            self.selectable += 1
            island = self.island_of(s, self.per)
            for i in range(self.count) if island is None else [island]:
                self.views[i].pool.add(s.id)
                self.members[i].append(s)
                self.pending[i].append(s)
        self.seen += len(summaries)
        return True

    def migrate(self, generation: int) -> None:
        """Ring migrations of every ``every`` generations up to ``generation``."""
        if self.count > 1:
            for event in range(self.done + self.every - self.done % self.every, generation + 1, self.every):
                bests = [self._best_by(i, event) for i in range(self.count)]
                for i in range(self.count):
                    best = bests[(i - 1) % self.count]
                    view = self.views[i]
                    if best is not None and best.id not in view.pool:
                        view.pool.add(best.id)
                        view.admitted.append(best.id)
        self.done = max(self.done, generation)

    def _best_by(self, island: int, event: int) -> Any:
        """``max`` by fitness (the earliest among equals) of the island's members of generation
        ``event`` or earlier, folded in id order."""
        ready = [s for s in self.pending[island] if s.generation <= event]
        if not ready:
            return self.best[island]
        self.pending[island] = [s for s in self.pending[island] if s.generation > event]
        ready.sort(key=lambda s: s.id)
        last = self.last_folded[island]
        if last is not None and ready[0].id < last:  # not after what was folded: fold all again
            members = sorted(self.members[island], key=lambda s: s.id)
            ready = [s for s in members if s.generation <= event]
            self.best[island] = None
        best = self.best[island]
        fitness = self.fitness
        for s in ready:
            if best is None or fitness(s) > fitness(best):
                best = s
        self.best[island] = best
        self.last_folded[island] = ready[-1].id
        return best
