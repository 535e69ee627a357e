"""The warm mode of the ``local`` sandbox (``warm = true``): pre-started fork servers.

A :class:`WarmServer` is one :mod:`.forkserver` process started like a normal run (bubblewrap
namespace, as ``nobody`` when possible, in its own memory/pids/cpu cgroups), with a host
directory bound at ``/sandbox``. Per request, the working copy is staged into ``/sandbox/w``,
the server hands it to its child forked ahead (its *spare*; see :mod:`.forkserver`) and the
copy comes back through the filtered tar, as in a normal run; a script the caller vouches for
comes compiled (:mod:`.bytecode`). Servers are pooled (:mod:`.pool`) per :class:`Profile` (the cgroup limits, network, preloaded
modules). A server is discarded (and a replacement warmed in the background) when its run timed
out, flooded its output, hit the memory limit, or tampered: left a process or a file outside
its working copy, or the server stopped answering. Servers are started by the pool's
:class:`~.spawner.Spawner` thread (so that they die with the orchestrator, not with the thread
that asked for them), and the pool holds its sandbox weakly: a sandbox dropped without
``close()`` is closed when collected or at the interpreter's exit (``weakref.finalize``), so no
server, cgroup or ``/dev/shm`` root outlives it.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darwin_hookspecs import ExecRequest, ExecResult, SandboxError

from .bwrap import run_env
from .capture import Drain, drain, feed_in_background
from .cgroups import CgroupRun
from .options import CGROUP_PREFIX, NOBODY, SANDBOX_DIR, STAGE_ROOT
from .prologue import NOT_FOUND
from .spawner import Spawner
from .wire import recv_exact, rlimits
from .staging import discard_stage, stage_in, stage_out

if TYPE_CHECKING:
    from .sandbox import LocalSandbox

SOURCE = Path(__file__).with_name("forkserver.py")
WORK = "w"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Profile:
    """What a server is fixed to when it starts."""

    memory_mb: int | None
    pids: int | None
    network: bool
    preload: tuple[str, ...]


def profile_of(request: ExecRequest) -> Profile:
    return Profile(request.memory_mb, request.pids, request.network,
                   tuple(sorted(getattr(request, "preload", ()) or ())))


class NeedsCold(Exception):
    """The request cannot be served warm (its working copy holds a Unix socket to bind)."""


class WarmServer:
    """One fork server: its process, control socket, cgroups and bound root directory."""

    def __init__(self, owner: "LocalSandbox", profile: Profile, spawner: Spawner) -> None:
        self.profile = profile
        self.isolated = owner.bwrap is not None
        self.runs = 0
        # On the tmpfs where stage_in copies (a rename moves the copy in); owned by us, so that
        # a child can write only in its own copy below it.
        self.root = Path(tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}-warm-", dir=STAGE_ROOT))
        self.owner_uid = NOBODY if owner.drop_to_nobody else None
        self.root.chmod(0o755)
        self.group: CgroupRun | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl = ours
        try:
            self._start(owner, theirs, spawner)
        except BaseException:
            self.destroy()
            raise
        finally:
            theirs.close()

    def _start(self, owner: "LocalSandbox", theirs: socket.socket, spawner: Spawner) -> None:
        p = self.profile
        template = ExecRequest(argv=[owner.python, "-c", SOURCE.read_text(),
                                     str(theirs.fileno()), ",".join(p.preload)],
                               workdir=self.root, memory_mb=p.memory_mb, pids=p.pids,
                               network=p.network)
        argv, cwd, env = owner._command(template, str(self.root))
        if owner.cgroups is not None:
            if p.pids:  # the server and bubblewrap's monitor count too
                template.pids = p.pids + 2
            self.group = owner.cgroups.create(template, owner.options)
        joins = [f"echo $$ > {path} || exit 125" for path in (self.group.procs_files() if self.group else [])]
        shell = ["/bin/sh", "-c", "\n".join([*joins, "ulimit -c 0", 'exec "$@"']), "sh"]
        self.proc = spawner.popen([*shell, *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     pass_fds=[theirs.fileno()], start_new_session=True)
        self.ctl.settimeout(START_TIMEOUT_S)
        hello = self._read()
        self.ctl.settimeout(None)
        if hello is None or "ready" not in hello:
            err = self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else b""
            raise SandboxError("local sandbox: the warm fork server did not start "
                               f"({err.decode(errors='replace')[-2000:]!r}); fix: set warm = false")
        self.baseline, self.server_pid = self._processes(hello.get("spare"))

    def _processes(self, spare_pid: int | None) -> tuple[set[int], int | None]:
        """The group's processes but the server's spare (``spare_pid`` is its pid as the server
        sees it, in its PID namespace), and the server's host pid (the spare's parent)."""
        pids = set(self.group.pids()) if self.group else set()
        spare = next((p for p in pids if _ns_pid(p) == spare_pid), None)
        return pids - {spare}, (_ppid(spare) if spare is not None else None)

    # ----------------------------------------------------------------- protocol

    def _read(self) -> dict[str, Any] | None:
        head = recv_exact(self.ctl, 8)
        if head is None:
            return None
        data = recv_exact(self.ctl, struct.unpack("!Q", head)[0])
        return json.loads(data) if data is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(self, owner: "LocalSandbox", request: ExecRequest) -> tuple[ExecResult, bool]:
        """One request; the result and whether the server may serve another."""
        start = time.monotonic()
        workdir = Path(request.workdir).resolve()
        sockets: list[tuple[Path, str]] = []
        stage = self.root / WORK
        copied = stage_in(workdir, self.owner_uid, sockets, link_sockets=True)
        if sockets and self.isolated:  # a socket cannot be bound into a running namespace
            shutil.rmtree(copied, ignore_errors=True)
            raise NeedsCold()
        os.rename(copied, stage)
        inside = f"{SANDBOX_DIR}/{WORK}" if self.isolated else str(stage)
        env = run_env(owner._python_bin, request, inside)
        header = {"argv": list(request.argv), "env": env, "cwd": inside,
                  "rlimits": rlimits(request, address_space=self.group is None),
                  "wipe": ["/tmp", "/dev/shm"] if self.isolated else []}
        script = owner.codes.for_run(request, stage)
        if script is not None:
            header["script"] = script
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            data = json.dumps(header).encode()
            socket.send_fds(self.ctl, [struct.pack("!Q", len(data)) + data], [stdin_r, out_w, err_w])
        except OSError as exc:
            for fd in (stdin_r, stdin_w, out_r, out_w, err_r, err_w):
                os.close(fd)
            shutil.rmtree(stage, ignore_errors=True)
            raise SandboxError(f"local sandbox: warm fork server gone: {exc}") from exc
        for fd in (stdin_r, out_w, err_w):
            os.close(fd)
        writer = os.fdopen(stdin_w, "wb")
        out, err = Drain(out_r, request.output_limit_bytes), Drain(err_r, request.output_limit_bytes)
        if request.stdin:
            feed_in_background(_Stdin(writer), request.stdin)  # type: ignore[arg-type]
        else:
            writer.close()
        reason, reply = self._wait(start + request.timeout_s, out, err)
        healthy = reply is not None and reason is None
        if not healthy:
            self.kill()  # the child and everything in the namespace (removed by the pool)
        drain([out, err])
        result = self._result(request, reply, reason, out, err, start)
        if healthy and (result.killed_reason == "oom" or self._tampered(reply)):
            healthy = False
        for host_path, rel in sockets:
            (stage / rel).unlink(missing_ok=True)
        if request.copy_back:
            stage_out(stage, workdir, result)
        discard_stage(stage, owner.trash)
        self.runs += 1
        return result, healthy

    def _wait(self, deadline: float, out: Drain, err: Drain) -> tuple[str | None, dict[str, Any] | None]:
        """Read the run's output while waiting for the server's reply (the end of the run)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            pipes = [p for p in (out, err) if p.fd is not None]
            ready, _, _ = select.select([self.ctl, *(p.fd for p in pipes)], [], [], left)
            for pipe in pipes:
                if pipe.fd in ready:
                    pipe.read()
            if self.ctl in ready:
                reply = self._read()
                return (None if reply is not None else "signal"), reply
            if out.overflow or err.overflow:
                return "output_limit", None

    def _result(self, request: ExecRequest, reply: dict[str, Any] | None, reason: str | None,
                out: Drain, err: Drain, start: float) -> ExecResult:
        code = reply.get("exit") if reply else None
        stderr = err.text()
        if code == 127 and stderr.startswith(NOT_FOUND):
            return ExecResult(exit_code=127, stderr=stderr, duration_s=time.monotonic() - start)
        if reason is None and (out.overflow or err.overflow):
            reason = "output_limit"
        ended = reason == "signal" and reply is None  # the server itself died (OOM may pick it)
        if (reason is None or ended) and ((self.group and self.group.oom_killed()) or "MemoryError" in stderr[-2000:]):
            reason = "oom"
        if reason is None and code is not None and code < 0:
            reason = "signal"
        if ended:
            stderr += "\n[darwin local sandbox] the warm fork server ended; server discarded"
        return ExecResult(exit_code=code, stdout=out.text(), stderr=stderr,
                          duration_s=time.monotonic() - start, timed_out=reason == "timeout",
                          killed_reason=reason, truncated=out.overflow or err.overflow)

    def _tampered(self, reply: dict[str, Any] | None) -> bool:
        """Anything outside the working copy that the run left: processes, files."""
        if not self.alive() or not reply or reply.get("left"):
            return True
        if self.group is not None:
            for _ in range(20):
                if self._settled():
                    break
                time.sleep(0.005)
            else:
                return True
        try:
            return set(os.listdir(self.root)) - {WORK} != set()
        except OSError:
            return True

    def _settled(self) -> bool:
        """The group holds the server's processes, and at most one more: its next spare (a
        child of the server; a run's leftovers are the server's grandchildren or orphans)."""
        assert self.group is not None
        pids = set(self.group.pids())
        if not self.baseline <= pids:
            return False
        extra = pids - self.baseline
        return not extra or (len(extra) == 1 and self.server_pid is not None
                              and _ppid(next(iter(extra))) == self.server_pid)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.group is not None:
            self.group.kill_all()

    def destroy(self) -> None:
        self.kill()
        if self.group is not None:
            self.group.destroy()
            self.group = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if self.proc.stderr:
                self.proc.stderr.close()
        self.ctl.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _ns_pid(pid: int) -> int | None:
    """``pid``'s number in its innermost PID namespace (``None`` once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _ppid(pid: int) -> int | None:
    """The parent of ``pid`` (``None`` once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


class _Stdin:
    """What :func:`feed` needs of a ``Popen``: a ``stdin`` attribute."""

    def __init__(self, pipe: io.BufferedWriter) -> None:
        self.stdin = pipe
