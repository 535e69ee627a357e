"""Executor ``ray``: attempts run as Ray tasks on any node of a Ray cluster.

The orchestrator keeps the archive and every decision; a Ray task only runs the engine's pure
attempt jobs (``run_generate_job``: the proposal, then sandboxed evaluation; ``run_evaluate_job``
after a reviewing gate) on whichever node Ray
picks, rebuilding the run's backends there from the job's config (``runtime_for``), so the
sandbox is created on the node that runs the attempt. The job carries the parent's files.

A node lost mid-attempt (its raylet or worker process dies) is a *system failure*: Ray reruns
the task elsewhere, at most ``max_retries`` times (default once). Exceptions raised by the
attempt itself are never retried (an attempt records its own crashes as outcomes).

Connection: ``address = "auto"`` joins the cluster this machine belongs to (``ray start``),
``"ray://HOST:10001"`` reaches a remote head through Ray Client, and no address starts a
private local Ray on demand (stopped when the run ends). A process that already called
``ray.init`` keeps its connection.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, ExecutorRegistry, UserError, hookimpl

T = TypeVar("T")


class RayExecutorOptions(BaseModel):
    """``[executor] name = "ray"`` options."""

    model_config = ConfigDict(extra="forbid")
    address: str | None = None
    """``"auto"``, ``"ray://HOST:PORT"``, ``"HOST:PORT"``; unset: start a local Ray."""
    max_workers: int = Field(4, ge=0, le=4096)
    """Attempts in flight at once; ``0``: as many as the cluster's CPUs allow (``num_cpus`` each)."""
    num_cpus: float = Field(1.0, ge=0)
    """CPUs Ray reserves per attempt on its node (bounds attempts per node)."""
    num_gpus: float = Field(0.0, ge=0)
    memory_mb: int | None = Field(None, ge=1)
    """Memory Ray reserves per attempt (scheduling only; sandboxes enforce their own limits)."""
    resources: dict[str, float] = Field(default_factory=dict)
    """Custom resources per attempt, e.g. ``{sandbox = 1}`` to use only nodes that offer one."""
    max_retries: int = Field(1, ge=0, le=10)
    """Reruns of an attempt whose node or worker died (system failures only)."""
    local_num_cpus: int | None = Field(None, ge=1)
    """CPUs of the local Ray started when no ``address`` is given (default: all)."""
    namespace: str | None = None
    runtime_env: dict[str, Any] | None = None
    """Ray runtime environment for the attempt tasks (``env_vars``, ``py_modules``...)."""
    worker_run_dir: str | None = None
    """Directory the workers use as the run's local directory (scratch copies of variants);
    ``{run_id}`` is replaced. Default: the orchestrator's run directory path, which suits one
    machine or a shared filesystem."""


def _invoke(fn: Callable[..., T], *args: Any) -> T:
    """Runs inside a Ray worker: call the engine's module-level function."""
    return fn(*args)


class RayExecutor:
    """Submits ``fn(*args)`` as Ray tasks; results come back as ``concurrent.futures.Future``."""

    def __init__(self, options: RayExecutorOptions) -> None:
        import ray

        self.options = options
        self._ray = ray
        self._owns_ray = False
        self._lock = threading.Lock()
        self._pending: set[Any] = set()
        self._connect()
        self.max_workers = options.max_workers or self._cluster_slots()
        task_options: dict[str, Any] = {
            "num_cpus": options.num_cpus,
            "num_gpus": options.num_gpus,
            "max_retries": options.max_retries,
            "retry_exceptions": False,
        }
        if options.memory_mb:
            task_options["memory"] = options.memory_mb * 1024 * 1024
        if options.resources:
            task_options["resources"] = dict(options.resources)
        if options.runtime_env:
            task_options["runtime_env"] = options.runtime_env
        self._remote = ray.remote(_invoke).options(**task_options)

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        # Token auth breaks multi-node local clusters; workers inherit the driver's env.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if self.options.namespace:
            kwargs["namespace"] = self.options.namespace
        if self.options.address and self.options.address != "auto":
            _check_reachable(self.options.address)
        try:
            if self.options.address:
                ray.init(address=self.options.address, **kwargs)
            else:
                ray.init(num_cpus=self.options.local_num_cpus, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.options.address or "a local Ray"
            raise UserError(
                f"executor 'ray' cannot connect to {where}: {exc}; fix: start the cluster "
                "(`ray start --head` on the head, `ray start --address HEAD:6379` on the others) "
                "or correct [executor] address"
            ) from exc
        self._owns_ray = True

    def _cluster_slots(self) -> int:
        cpus = float(self._ray.cluster_resources().get("CPU", 1.0))
        per = self.options.num_cpus or 1.0
        return max(1, int(cpus // per))

    def submit(self, fn: Callable[..., T], *args: Any) -> "Future[T]":
        if self.options.worker_run_dir:
            args = tuple(self._relocate(arg) for arg in args)
        ref = self._remote.remote(fn, *args)
        future: Future[T] = ref.future()
        with self._lock:
            self._pending.add(ref)
        future.add_done_callback(lambda _f, r=ref: self._forget(r))
        return future

    def _relocate(self, job: Any) -> Any:
        """Point an attempt job (anything with ``run_dir`` and ``run_id``) at the workers' dir."""
        if dataclasses.is_dataclass(job) and hasattr(job, "run_dir") and hasattr(job, "run_id"):
            where = str(self.options.worker_run_dir).replace("{run_id}", job.run_id)
            return dataclasses.replace(job, run_dir=where)
        return job

    def _forget(self, ref: Any) -> None:
        with self._lock:
            self._pending.discard(ref)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            pending = list(self._pending)
        if pending:
            if wait:
                self._ray.wait(pending, num_returns=len(pending))
            else:
                for ref in pending:
                    self._ray.cancel(ref, force=True)
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()
            self._owns_ray = False


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on an unreachable head (``ray.init`` would wait for minutes)."""
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(
            f"executor 'ray': address {address!r} is not HOST:PORT, ray://HOST:PORT or \"auto\"; "
            "fix: [executor] address"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise UserError(
            f"executor 'ray': nothing answers at {address} ({exc}); fix: start the head "
            "(`ray start --head`) or correct [executor] address"
        ) from None


def _create(options: RayExecutorOptions, context: BuildContext) -> RayExecutor:
    return RayExecutor(options)


@hookimpl
def darwin_register_executors(registry: ExecutorRegistry) -> None:
    registry.add(
        "ray",
        _create,
        options=RayExecutorOptions,
        extra="ray",
        requires=("ray",),
        description="Attempts as Ray tasks on any node of a cluster (retried once if a node dies).",
    )
