"""A real, in-memory :class:`~darwin_hookspecs.ArchiveView` for testing selection strategies."""

from __future__ import annotations

from typing import Iterable

from darwin_hookspecs import Variant


def variant(id: str, parent_id: str | None = None, score: float = 0.5, status: str = "accepted",
            generation: int | None = None) -> Variant:
    """A variant record with just what selection looks at."""
    return Variant(id=id, parent_id=parent_id, generation=generation if generation is not None
                   else (0 if parent_id is None else 1), status=status, score=score)


class ListArchive:
    """The archive view of ``variants`` (in creation order)."""

    def __init__(self, variants: Iterable[Variant]) -> None:
        self._variants = list(variants)
        self._by_id = {v.id: v for v in self._variants}

    def variants(self) -> list[Variant]:
        return list(self._variants)

    def selectable(self) -> list[Variant]:
        return [v for v in self._variants if v.status == "accepted"]

    def children(self, variant_id: str) -> list[Variant]:
        return [v for v in self._variants if v.parent_id == variant_id]

    def get(self, variant_id: str) -> Variant:
        return self._by_id[variant_id]
