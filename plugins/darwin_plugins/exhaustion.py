"""Which parents still have something to offer (shared by every selection strategy).

A generator that enumerates a parent's neighbourhood says when it has run out (a child record
with ``metadata["exhausted"]``) and how large the neighbourhood is (``metadata["neighbourhood"]``
on its children). A parent is exhausted when one of its children says so, or when it has at
least as many children as its largest known neighbourhood.
"""

from __future__ import annotations

from darwin_hookspecs import ArchiveView, Variant


def remaining(archive: ArchiveView, variant: Variant) -> int | None:
    """Children the parent can still yield (``None``: unknown, so unbounded)."""
    children = archive.children(variant.id)
    size = 0
    for child in children:
        meta = child.metadata or {}
        if meta.get("exhausted"):
            return 0
        n = meta.get("neighbourhood")
        if isinstance(n, int) and n > size:
            size = n
    return max(size - len(children), 0) if size > 0 else None


def exhausted(archive: ArchiveView, variant: Variant) -> bool:
    return remaining(archive, variant) == 0


def open_parents(archive: ArchiveView) -> list[Variant]:
    """Selectable variants that are not exhausted (all selectable ones if every one is)."""
    items = archive.selectable()
    fresh = [v for v in items if not exhausted(archive, v)]
    return fresh or items
