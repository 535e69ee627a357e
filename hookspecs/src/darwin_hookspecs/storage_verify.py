"""Whole-store integrity check (for ``darwin verify``): every record decodes, every blob matches
its hash, every blob a record names exists. Read-only; reports every problem, not the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .errors import CorruptRecordError, NotFoundError
from .storage_api import list_keys

References = Callable[[str, str, dict[str, Any]], Iterable[str]]
"""``refs(collection, key, value)``: the blob keys a record names (the run's own knowledge)."""


@dataclass(frozen=True)
class Problem:
    kind: str  # "record", "blob" or "missing blob"
    name: str  # "collection/key" or the blob key
    message: str


@dataclass
class VerifyReport:
    url: str
    records: int = 0
    blobs: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = f"{self.url}: {self.records} records, {self.blobs} blobs checked"
        if self.ok:
            return f"{head}; no problem found"
        lines = [f"{head}; {len(self.problems)} problem(s):"]
        lines += [f"  {p.kind} {p.name}: {p.message}" for p in self.problems]
        lines.append("fix: restore the damaged items from a backup or an export of the run")
        return "\n".join(lines)


def verify_storage(storage: Any, *, references: References | None = None,
                   blobs: bool = True) -> VerifyReport:
    """Check ``storage`` whole. ``references`` names the blobs each record needs (checked to
    exist); ``blobs=False`` skips reading every blob (faster; hashes then go unchecked)."""
    report = VerifyReport(storage.url)
    needed: dict[str, str] = {}
    for collection in storage.collections():
        for key in list_keys(storage, collection):
            try:
                value, _ = storage.get_record(collection, key)
            except (CorruptRecordError, NotFoundError) as exc:
                report.problems.append(Problem("record", f"{collection}/{key}", str(exc)))
                continue
            report.records += 1
            if references is not None:
                for ref in references(collection, key, value):
                    needed.setdefault(ref, f"{collection}/{key}")
    present = set(storage.iter_blob_keys())
    for key in sorted(present) if blobs else ():
        try:
            storage.get_blob(key)
            report.blobs += 1
        except (CorruptRecordError, NotFoundError) as exc:
            report.problems.append(Problem("blob", key, str(exc)))
    for ref, owner in sorted(needed.items()):
        if ref not in present:
            report.problems.append(Problem("missing blob", ref, f"named by record {owner}"))
    return report
