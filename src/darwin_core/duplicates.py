"""Never evaluate the same code twice: content digests of evaluated trees.

A tree's digest is a hash of its sorted ``(path, sha256 of the file)`` pairs, so the orchestrator
(from a variant's manifest, each blob hashed once) and an executor job (from the files in
memory) compute the same one. The orchestrator hands each generate job the digests of the
variants evaluated so far (``GenerateJob.skip_trees``); a job whose child has one of them
returns without evaluating it, and the orchestrator records the child as a ``duplicate`` of
the earlier variant (:class:`darwin_core.snapshots.TreeIndex` names it). This costs no executor
round trip: the check happens in the same job, before the sandbox is used. Two identical
children generated at the same time are both evaluated (neither was known when they started).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import AbstractSet, Iterator

from .snapshots import CodeBook, Manifest, TreeIndex

DIGEST_CHARS = 32


def _combine(pairs: list[tuple[str, str]]) -> str:
    text = "\n".join(f"{rel}\0{sha}" for rel, sha in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def tree_digest(files: dict[str, bytes]) -> str:
    """The digest of a tree given as ``{path: content}``."""
    return _combine([(rel, hashlib.sha256(data).hexdigest()) for rel, data in files.items()])


def child_files(parent_files: dict[str, bytes], changes: dict[str, bytes | None]) -> dict[str, bytes]:
    files = dict(parent_files)
    for rel, data in changes.items():
        if data is None:
            files.pop(rel, None)
        else:
            files[rel] = data
    return files


class KnownDigests(AbstractSet[str]):
    """The digests an index held at one moment: the first ``count`` of its (append-only)
    ordered digests. Taking one costs nothing, however many there are (a frozen copy per
    attempt cost the archive's size); the index only appends, so it stays as taken."""

    __slots__ = ("_order", "_count")

    def __init__(self, order: dict[str, int], count: int) -> None:
        self._order, self._count = order, count

    def __contains__(self, digest: object) -> bool:
        index = self._order.get(digest) if isinstance(digest, str) else None
        return index is not None and index < self._count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return (d for d, i in list(self._order.items()) if i < self._count)

    def __reduce__(self) -> tuple[type[frozenset[str]], tuple[list[str]]]:
        return frozenset, (list(self),)  # sent to another process: just the digests it holds


FILE_DIGESTS_KEPT = 8192
"""Content digests of blobs kept (each read and hashed again once dropped)."""


class ContentIndex:
    """Digests of the trees of the run's evaluated variants, folded in as they are recorded."""

    def __init__(self, codebook: CodeBook) -> None:
        self.codebook = codebook
        self._seen = 0
        self._file_sha: OrderedDict[str, str] = OrderedDict()
        self._digests: dict[str, int] = {}
        """Each digest and its rank (first recorded first); only ever appended to."""

    def digest(self, manifest: Manifest) -> str:
        pairs, shas = [], self._file_sha
        for rel, key in manifest.items():
            sha = shas.get(key)
            if sha is None:
                sha = shas[key] = hashlib.sha256(self.codebook.store.get_blob(key)).hexdigest()
                if len(shas) > FILE_DIGESTS_KEPT:  # the least recently used first (read back if needed)
                    shas.popitem(last=False)
            else:
                shas.move_to_end(key)
            pairs.append((rel, sha))
        return _combine(pairs)

    def known(self) -> KnownDigests:
        """The digests of every evaluated variant's tree recorded so far (a snapshot)."""
        for variant_id in self.codebook.added_since(self._seen):
            self._seen += 1
            if self.codebook.variant(variant_id).status in TreeIndex.EVALUATED:
                self._digests.setdefault(self.digest(self.codebook.manifest(variant_id)), len(self._digests))
        return KnownDigests(self._digests, len(self._digests))
