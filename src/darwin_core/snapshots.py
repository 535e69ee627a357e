"""Variant code: read a tree, store it as content-addressed blobs, rebuild it, diff it.

A variant's ``snapshot`` holds the full tree for the root and only changed files for a child;
:class:`CodeBook` rebuilds the full manifest of any variant by walking up to the root.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import fnmatch
import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

from darwin_hookspecs import UserError, Variant

from .archive import Archive
from .store import RunStore

Manifest = dict[str, str]
"""``{relative posix path: blob key}`` of a whole tree."""


def read_tree(root: Path, ignore: Iterable[str] = ()) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks and ignored names skipped), by relative path."""
    if not root.is_dir():
        raise UserError(f"initial variant directory {root} does not exist; fix: [run] initial")
    patterns = list(ignore)
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d, patterns))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if _ignored(name, patterns) or path.is_symlink():
                continue
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def write_tree(files: dict[str, bytes], dest: Path) -> None:
    """Write ``files`` under ``dest`` (created; must be empty or absent)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = safe_join(dest, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def safe_join(root: Path, rel: str) -> Path:
    """``root / rel``, refusing absolute paths and ``..`` escapes (generators are untrusted)."""
    candidate = Path(rel)
    if candidate.is_absolute() or ".." in candidate.parts or not rel.strip():
        raise ValueError(f"path {rel!r} escapes the variant directory")
    return root / candidate


def unified_diff(old: dict[str, bytes], changes: dict[str, bytes | None]) -> str:
    """A git-style unified diff of ``changes`` against ``old``."""
    chunks: list[str] = []
    for rel in sorted(changes):
        before = old.get(rel)
        after = changes[rel]
        a = _text(before).splitlines(keepends=True) if before is not None else []
        b = _text(after).splitlines(keepends=True) if after is not None else []
        from_name = f"a/{rel}" if before is not None else "/dev/null"
        to_name = f"b/{rel}" if after is not None else "/dev/null"
        lines = list(difflib.unified_diff(a, b, from_name, to_name, n=3))
        if lines:
            chunks.append(f"diff --git a/{rel} b/{rel}\n")
            chunks.extend(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return "".join(chunks)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


MANIFESTS_KEPT = 1024
"""Manifests a :class:`CodeBook` keeps, the most recently used; the others are rebuilt from the
nearest kept ancestor's through the snapshots (each variant's parent and changed files, kept
for every variant once seen: their size is the change, not the program)."""


class CodeBook:
    """Rebuilds and caches the manifests of variants from their snapshots. Thread-safe."""

    def __init__(self, store: RunStore, archive: Archive | None = None) -> None:
        """``archive``: where variants known by id only (:meth:`add_id`) are decoded from."""
        self.store = store
        self.archive = archive
        self._manifests: OrderedDict[str, Manifest] = OrderedDict()  # least recently used first
        self._steps: dict[str, tuple[str | None, dict[str, str | None]]] = {}  # id -> (parent, snapshot)
        self._variants: dict[str, Variant] = {}
        self._pending: list[str] = []  # held here until the archive has them
        self._ids: set[str] = set()
        self._order: list[str] = []
        self._lock = threading.Lock()

    def add(self, variant: Variant) -> None:
        """A recorded variant, held here until the archive holds it (which drops it to its
        summary once it is old, see :data:`darwin_core.archive._KEEP`)."""
        with self._lock:
            if variant.id not in self._ids:
                self._ids.add(variant.id)
                self._order.append(variant.id)
            self._variants[variant.id] = variant
            self._steps[variant.id] = (variant.parent_id, variant.snapshot)
            if self.archive is not None:
                archive = self.archive
                for held in [i for i in self._pending if i in archive]:
                    self._variants.pop(held, None)
                self._pending = [i for i in self._pending if i not in archive] + [variant.id]

    def add_id(self, variant_id: str) -> None:
        """A variant of the archive, decoded from it when first needed."""
        with self._lock:
            if variant_id not in self._ids:
                self._ids.add(variant_id)
                self._order.append(variant_id)

    def add_ids(self, variant_ids: Iterable[str]) -> None:
        """:meth:`add_id` of each (opening a run), the lock taken once."""
        with self._lock:
            for variant_id in variant_ids:
                if variant_id not in self._ids:
                    self._ids.add(variant_id)
                    self._order.append(variant_id)

    def variant(self, variant_id: str) -> Variant:
        variant = self._variants.get(variant_id)
        if variant is None:
            if variant_id not in self._ids or self.archive is None:
                raise KeyError(variant_id)
            variant = self.archive.get(variant_id)
        return variant

    def has(self, variant_id: str) -> bool:
        return variant_id in self._ids

    def added_since(self, count: int) -> list[str]:
        """Ids of the variants added after the first ``count``, in the order they were added."""
        with self._lock:
            return self._order[count:]

    def manifest(self, variant_id: str) -> Manifest:
        with self._lock:
            chain: list[tuple[str, dict[str, str | None]]] = []
            current: str | None = variant_id
            manifests, steps = self._manifests, self._steps
            while current is not None and current not in manifests:
                step = steps.get(current)
                if step is None:
                    variant = self.variant(current)
                    step = steps[current] = (variant.parent_id, variant.snapshot)
                chain.append((current, step[1]))
                current = step[0]
            if current is not None:
                manifests.move_to_end(current)
            manifest: Manifest = dict(manifests[current]) if current is not None else {}
            for step_id, snapshot in reversed(chain):
                for rel, key in snapshot.items():
                    if key is None:
                        manifest.pop(rel, None)
                    else:
                        manifest[rel] = key
                manifests[step_id] = dict(manifest)
            found = dict(manifests[variant_id])
            while len(manifests) > MANIFESTS_KEPT:
                manifests.popitem(last=False)
            return found

    def files(self, variant_id: str) -> dict[str, bytes]:
        return {rel: self.store.get_blob(key) for rel, key in self.manifest(variant_id).items()}

    def materialize(self, variant_id: str, dest: Path) -> Path:
        """Write the variant's code into ``dest`` (replacing what is there)."""
        if dest.exists():
            shutil.rmtree(dest)
        write_tree(self.files(variant_id), dest)
        return dest

    def store_changes(
        self, parent_id: str, changes: dict[str, bytes | None]
    ) -> tuple[dict[str, str | None], dict[str, bytes | None]]:
        """Store changed files; return the child's snapshot and the effective changes (those
        that really differ from the parent)."""
        parent = self.manifest(parent_id)
        snapshot: dict[str, str | None] = {}
        effective: dict[str, bytes | None] = {}
        for rel, data in sorted(changes.items()):
            if data is None:
                if rel in parent:
                    snapshot[rel] = None
                    effective[rel] = None
                continue
            key = self.store.put_blob(data)
            if parent.get(rel) != key:
                snapshot[rel] = key
                effective[rel] = data
        return snapshot, effective


