"""A selection strategy: a tournament among a few random accepted variants."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import ArchiveView, hookimpl


class TournamentOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(3, ge=1)
    """Variants drawn per tournament; the best of them is a parent."""


class Tournament:
    def __init__(self, size: int) -> None:
        self.size = size

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        pool = archive.selectable()  # accepted variants, in creation order
        parents = []
        for _ in range(n):
            drawn = [rng.choice(pool) for _ in range(self.size)]  # only `rng`: reproducible
            parents.append(max(drawn, key=lambda v: v.score).id)
        return parents


@hookimpl
def darwin_register_selectors(registry) -> None:
    registry.add("tournament", lambda options, context: Tournament(options.size),
                 options=TournamentOptions, description="Best of `size` random accepted variants.")
