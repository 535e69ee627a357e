"""The spend ledger and hard budgets of a run.

Every model call (by a generator, or by an agent through the gateway) is one entry: tokens in and
out, dollars, role (``diagnose``, ``implement``, ``agent``...), attempt, model. Entries are
records of the run's storage (collection ``llm_ledger``), so they move with the run and
``darwin status`` shows them. Calls answered from the response cache are recorded with
``cached=True`` and count for nothing.

Budgets (``[budget]``: ``tokens``, ``usd``, ``wall_time_s``) are checked *before* each call: once
one is spent, the call raises :class:`~darwin_hookspecs.BudgetExceededError`, the engine puts the
attempt back to ``planned`` and stops the run as ``stopped``; ``darwin resume DIR --set
budget.usd=...`` continues it. Calls already in flight finish (a run may overshoot by at most
the calls of its concurrent attempts). ``wall_time_s`` counts from when this process opened the
ledger (one session of the run).

Plugins never import this module: the engine hands the run's ledger to backends as the
:class:`~darwin_hookspecs.SpendLedger` service ``BuildContext.services["ledger"]`` (a
:class:`RunLedger`, which opens the :class:`Ledger` on first use).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from darwin_hookspecs import (BudgetExceededError, BuildContext, CorruptRecordError, NotFoundError, Storage,
                              StorageError, Usage)

COLLECTION = "llm_ledger"


@dataclass
class LedgerEntry:
    """One model call."""

    attempt_id: str
    role: str
    model: str
    provider: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    at: float = field(default_factory=time.time)

    def usage(self) -> Usage:
        return Usage(role=self.role, model=self.model, provider=self.provider,
                     input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                     cost_usd=self.cost_usd, calls=1, cached=self.cached)


@dataclass
class Totals:
    """Sums over ledger entries (cached calls are counted apart and cost nothing)."""

    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    by_role: dict[str, dict[str, float]] = field(default_factory=dict)
    by_model: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, entry: LedgerEntry) -> None:
        if entry.cached:
            self.cached_calls += 1
            return
        self.calls += 1
        self.input_tokens += entry.input_tokens
        self.output_tokens += entry.output_tokens
        self.cost_usd += entry.cost_usd
        for table, key in ((self.by_role, entry.role), (self.by_model, entry.model)):
            row = table.setdefault(key, {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
            row["calls"] += 1
            row["input_tokens"] += entry.input_tokens
            row["output_tokens"] += entry.output_tokens
            row["cost_usd"] += entry.cost_usd


@dataclass
class Budget:
    tokens: int | None = None
    usd: float | None = None
    wall_time_s: float | None = None

    @classmethod
    def from_config(cls, data: dict[str, Any] | None) -> "Budget":
        data = data or {}
        return cls(tokens=data.get("tokens"), usd=data.get("usd"), wall_time_s=data.get("wall_time_s"))


class RecordWriter:
    """Writes records to storage on background threads (write-behind), so a durable store's
    fsyncs overlap the model calls instead of adding to them, and run in parallel. ``put``
    returns an event set once the record is durable; :meth:`Ledger.flush` waits for an attempt's
    events before the attempt returns, so a crash can lose at most the records of calls still
    in flight. A write failure is re-raised by the next flush."""

    def __init__(self, storage: Storage, threads: int = 8) -> None:
        self.storage = storage
        self.queue: "queue.Queue[tuple[str, str, dict[str, Any], bool, threading.Event]]" = queue.Queue()
        self.error: BaseException | None = None
        for index in range(threads):
            threading.Thread(target=self._run, daemon=True, name=f"darwin-ledger-writer-{index}").start()

    def put(self, collection: str, key: str, value: dict[str, Any], *,
            ignore_conflict: bool = False) -> threading.Event:
        done = threading.Event()
        self.queue.put((collection, key, value, ignore_conflict, done))
        return done

    def _run(self) -> None:
        from darwin_hookspecs import ConflictError

        while True:
            collection, key, value, ignore_conflict, done = self.queue.get()
            try:
                self.storage.put_record(collection, key, value)
            except ConflictError:
                if not ignore_conflict:
                    self.error = self.error or StorageError(f"record {collection}/{key} written twice")
            except BaseException as exc:  # noqa: BLE001 - reported by flush()
                self.error = self.error or exc
            finally:
                done.set()
                self.queue.task_done()

    def raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise StorageError(f"could not record model spend in {getattr(self.storage, 'url', 'storage')}: "
                               f"{error}; fix: check the run's storage, then `darwin resume`") from error


class Ledger:
    """Thread-safe; shared by every attempt (and the gateway) of a run in this process."""

    def __init__(self, storage: Storage | None, budget: Budget | None = None, run_id: str = "") -> None:
        self.storage = storage
        self.budget = budget or Budget()
        self.run_id = run_id
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self.totals = Totals()
        self.per_attempt: dict[str, Totals] = {}
        self.writer = RecordWriter(storage) if storage is not None else None
        self._pending: dict[str, list[threading.Event]] = {}
        if storage is not None:
            for entry in load_entries(storage):
                self._add(entry)

    def _add(self, entry: LedgerEntry) -> None:
        self.totals.add(entry)
        self.per_attempt.setdefault(entry.attempt_id, Totals()).add(entry)

    def record(self, entry: LedgerEntry) -> None:
        """Add one call (durable after the next :meth:`flush`)."""
        if self.writer is not None:
            key = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
            self.track(entry.attempt_id, self.writer.put(COLLECTION, key, asdict(entry)))
        with self._lock:
            self._add(entry)

    def spend(self, attempt_id: str, usage: Usage) -> None:
        """:meth:`record` one call given as :class:`Usage` (the :class:`SpendLedger` method)."""
        self.record(LedgerEntry(attempt_id=attempt_id, role=usage.role, model=usage.model,
                                provider=usage.provider, input_tokens=usage.input_tokens,
                                output_tokens=usage.output_tokens, cost_usd=usage.cost_usd,
                                cached=usage.cached))

    def defer_record(self, attempt_id: str, collection: str, key: str, value: dict[str, Any]) -> None:
        """Write ``value`` on the ledger's writer (a conflict is ignored); durable after
        :meth:`flush` of ``attempt_id``. Nothing without storage."""
        if self.writer is not None:
            self.track(attempt_id, self.writer.put(collection, key, value, ignore_conflict=True))

    def track(self, attempt_id: str, done: threading.Event) -> None:
        """Make :meth:`flush` of ``attempt_id`` wait for ``done`` (a pending write)."""
        with self._lock:
            self._pending.setdefault(attempt_id, []).append(done)

    def flush(self, attempt_id: str | None = None) -> None:
        """Wait until the entries (and cached replies) of ``attempt_id`` (default: all) are
        durable; re-raise a failed write. Inside :func:`flush_at_job_end` for that attempt, only
        re-raise: the wait happens when the block ends."""
        if self.writer is None:
            return
        if attempt_id is not None and getattr(_DEFERRED, "attempt_id", None) == attempt_id:
            _DEFERRED.ledgers.append(self)
            self.writer.raise_error()
            return
        with self._lock:
            if attempt_id is None:
                events = [e for pending in self._pending.values() for e in pending]
                self._pending.clear()
            else:
                events = self._pending.pop(attempt_id, [])
        for event in events:
            event.wait()
        self.writer.raise_error()

    def check(self) -> None:
        """Raise :class:`BudgetExceededError` when a budget is spent."""
        with self._lock:
            t, b = self.totals, self.budget
            reason = ""
            if b.tokens is not None and t.tokens >= b.tokens:
                reason = f"token budget spent ({t.tokens} of budget.tokens={b.tokens})"
                key, value = "tokens", max(b.tokens * 2, t.tokens + 1)
            elif b.usd is not None and t.cost_usd >= b.usd:
                reason = f"dollar budget spent (${t.cost_usd:.4f} of budget.usd={b.usd})"
                key, value = "usd", round(max(b.usd * 2, t.cost_usd + 0.01), 4)
            elif b.wall_time_s is not None and time.monotonic() - self.started >= b.wall_time_s:
                reason = f"wall-time budget spent (budget.wall_time_s={b.wall_time_s} in this session)"
                key, value = "wall_time_s", b.wall_time_s
        if reason:
            raise BudgetExceededError(
                f"{reason}; new attempts stopped and the run is resumable; fix: raise it, e.g. "
                f"`darwin resume RUN_DIR --set budget.{key}={value}`"
            )

    def attempt_totals(self, attempt_id: str) -> Totals:
        with self._lock:
            return self.per_attempt.get(attempt_id, Totals())


_DEFERRED = threading.local()


@contextmanager
def flush_at_job_end(attempt_id: str) -> Iterator[None]:
    """An executor job's block (one thread): a generator's :meth:`Ledger.flush` of
    ``attempt_id`` inside it does not wait; the records are waited for when the block ends,
    before the job returns. So the spend's write-behind overlaps the child's evaluation instead
    of delaying it, and is still durable before the attempt's result is recorded."""
    _DEFERRED.attempt_id, _DEFERRED.ledgers = attempt_id, []
    try:
        yield
    finally:
        ledgers, _DEFERRED.attempt_id, _DEFERRED.ledgers = _DEFERRED.ledgers, None, []
        for ledger in dict.fromkeys(ledgers):
            ledger.flush(attempt_id)


