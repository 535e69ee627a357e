"""Integrity checks of a run: the archive is consistent before ``resume`` writes anything, and
``darwin verify`` checks a whole run (records, blobs, ledger)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from darwin_hookspecs import CorruptRecordError
from darwin_hookspecs.storage_verify import Problem, VerifyReport, verify_storage

if TYPE_CHECKING:
    from .run import RunHandle


def missing_parents(handle: "RunHandle") -> list[str]:
    """``"variants/<id>"`` of every parent a recorded variant or attempt names but the store lacks."""
    archive = handle.archive  # parent links need no variant decoded whole
    named = [(v.parent_id, f"variant {v.id}") for v in archive.summaries()
             if v.parent_id and v.parent_id not in archive]
    named += [(a.parent_id, f"attempt {a.id}") for a in handle.attempts.summaries()
              if a.parent_id and a.parent_id not in archive]
    return sorted({f"variants/{parent} (parent of {who})" for parent, who in named})


def check_archive(handle: "RunHandle") -> None:
    """Raise :class:`CorruptRecordError` (exit 4) naming the records an orphan needs."""
    missing = missing_parents(handle)
    if missing:
        raise CorruptRecordError(
            f"the run in {handle.storage.url} is missing record(s) {', '.join(missing)}; nothing was "
            "written; fix: restore them from a backup or an export (`darwin verify RUN_DIR` lists "
            "every problem)"
        )


def references(collection: str, key: str, value: dict[str, Any]) -> Iterable[str]:
    """The blobs a run's record names (snapshots, diffs, logs)."""
    if collection != "variants":
        return []
    refs = [ref for ref in (value.get("snapshot") or {}).values() if ref]
    refs += [value["patch_ref"]] if value.get("patch_ref") else []
    results = (value.get("task_results") or {}).values()
    refs += [r["log_ref"] for r in results if isinstance(r, dict) and r.get("log_ref")]
    return refs


def verify_run(handle: "RunHandle") -> VerifyReport:
    """The whole store checked, then the archive's parent links and the ledger's entries."""
    from .ledger import load_entries

    report = verify_storage(handle.storage, references=references)
    try:
        handle.load()
        handle.attempts.decode_all()  # read on first use: here, where a bad one is named
        _ = handle.generations
    except CorruptRecordError as exc:
        report.problems.append(Problem("record", "run", str(exc)))
        return report
    for name in missing_parents(handle):
        report.problems.append(Problem("missing record", name, "named but not stored"))
    try:
        load_entries(handle.storage)
    except CorruptRecordError as exc:
        report.problems.append(Problem("ledger", "llm_ledger", str(exc)))
    return report
