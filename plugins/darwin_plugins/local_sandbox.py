"""Sandbox ``local``: a subprocess on the host, isolated as far as the host allows.

Always: a new session (process group) killed as a whole on timeout, rlimits (address space,
CPU time, file size), an environment holding only what the request declares, bounded output.
With bubblewrap (``isolation = "auto"`` finds it, ``"bwrap"`` requires it): no network (only
``lo``), a read-only view of the host's ``/usr`` and Python, a private ``/tmp``, its own PID
namespace (so nothing outlives the command), and an unprivileged uid. Without it the command
can read what the orchestrator's user can read and reach the network: ``guarantees()`` says so.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, ExecRequest, ExecResult, SandboxError, UserError, hookimpl

SANDBOX_DIR = "/sandbox"


class LocalSandboxOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    isolation: Literal["auto", "bwrap", "none"] = "auto"
    """``auto``: bubblewrap when installed and usable; ``bwrap``: required; ``none``: plain."""
    python: str = Field(default_factory=lambda: sys.executable)
    """Interpreter exposed as ``python``/``python3`` inside the sandbox."""
    extra_ro_paths: list[str] = Field(default_factory=list)
    """More host paths to expose read-only (bubblewrap only)."""


def bwrap_usable() -> bool:
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run(
            [exe, "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
            capture_output=True, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class LocalSandbox:
    """Runs each request as a subprocess (optionally inside bubblewrap)."""

    def __init__(self, options: LocalSandboxOptions) -> None:
        self.options = options
        if options.isolation == "none":
            self.bwrap: str | None = None
        else:
            usable = bwrap_usable()
            if options.isolation == "bwrap" and not usable:
                raise UserError(
                    "sandbox 'local' with isolation = \"bwrap\" needs a working bubblewrap; "
                    "fix: apt-get install bubblewrap, or set isolation = \"auto\" or \"none\""
                )
            self.bwrap = shutil.which("bwrap") if usable else None
        python = Path(options.python)
        self._python_bin = python.parent
        self._prefixes = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})

    def guarantees(self) -> dict[str, bool]:
        isolated = self.bwrap is not None
        return {
            "timeout_kills_process_tree": True,
            "rlimits": True,
            "no_secrets_in_env": True,
            "network_isolated": isolated,
            "read_only_host": isolated,
            "pid_namespace": isolated,
            "memory_limit": True,
        }

    def close(self) -> None:
        pass

    # --------------------------------------------------------------------- run

    def _env(self, request: ExecRequest, home: str) -> dict[str, str]:
        env = {
            "PATH": f"{self._python_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(request.env)
        return env

    def _command(self, request: ExecRequest) -> tuple[list[str], str, dict[str, str]]:
        workdir = str(Path(request.workdir).resolve())
        if self.bwrap is None:
            return list(request.argv), workdir, self._env(request, workdir)
        args = [
            self.bwrap, "--unshare-all", "--uid", "65534", "--gid", "65534",
            "--die-with-parent", "--new-session", "--as-pid-1",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        if request.network:
            args += ["--share-net", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
        for path in [*self._prefixes, *self.options.extra_ro_paths]:
            if path != "/usr" and Path(path).exists():
                args += ["--ro-bind", path, path]
        args += ["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]
        args += ["--bind", workdir, SANDBOX_DIR, "--chdir", SANDBOX_DIR, "--clearenv"]
        for key, value in self._env(request, SANDBOX_DIR).items():
            args += ["--setenv", key, value]
        args += ["--", *request.argv]
        return args, workdir, {}

    def run(self, request: ExecRequest) -> ExecResult:
        argv, cwd, env = self._command(request)
        limits = _limits(request)

        def preexec() -> None:  # runs in the child between fork and exec
            for which, value in limits:
                resource.setrlimit(which, (value, value))

        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.PIPE if request.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, preexec_fn=preexec if limits else None,
            )
        except FileNotFoundError as exc:
            return ExecResult(exit_code=127, stderr=f"command not found: {exc.filename}",
                              killed_reason=None)
        except OSError as exc:
            raise SandboxError(f"local sandbox could not start {argv[0]!r}: {exc}") from exc
        out = _Capture(proc.stdout, request.output_limit_bytes)
        err = _Capture(proc.stderr, request.output_limit_bytes)
        if request.stdin:
            threading.Thread(target=_feed, args=(proc, request.stdin), daemon=True).start()
        reason: str | None = None
        deadline = start + request.timeout_s
        while True:
            try:
                proc.wait(timeout=0.05 if proc.returncode is None else 0)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    reason = "timeout"
                elif out.overflow or err.overflow:
                    reason = "output_limit"
                if reason:
                    _kill_group(proc)
                    proc.wait()
                    break
        _kill_group(proc)  # leftovers (daemons) in the process group
        out.join()
        err.join()
        code = proc.returncode
        stderr = err.text()
        if reason is None and (out.overflow or err.overflow):
            reason = "output_limit"
        if reason is None and "MemoryError" in stderr[-2000:]:
            reason = "oom"
        if reason is None and code is not None and code < 0:
            reason = "signal"
        return ExecResult(
            exit_code=code, stdout=out.text(), stderr=stderr,
            duration_s=time.monotonic() - start, timed_out=reason == "timeout",
            killed_reason=reason, truncated=out.overflow or err.overflow,
        )


def _limits(request: ExecRequest) -> list[tuple[int, int]]:
    limits: list[tuple[int, int]] = []
    if request.memory_mb:
        limits.append((resource.RLIMIT_AS, request.memory_mb * 1024 * 1024))
    cpu = request.cpu_s or int(request.timeout_s) + 1
    limits.append((resource.RLIMIT_CPU, cpu))
    if request.file_size_mb:
        limits.append((resource.RLIMIT_FSIZE, request.file_size_mb * 1024 * 1024))
    return limits


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _feed(proc: subprocess.Popen[bytes], data: str) -> None:
    try:
        assert proc.stdin is not None
        proc.stdin.write(data.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass


class _Capture:
    """Reads a pipe in a thread, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: Any, limit: int) -> None:
        self.pipe, self.limit = pipe, limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            chunk = self.pipe.read1(65536)
            if not chunk:
                break
            room = self.limit - self.size
            if room > 0:
                self.chunks.append(chunk[:room])
                self.size += min(room, len(chunk))
            if len(chunk) > room:
                self.overflow = True  # keep draining so the command never blocks on a full pipe
        self.pipe.close()

    def join(self) -> None:
        self.thread.join(timeout=5)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _create(options: LocalSandboxOptions, context: BuildContext) -> LocalSandbox:
    return LocalSandbox(options)


@hookimpl
def darwin_register_sandboxes(registry: Any) -> None:
    registry.add(
        "local",
        _create,
        options=LocalSandboxOptions,
        description="Subprocess with timeout, rlimits and an empty environment; "
        "no network and a read-only host under bubblewrap when available.",
    )
