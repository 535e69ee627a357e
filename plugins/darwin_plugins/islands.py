"""Parent selection ``islands``: sub-populations by lineage, each with its own rule, and ring
migration (the island model of OpenEvolve, ShinkaEvolve and FunSearch).

Draw ``j`` of a generation ``g`` is made by island ``(g * n + j) mod N`` (``n`` draws per
generation), and the child it yields belongs to that island, so every variant's island follows
from its id. An island's pool is the root, its own variants and the migrants it received: every
``migrate_every`` generations, each island receives the best variant (in the objective's
direction) of its predecessor on the ring (as of that generation). The whole state is a
function of the archive: persisted and resumable by construction.

With an archive that lists what was added (``summaries_since``), pools, migrations and counters
are kept as variants arrive (:mod:`.island_index`) and each island's rule draws from its own
index: the same draws as the scan, seed for seed; else everything is scanned at each draw.
"""

from __future__ import annotations

import random
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from darwin_hookspecs import ArchiveView, Population, SelectionStrategy, Variant

from .fitness import fitness_of
from .island_index import IslandState

RULES = ("best", "score_child_prop", "score_child_prop_mad", "score_prop", "random", "latest", "cmp")
_ID = re.compile(r"^v(\d+)a(\d+)")


def _attempt(variant_id: str) -> int | None:
    m = _ID.match(variant_id)
    return int(m.group(2)) if m else None


class IslandsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    islands: int = Field(4, ge=1, le=64)
    """Number of sub-populations."""
    rules: list[str] = Field(default_factory=lambda: ["best"])
    """Selection rule of each island, cycled when shorter than ``islands``."""
    migrate_every: int = Field(5, ge=1)
    """Generations between ring migrations (each island's best joins the next island)."""

    @field_validator("rules")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in RULES]
        if unknown or not value:
            raise ValueError(f"unknown rule(s) {unknown}; use {', '.join(RULES)}")
        return value


class _Pool:
    """An island's view of the archive: ``selectable`` is the island's pool."""

    def __init__(self, archive: ArchiveView, pool: list[Variant]) -> None:
        self.archive, self.pool = archive, pool

    def variants(self) -> list[Variant]:
        return self.archive.variants()

    def selectable(self) -> list[Variant]:
        return list(self.pool)

    def children(self, variant_id: str) -> list[Variant]:
        return self.archive.children(variant_id)

    def get(self, variant_id: str) -> Variant:
        return self.archive.get(variant_id)

    @property
    def objective(self) -> Any:
        """The run's objective (``None`` when the archive has none): the island's rule ranks by it."""
        return getattr(self.archive, "objective", None)


class Islands:
    def __init__(self, options: IslandsOptions, rules: list[SelectionStrategy]) -> None:
        self.options = options
        self.rules = rules
        self._migrations: dict[str, Any] | None = None
        self._state: IslandState | None = None
        self._builds = 0

    @staticmethod
    def _draws_per_generation(archive: ArchiveView) -> int:
        top = 0
        for v in archive.variants():
            m = _ID.match(v.id)
            if m:
                top = max(top, int(m.group(2)) + 1)
        return max(top, 1)

    def island_of(self, variant: Variant, per_generation: int) -> int | None:
        m = _ID.match(variant.id)
        if variant.parent_id is None or not m:
            return None  # the root (or a foreign id) belongs to every island
        return (int(m.group(1)) * per_generation + int(m.group(2))) % self.options.islands

    def pools(self, archive: ArchiveView, per_generation: int | None = None) -> list[list[Variant]]:
        """Each island's pool (creation order), migrants included."""
        per = per_generation or self._draws_per_generation(archive)
        count = self.options.islands
        members: list[list[Variant]] = [[] for _ in range(count)]
        for v in archive.selectable():
            island = self.island_of(v, per)
            for i in range(count) if island is None else [island]:
                members[i].append(v)
        generation = max((v.generation for v in archive.variants()), default=0)
        received = self._received(archive, members, per, generation)
        pools = []
        for i in range(count):
            own = {v.id for v in members[i]}
            pools.append(sorted(members[i] + [v for k, v in received[i].items() if k not in own], key=lambda v: v.id))
        return pools

    def population(self, archive: ArchiveView) -> Population:
        """The islands for readers (``darwin report``, ``darwin status``)."""
        from .qd_population import islands_population

        return islands_population(self, archive)

    def _received(self, archive: ArchiveView, members: list[list[Variant]], per: int,
                  generation: int) -> list[dict[str, Variant]]:
        """The migrants each island received by ``generation``. A migration, once past, only
        changes if a variant of its generation or earlier is added later (a retry): the
        migrations are kept from one draw to the next (with an archive that lists what was added,
        ``summaries_since``) and only the new ones computed, else all are recomputed."""
        count, every = self.options.islands, self.options.migrate_every
        since = getattr(archive, "summaries_since", None)
        state = self._migrations
        key = (archive, getattr(archive, "epoch", 0), per, getattr(archive, "objective", None))
        new = since(state["seen"]) if since is not None and state is not None and state["key"] == key else None
        if new is None or state is None or state["done"] > generation or any(
                s.generation <= state["done"] for s in new):
            state = {"key": key, "done": 0, "seen": 0, "received": [{} for _ in range(count)]}
            new = since(0) if since is not None else []
        received: list[dict[str, Variant]] = state["received"]
        fitness = fitness_of(archive)
        if count > 1:
            for event in range(state["done"] + every - state["done"] % every, generation + 1, every):
                for i in range(count):
                    source = [v for v in members[(i - 1) % count] if v.generation <= event]
                    if source:
                        best = max(source, key=fitness)  # the earliest among equals
                        received[i].setdefault(best.id, best)
        state["done"] = max(state["done"], generation)
        state["seen"] += len(new)
        self._migrations = state if since is not None else None
        return [dict(r) for r in received]

    def _indexed(self, archive: Any, n: int) -> IslandState:
        """The incremental state, brought up to date (started again when it cannot follow)."""
        state = self._state
        key = (getattr(archive, "epoch", 0), getattr(archive, "objective", None))
        if state is None or state.archive is not archive or state.key != key:
            state = None
        per = state.per if state is not None else n
        for _ in range(4):
            if state is None:
                self._builds += 1
                state = IslandState(archive, self.options.islands, self.options.migrate_every, per,
                                    self.island_of, self._builds)
            followed = state.take(archive.summaries_since(state.seen), _attempt)
            per = max(n, state.top, 1)
            if followed and per == state.per:
                break
            state = None
        assert state is not None
        self._state = state
        return state

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if getattr(archive, "summaries_since", None) is not None:
            state = self._indexed(archive, n)
            if not state.selectable:
                raise ValueError("no selectable parent in the archive")
            state.migrate(state.generation)
            generation = state.generation + 1
            picks = []
            for j in range(n):
                island = (generation * state.per + j) % self.options.islands
                view: Any = state.views[island]
                if not view.pool:
                    view = _Pool(archive, archive.selectable())
                rule = self.rules[island % len(self.rules)]
                picks.append(rule.select(view, 1, rng)[0])
            return picks
        if not archive.selectable():
            raise ValueError("no selectable parent in the archive")
        per = max(n, self._draws_per_generation(archive))
        generation = max((v.generation for v in archive.variants()), default=0) + 1
        pools = self.pools(archive, per)
        picks = []
        for j in range(n):
            island = (generation * per + j) % self.options.islands
            pool = pools[island] or archive.selectable()
            rule = self.rules[island % len(self.rules)]
            picks.append(rule.select(_Pool(archive, pool), 1, rng)[0])
        return picks
