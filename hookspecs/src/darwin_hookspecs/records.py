"""Records that cross the plugin boundary.

Plain dataclasses (the contract depends on pluggy alone). Every record converts to and from a
JSON-compatible ``dict`` with :func:`to_dict` / ``Record.from_dict`` so that any storage backend
can persist it without knowing its shape.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, TypeVar

VariantStatus = Literal["accepted", "rejected", "invalid", "error"]
"""``accepted``: in the archive and selectable. ``rejected``: valid but kept out by the archive
policy or the acceptance rule. ``invalid``: nothing to evaluate (empty or unappliable patch, a
child that does not build). ``error``: the generator or the evaluation crashed."""

AttemptStatus = Literal["planned", "running", "finished", "interrupted", "skipped", "abandoned"]

FailureKind = Literal[
    "fail", "error", "timeout", "oom", "output_limit", "crash", "infra", "not_run"
]

T = TypeVar("T")



def to_dict(record: Any) -> dict[str, Any]:
    """Convert a record (dataclass) to a JSON-compatible dict: what ``dataclasses.asdict``
    then a pass turning tuples into lists, keys into strings and paths into strings gives, in
    one pass (no copy of the leaves that need none: the engine writes several records per
    attempt)."""
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError("to_dict() should be called on dataclass instances")
    return _plain(record)


_ATOMS = frozenset({str, int, float, bool, type(None)})
_RECORD_FIELDS: dict[type, tuple[str, ...]] = {}
"""A dataclass's field names, looked up once per class."""


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    atoms = _ATOMS  # leaves are returned inline: most values of a record are atoms
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in atoms else _plain(v) for k, v in value.items()}
    names = _RECORD_FIELDS.get(kind)
    if names is None and not isinstance(value, (dict, list, tuple, type)) and dataclasses.is_dataclass(value):
        names = _RECORD_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    if names is not None:  # a dataclass (its field names looked up once per class)
        out = {}
        for name in names:
            v = getattr(value, name)
            out[name] = v if type(v) in atoms else _plain(v)
        return out
    if isinstance(value, dict):
        return {str(k): v if type(v) in atoms else _plain(v) for k, v in value.items()}
    if kind is list or isinstance(value, (list, tuple)):
        return [v if type(v) in atoms else _plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return copy.deepcopy(value)


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only the fields ``cls`` knows (records written by newer versions still load)."""
    names = _field_names(cls)
    if names.issuperset(data):  # the usual case: a copy, without a loop in Python
        return dict(data)
    return {k: v for k, v in data.items() if k in names}


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


@dataclass
class TaskSpec:
    """One task of a benchmark.

    :param id: Unique within the benchmark.
    :param weight: Relative weight in the aggregate score.
    :param timeout_s: Wall-clock limit for the task, ``None`` for the benchmark default.
    :param tags: Free labels (``"smoke"``, ``"slow"``...); stage selection may use them.
    :param data: Backend-specific description (command, test id, SWE-bench instance...).
    :param holdout: A held-out task: never shown to a generator, never used for selection,
        acceptance or stopping; evaluated only to check each new best (see docs/tasks.md).
    """

    id: str
    weight: float = 1.0
    timeout_s: float | None = None
    tags: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    holdout: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TaskSpec":
        return cls(**_known(cls, data))


@dataclass
class TaskResult:
    """The outcome of one task on one variant.

    :param score: The task's score, as the benchmark measured it (unbounded, never clamped):
        ``1.0`` / ``0.0`` for a pass/fail task; a task that reports a score (``DARWIN_SCORE=``,
        an evaluator's ``score`` metric) keeps its raw value. Always finite.
    :param failure_kind: ``None`` when passed; otherwise why (``fail``, ``timeout``, ``oom``...);
        ``error`` also when the task's output is unreadable (a NaN or infinite metric).
    :param log: A bounded excerpt of the task's output, kept for diagnosis.
    :param log_ref: Blob key of the full log, when stored.
    :param coverage: Optional ``{relative path: [line numbers]}`` of the variant's code that the
        task executed; generators use it to aim edits at the code a failing task exercises.
    :param runs: How many times the task was run (noise handling); ``flaky`` when results differed.
    :param metrics: Named float metrics the task reported (unbounded, finite); kept for passing
        tasks too. ``pass_rate`` is reserved (the engine computes it).
    :param artifacts: Bounded text the task produced (stdout/stderr excerpts, an evaluator's
        feedback); see :func:`darwin_hookspecs.metrics.bound_artifacts`. Kept for passing tasks too.
    """

    task_id: str
    passed: bool
    score: float
    duration_s: float = 0.0
    failure_kind: str | None = None
    log: str = ""
    log_ref: str | None = None
    coverage: dict[str, list[int]] | None = None
    runs: int = 1
    flaky: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TaskResult":
        return cls(**_known(cls, data))


@dataclass
class Target:
    """The concrete weakness an attempt is aimed at.

    :param kind: ``failing_task`` (a task the parent fails), ``explore`` (the parent fails no
        task), or a benchmark-specific kind such as ``empty_patch`` or ``context_length``.
    """

    kind: str
    task_id: str | None = None
    log: str = ""
    description: str = ""
    coverage: dict[str, list[int]] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Target":
        return cls(**_known(cls, data))


@dataclass
class Usage:
    """Tokens and dollars spent by one model call (or a sum of calls)."""

    role: str
    model: str = ""
    provider: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 1
    cached: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Usage":
        return cls(**_known(cls, data))


@dataclass
class Proposal:
    """What a generator returns: the child as whole-file changes against the parent.

    :param changes: ``{relative path: new text}``; ``None`` deletes the file. Empty means the
        generator proposes nothing (the child is recorded as ``invalid``).
    :param improvement_type: A short label (``mutation:comparison``, ``llm:search_replace``...).
    :param description: Human-readable summary of the change and why.
    :param usage: Model usage spent producing it (empty for offline generators).
    """

    changes: dict[str, str | None]
    improvement_type: str = ""
    description: str = ""
    usage: list[Usage] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecRequest:
    """A command to run inside a sandbox.

    :param argv: The command; ``argv[0]`` is looked up on the sandbox's ``PATH``.
    :param workdir: Host directory holding the working copy; the sandbox exposes it (writable)
        as the command's current directory and must not let the command write elsewhere.
    :param env: The *complete* environment of the command (the sandbox adds nothing secret).
    :param timeout_s: Wall-clock limit; the whole process tree is killed when it expires.
    :param memory_mb / cpu_s / file_size_mb / pids: Resource limits (``None``: backend default).
    :param network: Allow network access (off by default).
    :param output_limit_bytes: Output beyond this is discarded and the run marked truncated.
    :param image: Container image for container sandboxes (``None``: the sandbox's default);
        sandboxes without images ignore it.
    :param preload: Modules the command imports that a warm sandbox may import once, before
        forking the command's interpreter (a hint: other sandboxes ignore it).
    :param copy_back: What the command writes in its working copy must reach ``workdir``
        afterwards (the default). ``False``: the caller reads only the command's output, so a
        sandbox that runs on its own copy may skip copying it back (a hint).
    :param trusted: Paths relative to ``workdir`` (a directory covers what is below it) of
        files the caller vouches for: its own, laid over the working copy, never the code under
        evaluation. A sandbox may compile such a file outside the sandbox and reuse the
        bytecode while the file's content is unchanged (a hint: other sandboxes ignore it).
    """

    argv: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0
    memory_mb: int | None = 1024
    cpu_s: int | None = None
    file_size_mb: int | None = 256
    pids: int | None = 256
    network: bool = False
    output_limit_bytes: int = 8 * 1024 * 1024
    stdin: str | None = None
    image: str | None = None
    preload: list[str] = field(default_factory=list)
    copy_back: bool = True
    trusted: list[str] = field(default_factory=list)


@dataclass
class ExecResult:
    """What a sandbox reports about one :class:`ExecRequest`.

    :param killed_reason: ``None`` for a normal exit; otherwise ``timeout``, ``oom``,
        ``output_limit``, ``signal`` or ``infra`` (the sandbox itself failed).
    """

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    killed_reason: str | None = None
    truncated: bool = False


@dataclass
class Variant:
    """One node of the archive: a directory of code and how well it did.

    :param snapshot: ``{relative path: blob key or None}``: for the root the full tree, for a
        child only the files that differ from its parent (``None`` = deleted). The code of any
        variant is rebuilt by applying the chain from the root; blobs are content-addressed.
    :param patch_ref: Blob key of the unified diff against the parent (for people and LLMs).
    :param score: The benchmark's objective (:class:`~darwin_hookspecs.metrics.Objective`) for this variant, raw and
        never clamped; higher is better unless the objective minimises. By default the weighted
        mean task score over the *whole* task set, unevaluated tasks counting as 0: a lower
        bound, so partial evaluations never look better than they are.
    :param stage_reached: Index of the last evaluation stage run (``-1``: not evaluated).
    :param metrics: The variant's aggregate metrics (``score``, ``pass_rate`` and every metric
        its tasks reported), from which ``score`` is computed.
    :param repeats: With ``[evaluation] repeats``: ``values`` (the objective per repeat),
        ``seeds`` (each repeat's ``DARWIN_SEED``), ``mean`` and ``stderr``.
    """

    id: str
    parent_id: str | None
    generation: int
    status: VariantStatus
    score: float = 0.0
    task_results: dict[str, TaskResult] = field(default_factory=dict)
    snapshot: dict[str, str | None] = field(default_factory=dict)
    patch_ref: str | None = None
    generator: str = ""
    improvement_type: str = ""
    description: str = ""
    target: Target | None = None
    usage: list[Usage] = field(default_factory=list)
    cost_usd: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    stage_reached: int = -1
    attempt_id: str | None = None
    reason: str = ""
    created_at: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    repeats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Variant":
        kw = _known(cls, data)
        kw["task_results"] = {
            k: TaskResult.from_dict(v) for k, v in (kw.get("task_results") or {}).items()
        }
        if kw.get("target") is not None:
            kw["target"] = Target.from_dict(kw["target"])
        kw["usage"] = [Usage.from_dict(u) for u in kw.get("usage") or []]
        return cls(**kw)

    @property
    def failing_tasks(self) -> list[str]:
        return sorted(t for t, r in self.task_results.items() if not r.passed)


@dataclass
class Attempt:
    """One try at producing a child from a parent.

    An attempt is planned (recorded) before it runs, marked ``running`` when it starts and
    ``finished`` with its ``child_id`` when the child is recorded. A resumed run finds attempts
    left ``running`` by a crash, marks them ``interrupted`` and runs a retry (``retry_of``) once.
    """

    id: str
    generation: int
    index: int
    parent_id: str
    seed: int
    status: AttemptStatus = "planned"
    target: Target | None = None
    child_id: str | None = None
    error: str = ""
    retry_of: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Attempt":
        kw = _known(cls, data)
        if kw.get("target") is not None:
            kw["target"] = Target.from_dict(kw["target"])
        return cls(**kw)


@dataclass
class RunInfo:
    """Metadata of a run."""

    run_id: str
    name: str
    seed: int
    created_at: float
    status: str = "running"
    config: dict[str, Any] = field(default_factory=dict)
    darwin_version: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunInfo":
        return cls(**_known(cls, data))


@dataclass
class RunSummary:
    """What a finished (or stopped) run reports to observers."""

    run_id: str
    status: str
    attempts: int
    variants: int
    accepted: int
    best_id: str | None
    best_score: float
    initial_score: float
    stop_reason: str = ""
    cost_usd: float = 0.0


@dataclass
class Prediction:
    """A predictor's estimate for one planned attempt.

    :param p_accept: Probability that the attempt yields an accepted child (with the gate's
        ``objective = "improved"``: a child that improves on its parent).
    :param expected_delta: Expected score change of the child over its parent.
    """

    p_accept: float
    expected_delta: float = 0.0
