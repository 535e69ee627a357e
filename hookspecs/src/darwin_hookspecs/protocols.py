"""What each kind of backend implements.

Backends are created by the factories plugins register (see :mod:`darwin_hookspecs.registry`).
A factory is called as ``factory(options, context)`` where ``options`` is the validated options
model (or a ``dict`` when the backend declared none) and ``context`` a :class:`BuildContext`.
"""

from __future__ import annotations

import random
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Protocol, TypeVar, runtime_checkable

from .records import (
    Attempt,
    ExecRequest,
    ExecResult,
    Prediction,
    Proposal,
    RunInfo,
    Target,
    TaskResult,
    TaskSpec,
    Usage,
    Variant,
)

T = TypeVar("T")


@dataclass
class BuildContext:
    """Handed to every backend factory.

    :param run_id: The run the backend serves (``""`` outside a run, e.g. in ``darwin plugins``).
    :param run_dir: The run's local directory (scratch space, logs); ``None`` outside a run.
    :param config_dir: Directory of the config file; resolve relative paths against it.
    :param seed: The run's seed.
    :param hook: The run's pluggy hook relay (``pm.hook``), to notify observers.
    :param services: Engine services a backend may use, by name: ``storage`` (the run's
        :class:`Storage`), ``ledger`` (the run's :class:`SpendLedger`; see :data:`LEDGER`).
    """

    run_id: str = ""
    run_dir: Path | None = None
    config_dir: Path = field(default_factory=Path.cwd)
    seed: int = 0
    hook: Any = None
    services: dict[str, Any] = field(default_factory=dict)


LEDGER = "ledger"
"""Key of the run's :class:`SpendLedger` in :attr:`BuildContext.services` (the engine puts it in
every backend's context, in remote workers too; outside a run it records nothing durably)."""


@runtime_checkable
class SpendLedger(Protocol):
    """The run's spend ledger and hard budgets; the engine owns it, plugins report to it.

    A backend that pays for model calls calls :meth:`check` before each call and :meth:`spend`
    after it, then :meth:`flush` before its attempt returns. Thread-safe; shared by every
    attempt of the run in this process.
    """

    storage: Storage | None
    """The run's storage (``None`` outside a run), for backends that keep records there."""

    def check(self) -> None:
        """Raise :class:`~darwin_hookspecs.errors.BudgetExceededError` when a budget is spent
        (the engine then stops the run, resumably)."""
        ...

    def spend(self, attempt_id: str, usage: Usage) -> None:
        """Record one call of ``attempt_id`` (``usage.cached``: answered from a cache, costs
        nothing); durable after the next :meth:`flush`."""
        ...

    def defer_record(self, attempt_id: str, collection: str, key: str, value: dict[str, Any]) -> None:
        """Write a record to the run's storage behind the caller's back (the first writer of
        a key wins); durable after :meth:`flush` of ``attempt_id``. Nothing without storage."""
        ...

    def flush(self, attempt_id: str | None = None) -> None:
        """Wait until what ``attempt_id`` (default: every attempt) spent and deferred is
        durable; raise :class:`~darwin_hookspecs.errors.StorageError` if a write failed."""
        ...


@runtime_checkable
class Sandbox(Protocol):
    """Runs untrusted commands. Must be safe to call from several threads at once.

    ``run`` never raises for anything the command does (crash, timeout, OOM): it reports it in
    :class:`ExecResult`. It raises only when the sandbox itself is unusable. Files the command
    writes in ``request.workdir`` are visible there on the host when ``run`` returns; nothing
    else on the host may change.
    """

    def run(self, request: ExecRequest) -> ExecResult: ...

    def close(self) -> None: ...

    def guarantees(self) -> dict[str, bool]:
        """Which isolation properties hold (``network``, ``read_only_host``, ``memory_limit``,
        ``pids_limit``, ``no_secrets``...), so users can see what a backend can honour."""
        ...


