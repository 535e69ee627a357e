"""The ``local`` sandbox: one subprocess per request, isolated as far as the host allows."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

from darwin_hookspecs import ExecRequest, ExecResult, SandboxError, UserError
from darwin_hookspecs.trash import Trash

from .bwrap import bwrap_argv, bwrap_usable, run_env
from .capture import Capture, feed_in_background
from .cgroups import CgroupRun, CgroupV1
from .options import NOBODY, SANDBOX_DIR, STAGE_ROOT, LocalSandboxOptions
from .prologue import NOT_FOUND, prologue
from .interpreter import resolve_python, with_python
from .isolation import require_isolation
from .setpriv import probe_nobody
from .staging import reap_stages, stage_in, stage_out
from .bytecode import ScriptCodes
from .pool import WarmPool


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
        require_isolation(options, self.bwrap)
        self.cgroups = CgroupV1.available() if options.cgroups != "off" else None
        if options.cgroups == "require" and self.cgroups is None:
            raise UserError(
                "sandbox 'local' with cgroups = \"require\" needs writable cgroup v1 memory, "
                "pids and cpu controllers under /sys/fs/cgroup; fix: run as root on a cgroup v1 "
                "host, or set cgroups = \"auto\""
            )
        # The working copy is staged on a tmpfs only when a memory cgroup bounds what the run
        # can write there (tmpfs pages are charged to the writer's cgroup).
        want_stage = options.stage_on_tmpfs == "on" or (
            options.stage_on_tmpfs == "auto" and self.cgroups is not None)
        self.stage_dir = STAGE_ROOT if want_stage and os.access(STAGE_ROOT, os.W_OK) else None
        if self.stage_dir is not None or options.warm:
            reap_stages()  # warm servers' roots live there too
        self.python = resolve_python(options.python)
        self._python_bin = Path(self.python).parent
        self.codes = ScriptCodes(self.python)
        """Compiled trusted scripts of warm runs (:mod:`.bytecode`)."""
        self._prefixes = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
        # As root, start bubblewrap as `nobody` (setpriv) when a staged copy can be given to it.
        self.drop_to_nobody: list[str] = []
        if self.bwrap and self.stage_dir is not None and os.geteuid() == 0:
            self.drop_to_nobody = probe_nobody(
                self.python, lambda request, workdir, drop: self._command(request, workdir, drop)[0])
        if options.warm and not os.access(STAGE_ROOT, os.W_OK):
            raise UserError(f"sandbox 'local' with warm = true needs a writable {STAGE_ROOT}; "
                            "fix: set warm = false")
        self.trash = Trash("darwin-local-trash")
        """Used staged copies, deleted behind the runs (drained by :meth:`close`)."""
        self.warm = WarmPool(self, options.warm_idle) if options.warm else None
        # close() or, if it is never called, garbage collection or the interpreter's exit
        self._close = weakref.finalize(self, _shut, self.warm, self.trash)

    def guarantees(self) -> dict[str, bool]:
        isolated = self.bwrap is not None
        cgroups = self.cgroups is not None
        return {
            "timeout_kills_process_tree": True,
            "rlimits": True,
            "no_secrets_in_env": True,
            "host_files_hidden": isolated,
            "network_isolated": isolated,
            "read_only_host": isolated,
            "pid_namespace": isolated,
            "no_leftover_processes": isolated or cgroups,
            "memory_limit": True,
            "pids_limit": cgroups,
            "cpu_limit": cgroups,
            "disk_limit": self.stage_dir is not None and cgroups,
            "output_limit": True,
            "non_root_user": os.geteuid() != 0 or bool(self.drop_to_nobody),
            # runs see a copy of the working copy, never its files (hard links are safe)
            "private_working_copy": self.stage_dir is not None or self.warm is not None,
            "warm": self.warm is not None,
        }

    def close(self) -> None:
        self._close()  # once: a finalizer runs at most once

    # --------------------------------------------------------------------- run

    def _command(self, request: ExecRequest, workdir: str, drop: list[str] | None = None,
                 sockets: list[tuple[Path, str]] = ()) -> tuple[list[str], str, dict[str, str]]:
        """``(argv, cwd, env)`` of the subprocess."""
        if self.bwrap is None:
            return list(request.argv), workdir, run_env(self._python_bin, request, workdir)
        env = run_env(self._python_bin, request, SANDBOX_DIR)
        argv = bwrap_argv(self.bwrap, request, workdir, env, [*self._prefixes, *self.options.extra_ro_paths],
                          self.drop_to_nobody if drop is None else drop, sockets)
        return argv, workdir, {}

    def run(self, request: ExecRequest) -> ExecResult:
        request = with_python(request, self.python)
        if self.warm is not None:
            return self.warm.run(request, self._run_cold)
        return self._run_cold(request)

    def _run_cold(self, request: ExecRequest) -> ExecResult:
        start = time.monotonic()
        workdir = Path(request.workdir).resolve()
        sockets: list[tuple[Path, str]] = []
        if self.stage_dir:
            stage = stage_in(workdir, NOBODY if self.drop_to_nobody else None, sockets,
                             link_sockets=self.bwrap is None)
        else:
            stage = None
        group = None
        try:
            argv, cwd, env = self._command(request, str(stage or workdir), sockets=sockets)
            group = self.cgroups.create(request, self.options) if self.cgroups else None
            argv = prologue(request, group.procs_files() if group else []) + argv
            try:
                proc = subprocess.Popen(
                    argv, cwd=cwd, env=env,
                    stdin=subprocess.PIPE if request.stdin else subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                )
            except OSError as exc:
                raise SandboxError(f"local sandbox could not start {argv[0]!r}: {exc}") from exc
            result = self._supervise(request, proc, group, start)
            if group:
                group.destroy()  # nothing may still write into the staged copy
                group = None
            if stage is not None and request.copy_back:
                for _, rel in sockets:  # the bind targets / links stand for host sockets
                    (stage / rel).unlink(missing_ok=True)
                stage_out(stage, workdir, result)
            return result
        finally:
            if group:
                group.destroy()
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)

    def _supervise(self, request: ExecRequest, proc: subprocess.Popen[bytes],
                   group: CgroupRun | None, start: float) -> ExecResult:
        out = Capture(proc.stdout, request.output_limit_bytes)
        err = Capture(proc.stderr, request.output_limit_bytes)
        if request.stdin:
            feed_in_background(proc, request.stdin)
        reason: str | None = None
        deadline = start + request.timeout_s
        exited = _ExitWaiter(proc)
        try:
            while True:
                try:
                    exited(0.05 if proc.returncode is None else 0)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        reason = "timeout"
                    elif out.overflow or err.overflow:
                        reason = "output_limit"
                    if reason:
                        _kill_group(proc)
                        if group:
                            group.kill_all()
                        proc.wait()
                        break
        finally:
            exited.close()
        _kill_group(proc)  # leftovers (daemons) in the process group
        if group:
            group.kill_all()  # ...and those that left it (setsid, double fork)
        out.join()
        err.join()
        code = proc.returncode
        stderr = err.text()
        if code == 127 and stderr.startswith(NOT_FOUND):
            return ExecResult(exit_code=127, stderr=stderr, duration_s=time.monotonic() - start)
        if reason is None and (out.overflow or err.overflow):
            reason = "output_limit"
        if reason is None and ((group and group.oom_killed()) or "MemoryError" in stderr[-2000:]):
            reason = "oom"
        if reason is None and code is not None and code < 0:
            reason = "signal"
        return ExecResult(
            exit_code=code, stdout=out.text(), stderr=stderr,
            duration_s=time.monotonic() - start, timed_out=reason == "timeout",
            killed_reason=reason, truncated=out.overflow or err.overflow,
        )


def _shut(warm: WarmPool | None, trash: Trash) -> None:
    """Close the warm servers, then wait for the used copies to be deleted."""
    try:
        if warm is not None:
            warm.close()
    finally:
        trash.drain()


class _ExitWaiter:
    """``wait(timeout)`` for ``proc`` that returns as soon as it exits: a ``select`` on its
    pidfd (``Popen.wait(timeout)`` sleeps in growing steps, so it notices an exit up to ~20 ms
    late), else ``Popen.wait``; raises ``TimeoutExpired`` like it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        try:
            self.pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # no pidfd here (old kernel, other platform)
            self.pidfd = None

    def __call__(self, timeout: float) -> None:
        if self.pidfd is None or self.proc.returncode is not None:
            self.proc.wait(timeout=timeout)
            return
        ready, _, _ = select.select([self.pidfd], [], [], timeout)
        if not ready:
            raise subprocess.TimeoutExpired(self.proc.args, timeout)
        self.proc.wait()

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