def load_entries(storage: Storage) -> list[LedgerEntry]:
    """Every recorded call, each checked: a garbled entry is :class:`CorruptRecordError`
    (exit 4) naming it, never a silent zero (budgets are enforced from this total)."""
    try:
        rows = list(storage.scan(COLLECTION))
    except NotFoundError:
        return []
    except CorruptRecordError as exc:
        raise CorruptRecordError(f"the spend ledger ({COLLECTION}) of {storage.url} is corrupt: {exc}; "
                                 f"{LEDGER_FIX}") from None
    return [_entry(storage, key, value) for key, value, _ in rows]


LEDGER_FIX = ("fix: restore the record from a backup, or delete it if the spend it recorded may be "
              "forgotten (budgets count every entry)")


def _entry(storage: Storage, key: str, value: Any) -> LedgerEntry:
    names = set(LedgerEntry.__dataclass_fields__)
    try:
        entry = LedgerEntry(**{k: v for k, v in value.items() if k in names})
        if not (isinstance(entry.attempt_id, str) and all(
                isinstance(getattr(entry, f), int) and getattr(entry, f) >= 0
                for f in ("input_tokens", "output_tokens"))
                and isinstance(entry.cost_usd, (int, float)) and entry.cost_usd >= 0):
            raise TypeError("a field has the wrong type or is negative")
    except (AttributeError, TypeError) as exc:
        raise CorruptRecordError(f"ledger record {COLLECTION}/{key} in {storage.url} is corrupt ({exc}); "
                                 f"{LEDGER_FIX}") from None
    return entry