@runtime_checkable
class Benchmark(Protocol):
    """Validates variants empirically.

    ``mode`` is ``"program"`` when the variant *is* the code under test, ``"agent"`` when the
    variant is an agent whose outputs on each task are graded.

    Optional members (the engine reads them with ``getattr``; a benchmark without them gets
    the defaults):

    * ``objective``: an :class:`~darwin_hookspecs.metrics.Objective` (or a method returning
      one) naming the metric the run optimises and its direction. Default: ``score`` (the
      weighted mean task score, pass/fail tasks scoring 1/0), maximised.
    * ``metric_aggregation``: how task metrics become a variant's metric: ``"mean"`` (default:
      the weighted mean over the tasks reporting it) or ``"last"`` (the value of the last task,
      in :meth:`tasks` order, that reports it: a cascade whose later stages refine earlier ones).
    * ``ordered``: ``True`` to evaluate tasks in :meth:`tasks` order (a cascade) instead of the
      run's seeded shuffle.

    Tasks with ``holdout = True`` are held out: the engine never shows them to a generator nor
    uses them for selection, acceptance or stopping; it evaluates them on each new best. Each
    task's command should read ``DARWIN_SEED`` from its environment for any randomness (the
    engine sets it through the sandbox, varied per ``[evaluation] repeats``).
    """

    mode: Literal["program", "agent"]

    def tasks(self) -> list[TaskSpec]:
        """All tasks, in a stable order."""
        ...

    def evaluate(
        self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Sandbox
    ) -> list[TaskResult]:
        """Evaluate the variant whose code is in ``variant_dir`` (read it; do not modify it) on
        ``tasks``, running its code only through ``sandbox``. Return one result per task, in
        order. A crash of the variant is a failed result, never an exception."""
        ...


@dataclass
class GenerationContext:
    """Everything a generator may use to propose a child.

    :param parent_dir: A private copy of the parent's code (the generator may read it freely).
    :param target: The weakness this attempt is aimed at.
    :param memory: Hints from memory plugins (``darwin_memory_retrieve``), most relevant first.
    :param sandbox: The run's sandbox, for generators that run code (the ``self`` generator).
    :param benchmark: The run's benchmark, read-only (the LLM generator shows its objective).
    :param record_usage: Call with each :class:`Usage` as soon as it is spent (the ledger).
    :param sibling_index: How many attempts were planned on the same parent earlier in the run
        (0 for the first), so a generator can enumerate a parent's neighbourhood without
        repeats. It is derived from the run's records, so a resumed run (or a retry) sees the
        same value.
    :param inspirations: Other variants a generator may draw on (crossover's second parent,
        an LLM prompt's examples), each with its code in ``files``.
    :param operator_stats: ``{label: (children that improved on their parent, children)}`` for
        each label in recorded children's ``metadata["families"]``, over earlier generations
        only (so it does not depend on the executor's timing); filled by the engine.
    :param siblings: The parent's recorded children of those same earlier generations, oldest
        first (their edits and scores: a numeric line search reads which moves of a literal
        failed); derived from the run's records like ``operator_stats``, so a resume sees the
        same; filled by the engine.
    """

    run_id: str
    attempt_id: str
    parent: Variant
    parent_dir: Path
    target: Target
    seed: int
    memory: list[str] = field(default_factory=list)
    sandbox: Sandbox | None = None
    benchmark: Benchmark | None = None
    record_usage: Callable[[Usage], None] | None = None
    sibling_index: int = 0
    inspirations: list["Inspiration"] = field(default_factory=list)
    operator_stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    siblings: list["Sibling"] = field(default_factory=list)


@dataclass
class Sibling:
    """A recorded child of the parent (:attr:`GenerationContext.siblings`), without its code.

    :param edits: Its proposal's ``metadata["edits"]`` (a generator's own keys for its edits).
    :param families: Its proposal's ``metadata["families"]`` (the labels ``operator_stats`` counts).
    :param sibling_index: Its attempt's ``sibling_index`` on the parent.
    :param duplicate_of: The evaluated variant its code equals (it was not evaluated: ``score``
        is that variant's when known, else 0).
    """

    variant_id: str
    generation: int
    status: str
    score: float
    edits: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    sibling_index: int = 0
    duplicate_of: str | None = None


@dataclass
class Inspiration:
    """A variant handed to a generator besides its parent, with its whole code.

    :param files: ``{relative path: text}`` of the variant's code.
    :param ancestor_files: The code of the most recent common ancestor of this variant and
        the parent (``None`` when the engine did not compute it; crossover then uses the root).
    """

    variant: Variant
    files: dict[str, str]
    ancestor_id: str | None = None
    ancestor_files: dict[str, str] | None = None


@runtime_checkable
class Generator(Protocol):
    """Proposes a child of a parent variant."""

    def propose(self, context: GenerationContext) -> Proposal: ...


