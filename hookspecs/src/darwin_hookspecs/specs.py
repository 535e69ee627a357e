"""Hook specifications: the public contract of Darwin plugins.

Every hook is prefixed ``darwin_``. A plugin is a module or object with functions decorated by
:data:`darwin_hookspecs.hookimpl`, exposed through the ``darwin`` entry-point group::

    [project.entry-points.darwin]
    my_plugin = "my_package.plugin"

Hooks come in three families:

* **registration** (``darwin_register_*``): called once per run with a typed registry; add
  backends to it. Return ``None``.
* **configuration** (``darwin_configure``): a plugin receives its own ``[plugins.NAME]``
  options and the run directory.
* **memory** (``darwin_memory_*``): let plugins remember what worked and feed it to generators.
  The configured ``[memory]`` backend (registered with ``darwin_register_memory``) is attached
  to these two hooks by the engine, so its hints and those of any plugin implementing the hooks
  directly reach the generator through one path.
* **lifecycle** (``darwin_run_*``, ``darwin_attempt_*``, ...): observers, called for
  every event of a run, in order, from the orchestrator's thread (events of attempts that ran
  on an executor are reported when their outcome is recorded, with their original
  timestamps). Return values are ignored. Keep them fast. An exception in an observer stops
  the run, which stays resumable: catch what you can tolerate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .markers import hookspec

if TYPE_CHECKING:
    from pathlib import Path

    from .records import Attempt, Proposal, RunInfo, RunSummary, Target, TaskResult, Variant
    from .registry import (
        BenchmarkRegistry,
        ExecutorRegistry,
        GeneratorRegistry,
        MemoryRegistry,
        PredictorRegistry,
        SandboxRegistry,
        SelectorRegistry,
        StorageRegistry,
    )


# ---------------------------------------------------------------------------- registration


@hookspec
def darwin_register_generators(registry: "GeneratorRegistry") -> None:
    """Register generators, which propose children (patches) of a parent variant.

    :param registry: Call ``registry.add(name, factory, ...)`` for each generator.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_sandboxes(registry: "SandboxRegistry") -> None:
    """Register sandboxes, which run untrusted variant code in isolation.

    :param registry: Call ``registry.add(name, factory, ...)`` for each sandbox.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_benchmarks(registry: "BenchmarkRegistry") -> None:
    """Register benchmarks, which evaluate variants on tasks.

    :param registry: Call ``registry.add(name, factory, ...)`` for each benchmark.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_storage(registry: "StorageRegistry") -> None:
    """Register storage backends by URL scheme (``file``, ``mongodb``, ``s3``...).

    :param registry: Call ``registry.add(scheme, factory, ...)`` for each scheme.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_predictors(registry: "PredictorRegistry") -> None:
    """Register predictors, which estimate an attempt's outcome before it is paid for.

    :param registry: Call ``registry.add(name, factory, ...)`` for each predictor.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_executors(registry: "ExecutorRegistry") -> None:
    """Register executors, which run attempts concurrently (threads, Ray...).

    :param registry: Call ``registry.add(name, factory, ...)`` for each executor.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_selectors(registry: "SelectorRegistry") -> None:
    """Register parent-selection strategies (``score_child_prop``, ``best``...).

    :param registry: Call ``registry.add(name, factory, ...)`` for each strategy.
    :return: Nothing; every plugin's implementation is called.
    """


@hookspec
def darwin_register_memory(registry: "MemoryRegistry") -> None:
    """Register memory backends, which learn from finished attempts and hint generators.

    ``[memory] name = "..."`` picks one per run (validated before the run like every kind; the
    section's other keys are its options). The engine builds it in the orchestrator when the
    run starts and attaches it to the memory hooks: its ``retrieve`` answers
    ``darwin_memory_retrieve`` and its ``record`` receives ``darwin_memory_record``.

    :param registry: Call ``registry.add(name, factory, ...)`` for each memory backend.
    :return: Nothing; every plugin's implementation is called.
    """


# --------------------------------------------------------------------------- configuration


@hookspec
def darwin_configure(run: "RunInfo", options: Any, run_dir: "Path | None") -> None:
    """Receive this plugin's own ``[plugins.NAME]`` options, once per run, before
    ``darwin_run_started``. Called on each implementing plugin separately (not broadcast).

    Declare the options model as a module or object attribute ``darwin_options`` (a pydantic
    model class, ``extra="forbid"``): Darwin validates the section with it (errors name the
    section and key; exit 2) and passes the model instance, built from the defaults when the
    config has no such section. Without ``darwin_options`` the section arrives as a ``dict``.

    :param run: The run about to start (or resume).
    :param options: The validated options (model instance, or ``dict``).
    :param run_dir: The run's local directory (write files there, e.g. a CSV log);
        ``None`` when the run has none.
    :return: Nothing.
    """


# ---------------------------------------------------------------------------------- memory


@hookspec
def darwin_memory_retrieve(run: "RunInfo", parent: "Variant", target: "Target") -> list[str] | None:
    """Return hints for the generator about to propose a child of ``parent`` aimed at
    ``target`` (strategies that worked, failures to avoid), most relevant first.

    Called in the orchestrator before the attempt is shipped to an executor. The configured
    ``[memory]`` backend answers it too (see ``darwin_register_memory``).

    :param run: The run.
    :param parent: The parent variant.
    :param target: The weakness the attempt is aimed at.
    :return: A list of short texts, or ``None``. The results of all plugins are concatenated
        into the generator's ``GenerationContext.memory``.
    """


@hookspec
def darwin_memory_record(
    run: "RunInfo", attempt: "Attempt", parent: "Variant", child: "Variant"
) -> None:
    """Learn from a finished attempt: ``child.status`` says whether it was accepted.

    :param run: The run.
    :param attempt: The finished attempt (its ``target`` says what it was aimed at).
    :param parent: The parent variant.
    :param child: The recorded child (with its diff in ``child.patch_ref``).
    :return: Nothing.
    """


# ------------------------------------------------------------------------------- lifecycle


@hookspec
def darwin_run_started(run: "RunInfo", resumed: bool, services: dict[str, Any]) -> None:
    """A run starts (or resumes).

    :param run: The run's metadata.
    :param resumed: ``True`` when continuing an earlier run.
    :param services: Engine services by name (``storage``: the run's
        :class:`~darwin_hookspecs.protocols.Storage`, where plugins may save their state in
        their own collection so that it moves with the run).
    :return: Nothing.
    """


@hookspec
def darwin_run_finished(run: "RunInfo", summary: "RunSummary") -> None:
    """A run ends: completed, stopped by a budget, or failed.

    :param run: The run's metadata (``run.status`` is final).
    :param summary: Counts, best variant and why it stopped.
    :return: Nothing.
    """


@hookspec
def darwin_generation_started(run: "RunInfo", generation: int, attempts: list["Attempt"]) -> None:
    """A generation's attempts are planned and about to run.

    :param run: The run.
    :param generation: The generation number (the initial variant is generation 0).
    :param attempts: The planned attempts (parents and targets chosen).
    :return: Nothing.
    """


@hookspec
def darwin_generation_finished(run: "RunInfo", generation: int) -> None:
    """Every attempt of a generation is recorded.

    :param run: The run.
    :param generation: The generation number.
    :return: Nothing.
    """


@hookspec
def darwin_attempt_started(run: "RunInfo", attempt: "Attempt") -> None:
    """An attempt starts (its ``running`` record is durable).

    :param run: The run.
    :param attempt: The attempt.
    :return: Nothing.
    """


@hookspec
def darwin_proposal_generated(
    run: "RunInfo", attempt: "Attempt", proposal: "Proposal", started_at: float, duration_s: float
) -> None:
    """The generator returned a proposal.

    :param run: The run.
    :param attempt: The attempt.
    :param proposal: The proposal (changes, usage).
    :param started_at: Wall-clock start of the generator call (``time.time()``).
    :param duration_s: How long it took.
    :return: Nothing.
    """


@hookspec
def darwin_task_evaluated(run: "RunInfo", attempt: "Attempt | None", result: "TaskResult") -> None:
    """One task was evaluated on a variant.

    :param run: The run.
    :param attempt: The attempt whose child was evaluated, ``None`` for the initial variant.
    :param result: The task result (``duration_s`` is the task's own time).
    :return: Nothing.
    """


@hookspec
def darwin_attempt_finished(run: "RunInfo", attempt: "Attempt", child: "Variant | None") -> None:
    """An attempt ended and is recorded.

    :param run: The run.
    :param attempt: The attempt (``status`` ``finished`` or ``skipped``; ``error`` if any).
    :param child: The recorded child, or ``None`` if the attempt was skipped.
    :return: Nothing.
    """


@hookspec
def darwin_variant_accepted(run: "RunInfo", variant: "Variant") -> None:
    """A child entered the archive as a possible parent.

    :param run: The run.
    :param variant: The accepted variant.
    :return: Nothing.
    """


@hookspec
def darwin_variant_rejected(run: "RunInfo", variant: "Variant", reason: str) -> None:
    """A child was recorded but not accepted (invalid, error, or kept out by the policy).

    :param run: The run.
    :param variant: The rejected variant (``status`` says which).
    :param reason: Why, for people.
    :return: Nothing.
    """


@hookspec
def darwin_record_written(
    run_id: str, collection: str, key: str, nbytes: int, started_at: float, duration_s: float
) -> None:
    """A record was durably written to the run's storage.

    :param run_id: The run.
    :param collection: The record's collection (``variants``, ``attempts``...).
    :param key: The record's key.
    :param nbytes: Size of the encoded record.
    :param started_at: Wall-clock start of the write.
    :param duration_s: How long it took.
    :return: Nothing.
    """
