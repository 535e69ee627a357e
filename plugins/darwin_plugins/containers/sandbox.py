"""The container sandbox shared by the ``docker`` and ``podman`` backends.

One ``run`` = take a warm container of the request's profile from the pool, one ``exec`` of the
supervisor (working copy in as tar on stdin, result + output + working copy out on stdout),
copy the working copy back, hand the container back (or destroy it when the run timed out,
was OOM-killed, or left the container in a state the supervisor could not clean).
"""

from __future__ import annotations

import atexit
import io
import os
import tarfile
import threading
import time
import uuid
import weakref
from typing import Any

from darwin_hookspecs import ExecRequest, ExecResult, SandboxError
from darwin_plugins.sandbox_common.transfer import unpack_into

from . import transfer
from .engine_client import Container, EngineClient, Outcome, Profile
from .options import ContainerSandboxOptions
from .pool import ContainerPool

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_open_sandboxes: "weakref.WeakSet[ContainerSandbox]" = weakref.WeakSet()


class ContainerSandbox:
    """Runs requests in locked-down, pooled containers of a Docker-compatible engine."""

    def __init__(self, backend: str, host: str, options: ContainerSandboxOptions,
                 run_id: str = "") -> None:
        self.backend, self.options = backend, options
        self.pool_id = uuid.uuid4().hex[:12]
        self.engine = EngineClient(backend, host, options, run_id, self.pool_id)
        self.reaped_at_start = self.engine.reap_orphans()
        self.pool = ContainerPool(options.pool_size, self.engine.create, self._destroy)
        self._closed = False
        self._lock = threading.Lock()
        _open_sandboxes.add(self)
        _register_atexit()

    # ------------------------------------------------------------ contract

    def guarantees(self) -> dict[str, bool]:
        opts = self.options
        return {
            "timeout_kills_process_tree": True,
            "no_leftover_processes": True,
            "no_secrets_in_env": not opts.pass_env,
            "network_isolated": not opts.allow_network,
            "read_only_host": True,
            "read_only_root": opts.read_only_root,
            "pid_namespace": True,
            "memory_limit": True,
            "pids_limit": True,
            "cpu_limit": True,
            "disk_limit": True,
            "output_limit": True,
            "non_root_user": opts.user.split(":")[0] not in ("0", "root"),
            "capabilities_dropped": opts.drop_capabilities,
            "no_new_privileges": opts.no_new_privileges,
            "pooled": opts.pool_size > 0,
        }

    def run(self, request: ExecRequest) -> ExecResult:
        if self._closed:
            raise SandboxError(f"sandbox {self.backend!r} is closed; fix: create a new one")
        start = time.monotonic()
        profile = self._profile(request)
        try:
            archive = transfer.pack_records(request.workdir)
        except OSError as exc:
            raise SandboxError(f"sandbox {self.backend!r} cannot read the working copy "
                               f"{request.workdir}: {exc}") from exc
        for attempt in range(2):
            container = self.pool.acquire(profile)
            outcome = self.engine.supervise(
                container, self._config(request), archive,
                deadline_s=request.timeout_s + self.options.timeout_margin_s,
                max_output=2 * request.output_limit_bytes + (self.options.workdir_size_mb << 20)
                + (8 << 20),
            )
            if attempt == 0 and outcome.problem.startswith("exec failed"):
                # A warm container that died while idle: replace it and try once more.
                self.pool.release(container, healthy=False)
                continue
            return self._finish(request, container, outcome, start)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for container_id in self.pool.close():
            self.engine.remove(container_id)
        for container_id in self.engine.list_ids(**{"darwin.pool": self.pool_id}):
            self.engine.remove(container_id)
        if self.backend == "podman":
            self.engine.reap_monitors()
        _open_sandboxes.discard(self)

    # ------------------------------------------------------------- helpers

    def _destroy(self, container_id: str) -> None:
        self.engine.remove(container_id)
        if self.backend == "podman":
            self.engine.reap_monitors()

    def _profile(self, request: ExecRequest) -> Profile:
        return Profile(
            image=request.image or self.options.image,
            memory_mb=request.memory_mb or self.options.memory_mb,
            pids=request.pids or self.options.pids,
            network=bool(request.network and self.options.allow_network),
        )

    def _config(self, request: ExecRequest) -> dict[str, Any]:
        env = {"PATH": BASE_PATH, "HOME": self.options.workdir, "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1"}
        for name in self.options.pass_env:
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(request.env)
        return {
            "argv": list(request.argv), "env": env, "workdir": self.options.workdir,
            "timeout_s": request.timeout_s,
            "cpu_s": request.cpu_s or int(request.timeout_s) + 1,
            "file_size_mb": request.file_size_mb,
            "output_limit_bytes": request.output_limit_bytes, "stdin": request.stdin,
        }

    def _finish(self, request: ExecRequest, container: Container, outcome: Outcome,
                start: float) -> ExecResult:
        result = outcome.result
        if result is None:
            self.pool.release(container, healthy=False)
            reason = "timeout" if outcome.host_timeout else "infra"
            if reason == "infra" and outcome.problem.startswith("the supervisor ended"):
                reason = "signal"  # the command killed its own supervisor
            message = f"[darwin {self.backend} sandbox] {outcome.problem}; container discarded"
            return ExecResult(
                exit_code=None, stderr=_text(outcome.stderr) + "\n" + message,
                duration_s=time.monotonic() - start, timed_out=reason == "timeout",
                killed_reason=reason,
            )
        reason = result.get("reason")
        healthy = not outcome.problem and reason not in ("timeout", "oom")
        if healthy and self.engine.leftovers(container):
            healthy = False  # something outlived the run despite the supervisor: discard
        if container.runs + 1 >= self.options.max_runs:
            healthy = False  # recycle (Podman keeps two conmon processes per exec alive)
        stderr = _text(outcome.stderr)
        try:
            unpack_into(request.workdir, transfer.records_to_tar(outcome.archive))
        except (tarfile.TarError, OSError) as exc:
            healthy = False
            stderr += f"\n[darwin {self.backend} sandbox] working copy not copied back: {exc}"
            reason = reason or "infra"
        self.pool.release(container, healthy=healthy)
        return ExecResult(
            exit_code=result.get("exit_code"), stdout=_text(outcome.stdout), stderr=stderr,
            duration_s=time.monotonic() - start, timed_out=reason == "timeout",
            killed_reason=reason, truncated=bool(result.get("truncated")),
        )


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


_atexit_registered: list[bool] = []


def _register_atexit() -> None:
    if not _atexit_registered:
        _atexit_registered.append(True)
        atexit.register(_close_all)


def _close_all() -> None:
    for sandbox in list(_open_sandboxes):
        try:
            sandbox.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