@runtime_checkable
class Storage(Protocol):
    """Durable key-value store for one run: records in collections, and content-addressed blobs.

    Writes are atomic (never half-visible) and conditional: ``put_record`` with
    ``if_version=None`` creates and raises :class:`~darwin_hookspecs.errors.ConflictError` if the
    key exists; with a version string it replaces only when the stored version still equals it.
    Reading a record that is not valid JSON raises ``CorruptRecordError`` naming it, reading a
    blob whose bytes do not hash to its key raises ``CorruptBlobError`` naming it.

    Optional methods, called through :mod:`darwin_hookspecs.storage_api` (``open_batch``,
    ``acquire_lease``, ``list_keys``), which fall back to defaults for a backend without them:
    ``batch()`` (a unit of work's writes, committed together where the backend can),
    ``acquire_lease(owner, ttl_s)`` (one writer per run) and ``keys(collection)``.
    """

    url: str

    def put_blob(self, data: bytes) -> str:
        """Store ``data``; return its key (sha256 hex). Idempotent."""
        ...

    def get_blob(self, key: str) -> bytes: ...

    def has_blob(self, key: str) -> bool: ...

    def iter_blob_keys(self) -> Iterator[str]: ...

    def put_record(
        self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None
    ) -> str:
        """Create (``if_version=None``) or conditionally replace a record; return its version."""
        ...

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        """Return ``(value, version)``; raise ``NotFoundError`` if absent."""
        ...

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        """Yield ``(key, value, version)`` for every record of ``collection``."""
        ...

    def collections(self) -> list[str]: ...

    def close(self) -> None: ...


@runtime_checkable
class Predictor(Protocol):
    """Estimates an attempt's outcome before it is paid for, learning from finished ones."""

    def predict(self, features: list[dict[str, Any]]) -> list[Prediction]: ...

    def observe(self, features: dict[str, Any], outcome: dict[str, Any]) -> None: ...

    def state(self) -> bytes: ...

    def load_state(self, data: bytes) -> None: ...

    def metrics(self) -> dict[str, float]: ...


@runtime_checkable
class Executor(Protocol):
    """Runs attempts concurrently. ``fn`` is a module-level function and ``args`` are picklable,
    so a distributed executor can ship them to another machine."""

    max_workers: int

    def submit(self, fn: Callable[..., T], *args: Any) -> "Future[T]": ...

    def shutdown(self, wait: bool = True) -> None: ...


class ArchiveView(Protocol):
    """Read-only view of the archive given to selection strategies.

    The engine's archive also has ``objective`` (the run's
    :class:`~darwin_hookspecs.metrics.Objective`): a strategy reads it with ``getattr`` and ranks
    by ``objective.utility(variant.score)`` (higher is better whatever the direction); scores
    are in [0, 1] only when ``objective.unit_interval``.

    It also has, for strategies that keep an index instead of scanning it
    (read them with ``getattr``; a view without them is scanned): ``summaries_since(count)``,
    the summaries (``id``, ``parent_id``, ``generation``, ``status``, ``score``,
    ``stage_reached``, ``exhausted``, ``neighbourhood``...) of the variants added after the
    first ``count``, in the order they were added; and ``epoch``, bumped when a held variant is
    replaced (an index built from ``summaries_since`` then starts again from 0).
    """

    def variants(self) -> list[Variant]:
        """Every variant, in creation order."""
        ...

    def selectable(self) -> list[Variant]:
        """Variants that may be parents (status ``accepted``), in creation order."""
        ...

    def children(self, variant_id: str) -> list[Variant]: ...

    def get(self, variant_id: str) -> Variant: ...


@runtime_checkable
class SelectionStrategy(Protocol):
    """Chooses parents for the next generation."""

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        """Return ``n`` parent ids (repetition allowed) drawn with ``rng`` only."""
        ...


@runtime_checkable
class Memory(Protocol):
    """Remembers what worked and what failed, and hints generators (the ``[memory]`` backend).

    The engine builds the configured one in the orchestrator when a run starts and attaches it
    to the memory hooks: :meth:`retrieve` answers ``darwin_memory_retrieve`` and :meth:`record`
    receives ``darwin_memory_record``, with the same arguments. Called from the orchestrator's
    thread only.
    """

    def retrieve(self, run: RunInfo, parent: Variant, target: Target) -> list[str]:
        """Hints for a child of ``parent`` aimed at ``target``, most relevant first."""
        ...

    def record(self, run: RunInfo, attempt: Attempt, parent: Variant, child: Variant) -> None:
        """Learn from a finished attempt (``child.status`` says whether it was accepted)."""
        ...
