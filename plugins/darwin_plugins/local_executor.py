"""Executor ``local``: a bounded pool of threads in the orchestrator's process.

Threads are enough: an attempt spends its time waiting on sandboxed subprocesses or remote
model calls, and generated code never runs in this process.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, ExecutorRegistry, hookimpl

T = TypeVar("T")


class LocalExecutorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_workers: int = Field(2, ge=1, le=256)
    """Attempts run at once (each waits on the sandbox; more than the cores rarely helps)."""


class LocalExecutor:
    in_process = True
    """Jobs run in the orchestrator's process (the engine may submit a job before its
    ``running`` mark is durable: the job waits at its gate, see ``darwin_core.durable``)."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = self._threads = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="darwin-attempt")

    def allow_jobs(self, jobs: int) -> None:
        """Room for ``jobs`` jobs at once (before any is submitted): the engine's ``[run]
        lookahead`` keeps more jobs than ``max_workers`` in flight, and bounds their evaluations
        to ``max_workers`` itself."""
        if jobs > self._threads:  # a fresh pool: no job was submitted yet
            self._pool.shutdown(wait=False)
            self._threads = jobs
            self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="darwin-attempt")

    def submit(self, fn: Callable[..., T], *args: Any) -> "Future[T]":
        return self._pool.submit(fn, *args)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _create(options: LocalExecutorOptions, context: BuildContext) -> LocalExecutor:
    return LocalExecutor(options.max_workers)


@hookimpl
def darwin_register_executors(registry: ExecutorRegistry) -> None:
    registry.add(
        "local",
        _create,
        options=LocalExecutorOptions,
        description="Bounded thread pool in the orchestrator (attempts wait on sandboxes).",
    )