def summarize(storage: Storage) -> dict[str, Any]:
    """What ``darwin status`` shows about spend."""
    totals = Totals()
    for entry in load_entries(storage):
        totals.add(entry)
    return {
        "llm_calls": totals.calls,
        "llm_cached_calls": totals.cached_calls,
        "tokens_in": totals.input_tokens,
        "tokens_out": totals.output_tokens,
        "llm_cost_usd": round(totals.cost_usd, 6),
        "llm_by_role": totals.by_role,
    }


class RunLedger:
    """The ``ledger`` service of a run: the :class:`Ledger` of :func:`ledger_for`, opened on
    first use (a run whose backends spend nothing never opens it)."""

    def __init__(self, context: BuildContext) -> None:
        self._context = context
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    @property
    def ledger(self) -> Ledger:
        with self._lock:
            if self._ledger is None:
                self._ledger = ledger_for(self._context)
            return self._ledger

    @property
    def storage(self) -> Storage | None:
        return self.ledger.storage

    @property
    def totals(self) -> Totals:
        return self.ledger.totals

    def check(self) -> None:
        self.ledger.check()

    def spend(self, attempt_id: str, usage: Usage) -> None:
        self.ledger.spend(attempt_id, usage)

    def defer_record(self, attempt_id: str, collection: str, key: str, value: dict[str, Any]) -> None:
        self.ledger.defer_record(attempt_id, collection, key, value)

    def flush(self, attempt_id: str | None = None) -> None:
        if self._ledger is not None:
            self._ledger.flush(attempt_id)


def ledger_for(context: BuildContext) -> Ledger:
    """A ledger for a backend being built: the run's storage and its ``[budget]``.

    In the orchestrator the storage comes from ``context.services``; in a remote worker both
    are read from the run directory's pointer file.
    """
    storage = context.services.get("storage")
    budget: dict[str, Any] | None = None
    run_dir = Path(context.run_dir) if context.run_dir else None
    if run_dir is not None and (run_dir / "run.json").is_file():
        from .run import RunHandle
        from .rundir import read_pointer

        budget = read_pointer(run_dir).config.get("budget")
        if storage is None:
            storage = RunHandle.open(run_dir, load=False).storage
    return Ledger(storage, Budget.from_config(budget), run_id=context.run_id)
