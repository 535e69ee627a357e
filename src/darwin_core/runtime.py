"""The backends of a run, built from its config by a fresh plugin manager.

The orchestrator builds one; a remote worker (e.g. a Ray task) builds its own from the same
config with :func:`runtime_for` and caches it for the life of its process.
"""

from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_hookspecs import Benchmark, BuildContext, Generator, Sandbox, TaskSpec, UserError

from .config import DarwinConfig, StageConfig, config_from_dict
from .plugins import PluginManager
from .training import TrainingView
from .trash import SCRATCH
from .workcopy import COPIES


@dataclass
class Runtime:
    """Everything needed to run attempts: plugins, backends, tasks and the stage plan."""

    config: DarwinConfig
    plugins: PluginManager
    run_id: str
    run_dir: Path
    generator: Generator
    sandbox: Sandbox
    benchmark: Benchmark
    tasks: list[TaskSpec]
    """The training tasks (the search sees these only)."""
    holdout_tasks: list[TaskSpec] = field(default_factory=list)
    """Held-out tasks: evaluated on new bests only (see :mod:`darwin_core.holdout`)."""

    @property
    def stages(self) -> list[StageConfig]:
        return self.config.evaluation.stages

    @property
    def last_stage(self) -> int:
        return len(self.stages) - 1

    def stage_sizes(self) -> list[int]:
        """Cumulative number of tasks evaluated up to each stage."""
        total = len(self.tasks)
        sizes = []
        for stage in self.stages:
            if stage.tasks == "all":
                n = total
            elif isinstance(stage.tasks, float) and stage.tasks <= 1.0 and not isinstance(stage.tasks, bool):
                n = max(1, round(stage.tasks * total))
            else:
                n = int(stage.tasks)
            sizes.append(min(max(n, sizes[-1] if sizes else 1), total))
        sizes[-1] = total if self.stages[-1].tasks == "all" else sizes[-1]
        return sizes

    def task_order(self, target_task: str | None) -> list[TaskSpec]:
        """The run's fixed, seeded task order, with the targeted task moved first."""
        order = list(self.tasks)
        if not getattr(self.benchmark, "ordered", False):  # a cascade keeps its order
            order = [order[i] for i in _shuffled(self.config.run.seed, len(order))]
        if target_task and self.config.evaluation.include_target:
            order.sort(key=lambda t: t.id != target_task)
        return order

    def close(self) -> None:
        try:
            self.sandbox.close()
        finally:
            close = getattr(self.benchmark, "close", None)
            if callable(close):
                close()
            COPIES.close(self.run_dir / "scratch")  # the workers' reused working copies
            SCRATCH.drain()  # the attempts' scratch directories, deleted behind their jobs


def build_runtime(
    config: DarwinConfig,
    *,
    run_id: str,
    run_dir: Path,
    plugins: PluginManager | None = None,
    services: dict[str, Any] | None = None,
) -> Runtime:
    plugins = plugins or PluginManager(disable=config.plugins.disable)
    services = dict(services or {})
    services.setdefault("config_source", config.source)
    context = BuildContext(
        run_id=run_id, run_dir=run_dir, config_dir=config.config_dir,
        seed=config.run.seed, hook=plugins.hook, services=services,
    )
    sandbox = plugins.create("sandbox", config.sandbox.name, config.sandbox.options, context)
    try:
        benchmark = plugins.create("benchmark", config.benchmark.name, config.benchmark.options, context)
        generator = plugins.create("generator", config.generator.name, config.generator.options, context)
    except BaseException:
        sandbox.close()
        raise
    every = benchmark.tasks()
    tasks = [t for t in every if not t.holdout]
    if every and not tasks:
        raise UserError(f"benchmark {config.benchmark.name!r} holds every task out; fix: keep some for the search")
    if not tasks:
        raise UserError(f"benchmark {config.benchmark.name!r} has no task; fix its task list")
    ids = [t.id for t in every]
    if len(set(ids)) != len(ids):
        raise UserError(f"benchmark {config.benchmark.name!r} has duplicate task ids")
    return Runtime(config=config, plugins=plugins, run_id=run_id, run_dir=run_dir,
                   generator=generator, sandbox=sandbox, benchmark=TrainingView(benchmark), tasks=tasks,
                   holdout_tasks=[t for t in every if t.holdout])


_RUNTIMES: dict[str, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def register_runtime(runtime: Runtime) -> None:
    """Make ``runtime`` the one attempts of its run use in this process."""
    with _RUNTIMES_LOCK:
        _RUNTIMES[runtime.run_id] = runtime


def unregister_runtime(run_id: str) -> None:
    with _RUNTIMES_LOCK:
        _RUNTIMES.pop(run_id, None)


def runtime_for(run_id: str, config_data: dict[str, Any], config_source: str | None, run_dir: str) -> Runtime:
    """The process-wide runtime of a run, built on first use (in remote workers)."""
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(run_id)
        if runtime is None:
            config = config_from_dict(config_data, source=Path(config_source) if config_source else None)
            runtime = build_runtime(config, run_id=run_id, run_dir=Path(run_dir))
            _RUNTIMES[run_id] = runtime
        return runtime


@functools.lru_cache(maxsize=64)
def _shuffled(seed: int, count: int) -> tuple[int, ...]:
    """The run's seeded task permutation (``random.shuffle``'s swaps depend on the length
    alone): seeded once per run, not per attempt."""
    order = list(range(count))
    random.Random(f"{seed}:tasks").shuffle(order)
    return tuple(order)
