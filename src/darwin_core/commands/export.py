"""``darwin export RUN --to URL``: copy a run from one storage backend to another, losslessly.

Blobs are copied byte for byte (their keys are their sha256, so they keep their names), then
every record of every collection, the ``run`` record last so that an interrupted export never
looks like a complete run (exporting again finishes it). The copy is then verified by comparing
both stores: the same records in every collection and every blob present and intact.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from darwin_hookspecs import ConflictError, NotFoundError, Storage, StorageError, UserError

from .app import app, guard, out

if TYPE_CHECKING:  # imported when used: `darwin status` loads this module to register `export`
    from ..plugins import PluginManager
    from ..run import RunSource


def run_record(storage: Storage) -> dict[str, Any] | None:
    try:
        return storage.get_record("run", "run")[0]
    except NotFoundError:
        return None


@dataclass
class CopyReport:
    collections: int = 0
    records: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    skipped: int = 0
    """Records and blobs already present (identical) in the destination."""


def copy_run(source: Storage, dest: Storage) -> CopyReport:
    """Copy every blob and record of ``source`` into ``dest`` (refusing to overwrite another
    run's or a different record); idempotent, so an interrupted copy can simply be rerun."""
    src_run = run_record(source)
    if src_run is None:
        raise UserError(f"{source.url} holds no run (no run/run record); fix: check the source")
    dest_run = run_record(dest)
    if dest_run is not None and dest_run.get("run_id") != src_run.get("run_id"):
        raise UserError(f"{dest.url} already holds run {dest_run.get('run_id')!r}; fix: export to an "
                        "empty location (e.g. another prefix)")
    report = CopyReport()
    for key in source.iter_blob_keys():
        if dest.has_blob(key):
            report.skipped += 1
            continue
        data = source.get_blob(key)
        if dest.put_blob(data) != key:
            raise StorageError(f"blob {key} of {source.url} does not match its hash; nothing was "
                               "exported past it; fix: restore it from a backup")
        report.blobs += 1
        report.blob_bytes += len(data)
    collections = sorted(source.collections(), key=lambda c: c == "run")  # the run record last
    for collection in collections:
        report.collections += 1
        for key, value, _ in source.scan(collection):
            try:
                dest.put_record(collection, key, value)
                report.records += 1
            except ConflictError:
                if dest.get_record(collection, key)[0] != value:
                    raise UserError(f"{dest.url} already holds a different record {collection}/{key}; "
                                    "fix: export to an empty location") from None
                report.skipped += 1
    return report


def compare_runs(source: Storage, dest: Storage) -> list[str]:
    """Differences between two stores (empty when ``dest`` holds all of ``source``, intact)."""
    problems: list[str] = []
    for collection in source.collections():
        ours = {k: v for k, v, _ in source.scan(collection)}
        theirs = {k: v for k, v, _ in dest.scan(collection)}
        for key in sorted(set(ours) | set(theirs)):
            if ours.get(key) != theirs.get(key):
                problems.append(f"record {collection}/{key} differs")
    for key in source.iter_blob_keys():
        try:
            if hashlib.sha256(dest.get_blob(key)).hexdigest() != key:
                problems.append(f"blob {key} is damaged")
        except NotFoundError:
            problems.append(f"blob {key} is missing")
    return problems


def write_run_dir(run_dir: Path, source: "RunSource", url: str, options: dict[str, Any]) -> None:
    """A run directory pointing at the exported copy (for `darwin status/resume`)."""
    from ..rundir import POINTER, RunPointer, relative_store, write_pointer

    if (run_dir / POINTER).exists():
        raise UserError(f"{run_dir} already holds a run; fix: choose another --run-dir")
    record = run_record(source.storage) or {}
    if source.pointer is not None:
        pointer = source.pointer
    else:
        pointer = RunPointer(run_id=record.get("run_id", ""), storage_url=url,
                             config=dict(record.get("config") or {}), config_source=None,
                             created_at=float(record.get("created_at") or time.time()))
    config = dict(pointer.config)
    storage_section = {k: v for k, v in (config.get("storage") or {}).items()
                       if k == "retry_for_s"}
    config["storage"] = {**storage_section, **options, "url": url}
    write_pointer(run_dir, replace(pointer, storage_url=url, config=config,
                                   store=relative_store(url, run_dir)))


def export_run(run: str, to: str, to_options: dict[str, Any], from_options: dict[str, Any],
               run_dir: Path | None = None, plugins: "PluginManager | None" = None) -> tuple["RunSource", CopyReport]:
    """``darwin export``: copy ``run`` (a run directory or storage URL) to ``to``, verify the
    copy, and optionally write a run directory pointing at it."""
    from ..plugins import PluginManager
    from ..run import open_run_storage
    from ..rundir import open_storage

    plugins = plugins or PluginManager()
    source = open_run_storage(run, from_options, plugins)
    dest = open_storage(plugins, to, to_options)
    try:
        report = copy_run(source.storage, dest)
        problems = compare_runs(source.storage, dest)
        if problems:
            raise StorageError(f"the copy in {dest.url} differs from {source.storage.url}: "
                               + "; ".join(problems[:10]) + "; fix: export again")
        if run_dir is not None:
            write_run_dir(run_dir.resolve(), source, to, to_options)
    finally:
        dest.close()
        source.storage.close()
    return source, report


@app.command("export")
def export(
    run: str = typer.Argument(..., help="The run: a run directory or a storage URL."),
    to: str = typer.Option(..., "--to", help="Destination storage URL (file://, mongodb://, s3://...)."),
    to_option: list[str] = typer.Option([], "--to-option", help="Destination storage option KEY=VALUE (repeatable), e.g. endpoint_url=http://127.0.0.1:9000."),
    from_option: list[str] = typer.Option([], "--from-option", help="Source storage option KEY=VALUE (repeatable)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Also write a run directory pointing at the copy."),
) -> None:
    """Copy a run to another storage backend and verify the copy."""
    with guard():
        from ..run import parse_options

        source, report = export_run(run, to, parse_options(to_option), parse_options(from_option), run_dir)
    out.print(
        f"exported {source.storage.url} -> {to}: {report.collections} collections, "
        f"{report.records} records, {report.blobs} blobs ({report.blob_bytes} bytes) copied, "
        f"{report.skipped} already there; verified identical"
        + (f"\n  run dir: {run_dir}" if run_dir else ""),
        highlight=False, soft_wrap=True,
    )