class TreeIndex:
    """Finds a recorded variant (or one being evaluated) with exactly a given code tree.

    Trees are compared by their manifests (path -> content-addressed blob key), so nothing is
    read or hashed again. Only variants whose evaluation is known count (``accepted`` or
    ``rejected``), plus the attempts reserved while their evaluation runs.
    """

    EVALUATED = ("accepted", "rejected")

    def __init__(self, codebook: CodeBook) -> None:
        self.codebook = codebook
        self._seen = 0
        self._by_digest: dict[str, list[str]] = {}
        self._reserved: dict[str, str] = {}

    @staticmethod
    def digest(manifest: Manifest) -> str:
        return hashlib.sha256(json.dumps(sorted(manifest.items())).encode()).hexdigest()

    def _sync(self) -> None:
        for variant_id in self.codebook.added_since(self._seen):
            self._seen += 1
            digest = self.digest(self.codebook.manifest(variant_id))
            self._by_digest.setdefault(digest, []).append(variant_id)

    def find(self, manifest: Manifest) -> str | None:
        """A variant with this tree whose evaluation is known or under way, if any."""
        self._sync()
        digest = self.digest(manifest)
        for variant_id in self._by_digest.get(digest, ()):
            if self.codebook.variant(variant_id).status in self.EVALUATED:
                return variant_id
        reserved = self._reserved.get(digest)
        if reserved is not None and not self.codebook.has(reserved):
            return reserved  # being evaluated now
        return None

    def reserve(self, manifest: Manifest, variant_id: str) -> None:
        """``variant_id`` (not recorded yet) is being evaluated with this tree."""
        self._reserved[self.digest(manifest)] = variant_id
