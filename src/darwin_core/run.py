"""One way to open a run: :class:`RunHandle` owns its pointer, storage, store, archive and
code book.

The engine is built from a handle (:meth:`RunHandle.create` for a new run, :meth:`RunHandle.open`
for an existing one); ``darwin status/archive/report/export``, the read-only loader
:func:`darwin_core.open_run` and the ledger open runs through it too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from darwin_hookspecs import BuildContext, Objective, RunInfo, Storage, UserError, Variant

from .archive import Archive
from .attempt_index import AttemptIndex
from .config import DarwinConfig
from .gc_pause import paused_gc
from .plugins import PluginManager
from .rundir import (
    POINTER,
    RunPointer,
    default_run_dir,
    new_run_id,
    open_storage,
    read_pointer,
    relative_store,
    storage_url_for,
)
from .snapshots import CodeBook
from .store import RunStore


def plugin_manager(
    config: DarwinConfig, plugins: PluginManager | None = None, extra_plugins: Iterable[Any] = ()
) -> PluginManager:
    """``plugins`` (or a fresh manager honouring ``[plugins] disable``) with ``extra_plugins``
    registered in it: passing both honours both."""
    extra = list(extra_plugins)
    if plugins is None:
        return PluginManager(disable=config.plugins.disable, extra_plugins=extra)
    for plugin in extra:
        plugins.register(plugin)
    return plugins


@dataclass
class RunHandle:
    """An opened run: where it lives and what is recorded in it (loaded by :meth:`load`)."""

    run_dir: Path
    pointer: RunPointer
    config: DarwinConfig
    plugins: PluginManager
    storage: Storage
    store: RunStore
    archive: Archive
    codebook: CodeBook
    run: RunInfo | None = None
    _attempts: AttemptIndex | None = field(default=None, repr=False)
    _generations: dict[int, dict[str, Any]] | None = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    """Incremental indexes over the records (e.g. planning's sibling counts), kept by their users."""

    # ------------------------------------------------------------ opening

    @classmethod
    def _build(cls, config: DarwinConfig, pointer: RunPointer, run_dir: Path, plugins: PluginManager,
               storage_options: dict[str, Any] | None = None) -> "RunHandle":
        options = {**config.storage.options, **(storage_options or {})}
        storage = open_storage(plugins, pointer.url_in(run_dir), options, run_id=pointer.run_id,
                               run_dir=run_dir, config_dir=config.config_dir)
        store = RunStore(storage, run_id=pointer.run_id, hook=plugins.hook,
                         retry_for_s=config.storage.retry_for_s)
        archive = Archive(last_stage=len(config.evaluation.stages) - 1, loader=store.load_variants_by_id,
                          behaviour_ties=config.run.plausible_extra > 0)
        return cls(run_dir=run_dir, pointer=pointer, config=config, plugins=plugins, storage=storage,
                   store=store, archive=archive, codebook=CodeBook(store, archive))

    @classmethod
    def new(cls, config: DarwinConfig, run_dir: Path | None = None, *, plugins: PluginManager | None = None,
            extra_plugins: Iterable[Any] = ()) -> "RunHandle":
        """A new run in ``run_dir`` (default ``./runs/<name>-<time>``); its pointer is written by
        :meth:`write_pointer`, once the run is known to be startable."""
        run_dir = (run_dir or default_run_dir(config)).resolve()
        if (run_dir / POINTER).exists():
            raise UserError(
                f"{run_dir} already holds a run; fix: `darwin resume {run_dir}` or choose another --run-dir"
            )
        run_id = new_run_id(config.run.name)
        pointer = RunPointer(
            run_id=run_id, storage_url=storage_url_for(config, run_dir, run_id),
            config=config.model_dump(mode="json", exclude={"source"}),
            config_source=str(config.source) if config.source else None, created_at=time.time(),
        )
        pointer.store = relative_store(pointer.storage_url, run_dir)
        return cls._build(config, pointer, run_dir, plugin_manager(config, plugins, extra_plugins))

    @classmethod
    def open(cls, run_dir: Path, *, plugins: PluginManager | None = None, extra_plugins: Iterable[Any] = (),
             storage_options: dict[str, Any] | None = None, load: bool = True,
             reader: bool = False) -> "RunHandle":
        """An existing run directory, its records loaded (``load=False``: storage only);
        ``reader=True`` without ``plugins``: only the plugins a reader builds
        (:func:`~darwin_core.plugin_subset.reader_plugins`)."""
        run_dir = Path(run_dir).resolve()
        pointer = read_pointer(run_dir)
        config = pointer.load_config()
        url = pointer.url_in(run_dir)
        if url.startswith("file:"):  # a missing store is an error, never a new one
            storage_options = {"must_exist": True, **(storage_options or {})}
        if plugins is None and reader:
            from .plugin_subset import reader_plugins

            plugins = reader_plugins(config, url)
        handle = cls._build(config, pointer, run_dir, plugin_manager(config, plugins, extra_plugins),
                            storage_options)
        if load:
            handle.load()
        return handle

    def write_pointer(self) -> None:
        from .lock import create_pointer

        create_pointer(self.run_dir, self.pointer)

    def load(self) -> None:
        """Read the run record and every variant's summary (attempts and generation plans are
        read when first used)."""
        with paused_gc():
            self._load()

    def _load(self) -> None:
        self.run = self.store.load_run()
        if self.run is not None and self.run.run_id != self.pointer.run_id:
            raise UserError(
                f"storage {self.storage.url} holds run {self.run.run_id!r}, not {self.pointer.run_id!r}; "
                "fix: give each run its own storage URL (use {run_id} in [storage] url)"
            )
        if self.run is not None and self.run.metadata.get("objective"):  # recorded when it started
            self.archive.set_objective(Objective.from_dict(self.run.metadata["objective"]))
        summaries = self.store.load_variant_summaries()  # variants are decoded on demand
        self.archive.add_summaries(summaries)
        self.codebook.add_ids(s.id for s in summaries)
        self._attempts = self._generations = None  # read when first used

    @property
    def attempts(self) -> AttemptIndex:
        """Every attempt by id (their summaries read from the store on first use, each attempt
        decoded when first used: :mod:`darwin_core.attempt_index`)."""
        if self._attempts is None:
            with paused_gc():
                self._attempts = AttemptIndex(self.store)
        return self._attempts

    @property
    def attempts_loaded(self) -> bool:
        return self._attempts is not None

    @property
    def generations(self) -> dict[int, dict[str, Any]]:
        """Every generation's plan by number (read from the store on first use)."""
        if self._generations is None:
            with paused_gc():
                self._generations = self.store.load_generations()
        return self._generations

    @generations.setter
    def generations(self, value: dict[int, dict[str, Any]]) -> None:
        self._generations = value
        self.cache.clear()

    # ------------------------------------------------------------ reading

    def add_variant(self, variant: Variant) -> None:
        self.codebook.add(variant)
        self.archive.add(variant)

    @property
    def variants(self) -> list[Variant]:
        return self.archive.variants()

    def files(self, variant_id: str) -> dict[str, bytes]:
        """The complete code of a variant: relative path -> content."""
        return self.codebook.files(variant_id)

    def close(self) -> None:
        self.storage.close()


def build_context(handle: RunHandle) -> BuildContext:
    """What the run's backends are built with."""
    config = handle.config
    return BuildContext(run_id=handle.pointer.run_id, run_dir=handle.run_dir, config_dir=config.config_dir,
                        seed=config.run.seed, hook=handle.plugins.hook,
                        services={"storage": handle.storage, "config_source": config.source})


@dataclass
class RunSource:
    """A run opened by reference: its storage and, when it came from a run directory, its pointer."""

    storage: Storage
    pointer: RunPointer | None
    options: dict[str, Any]


def open_run_storage(ref: str, options: dict[str, Any], plugins: PluginManager) -> RunSource:
    """Open a run given as a run directory (holding ``run.json``) or as a storage URL."""
    path = Path(ref).expanduser()
    if (path / POINTER).is_file():
        handle = RunHandle.open(path, plugins=plugins, storage_options=options, load=False)
        return RunSource(handle.storage, handle.pointer, {**handle.config.storage.options, **options})
    if "://" in ref:
        return RunSource(open_storage(plugins, ref, options), None, options)
    raise UserError(f"{ref!r} is neither a run directory (no {POINTER}) nor a storage URL; fix: pass "
                    "the directory `darwin run` printed, or a URL such as s3://bucket/prefix")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> dict; values are JSON when they parse (numbers, booleans)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"storage option {pair!r} is not KEY=VALUE; fix: e.g. endpoint_url=http://host:9000")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options
