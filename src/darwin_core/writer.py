"""A run opened by its one writer: the handle with the storage's writer lease held.

``darwin run`` and ``darwin resume`` take the lease (:mod:`.lock`) before they write anything,
keep it renewed from a thread while the run goes on and give it up at the end; a run whose lease
is lost (it expired while the process stalled and another writer took over) stops writing at
the next :func:`check`.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from darwin_hookspecs import Lease

from . import integrity, lock, warmstart
from .config import DarwinConfig
from .gc_pause import paused_gc
from .plugin_config import embedded_plugins
from .plugins import PluginManager
from .run import RunHandle
from .rundir import read_pointer
from .session import preflight


def create(config: DarwinConfig, run_dir: Path | None, *, warm_start: Any, plugins: PluginManager | None,
           extra_plugins: Iterable[Any], entry_points: bool) -> tuple[RunHandle, Lease]:
    """A new run (``Engine.create``), checked, its lease held and ``run.json`` written."""
    if plugins is None:  # the passed plugins register before the registries are collected
        plugins, extra_plugins = embedded_plugins(config, entry_points, extra_plugins), ()
    handle = RunHandle.new(config, run_dir, plugins=plugins, extra_plugins=extra_plugins)
    preflight(handle)
    lease = lock.hold_writer(handle, "darwin run")
    try:
        if handle.store.load_run() is not None:  # another `darwin run` got here first
            raise lock.already_a_run(handle.run_dir)
        if warm_start is not None:
            warmstart.prepare(warm_start, handle.store)
        handle.write_pointer()
    except BaseException:
        lease.release()
        raise
    return handle, lease


def open(run_dir: Path, *, plugins: PluginManager | None, extra_plugins: Iterable[Any],  # noqa: A001
         entry_points: bool) -> tuple[RunHandle, Lease]:
    """An existing run (``Engine.open``): its lease taken, then its records loaded and checked
    (nothing is written to a run whose archive is inconsistent), earlier sessions' scratch
    copies removed."""
    with paused_gc():  # the plugins' imports (the records are loaded paused too)
        if plugins is None:
            config = read_pointer(Path(run_dir)).load_config()
            plugins, extra_plugins = embedded_plugins(config, entry_points, extra_plugins), ()
        handle = RunHandle.open(run_dir, plugins=plugins, extra_plugins=extra_plugins, load=False)
    lease = lock.hold_writer(handle, "darwin resume")
    try:
        handle.load()
        integrity.check_archive(handle)  # reads every attempt's summary
        _ = handle.generations  # read before the first write (an S3 scan then needs no listing)
        lock.clean_scratch(handle.run_dir)
    except BaseException:
        lease.release()
        raise
    return handle, lease


@contextmanager
def writing(handle: RunHandle, lease: Lease | None, resumed: bool) -> Iterator[Lease]:
    """Hold the run's lease (taking it if the engine was built without one) until the block
    ends, then release it, best effort."""
    if lease is None:
        lease = lock.hold_writer(handle, "darwin resume" if resumed else "darwin run")
    try:
        yield lease
    finally:
        lock.release(lease)


def check(lease: Lease | None) -> None:
    """Raise ``LeaseLostError`` if another writer took the run over: stop writing."""
    if lease is not None:
        lease.check()
