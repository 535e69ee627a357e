"""Sandbox ``local``: a subprocess on the host, isolated as far as the host allows.

Always: a new session (process group) killed as a whole on timeout, rlimits (address space,
CPU time, file size), an environment holding only what the request declares, bounded output.
With bubblewrap (``isolation = "auto"`` finds it, ``"bwrap"`` requires it): no network (only
``lo``), a read-only view of the host's ``/usr`` and Python, a private ``/tmp``, its own PID
namespace (so nothing outlives the command), and an unprivileged uid. Without it the command
can read what the orchestrator's user can read and reach the network: ``guarantees()`` says so.

When the orchestrator may write cgroup v1 controllers (root, as in CI), each run also gets its
own ``memory``, ``pids`` and ``cpu`` cgroups (nested under the orchestrator's own): memory and
process-count limits that hold for root (RLIMIT_NPROC does not), a CPU quota, OOM detection, and
a kill of every process in the cgroup at the end, which catches daemons that left the process
group with ``setsid``. Limits are applied by a tiny ``/bin/sh`` prologue (join the cgroups,
``ulimit``, ``exec``), so no ``preexec_fn`` forces a slow ``fork`` of the orchestrator. With
cgroups the run works on a copy of the working copy staged on ``/dev/shm`` (copied back through
a filtered tar afterwards): tmpfs pages count against the memory cgroup, so filling the "disk"
ends in an OOM kill instead of filling the host's disk.
What ``local`` cannot honour without cgroups (non-root): pids/CPU limits, a total disk quota
(only the per-file size limit), killing daemons that leave the process group (unless bubblewrap
gives a PID namespace); without bubblewrap: network isolation, a read-only host, hidden host
files and protection of other processes of the same user. ``guarantees()`` reports each.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, ExecRequest, ExecResult, SandboxError, UserError, hookimpl

SANDBOX_DIR = "/sandbox"
NOBODY = 65534
CGROUP_PREFIX = "darwin-local-"  # + orchestrator pid + "-" + random
STAGE_ROOT = Path("/dev/shm")


class LocalSandboxOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    isolation: Literal["auto", "bwrap", "none"] = "auto"
    """``auto``: bubblewrap when installed and usable; ``bwrap``: required; ``none``: plain."""
    python: str = Field(default_factory=lambda: sys.executable)
    """Interpreter exposed as ``python``/``python3`` inside the sandbox."""
    extra_ro_paths: list[str] = Field(default_factory=list)
    """More host paths to expose read-only (bubblewrap only)."""
    cgroups: Literal["auto", "require", "off"] = "auto"
    """Per-run cgroup v1 limits (memory, pids, cpu): ``auto`` when writable (root)."""
    cpus: float = Field(default=1.0, gt=0)
    """CPU quota per run, in cores (with cgroups)."""
    pids: int = Field(default=256, ge=8)
    """Process limit when a request leaves ``pids`` unset (with cgroups)."""
    stage_on_tmpfs: Literal["auto", "on", "off"] = "auto"
    """Run in a copy of the working copy on ``/dev/shm`` (copied back afterwards), so that
    what a run writes is bounded by its memory cgroup instead of filling the disk. ``auto``:
    when cgroups are in use."""


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
        if self.stage_dir is not None:
            _reap_stages()
        python = Path(options.python)
        self._python_bin = python.parent
        self._prefixes = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
        # As root, bubblewrap's sandbox would still be uid 0 on the host (in a user namespace,
        # without capabilities). With a staged copy we can do better: start bubblewrap as
        # `nobody` through setpriv, when that works here (the interpreter must be readable).
        self.drop_to_nobody: list[str] = []
        if self.bwrap and self.stage_dir is not None and os.geteuid() == 0:
            self.drop_to_nobody = self._probe_nobody()

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

    def _probe_nobody(self) -> list[str]:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            return []
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                  "--inh-caps=-all"]
        probe_dir = Path(tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}-", dir=STAGE_ROOT))
        try:
            os.chown(probe_dir, NOBODY, NOBODY)
            request = ExecRequest(argv=[self.options.python, "-c", "open('ok', 'w').write('1')"],
                                  workdir=probe_dir)
            argv, _, _ = self._command(request, str(probe_dir), prefix)
            done = subprocess.run(argv, cwd=probe_dir, capture_output=True, timeout=30)
            return prefix if done.returncode == 0 and (probe_dir / "ok").exists() else []
        except (OSError, subprocess.TimeoutExpired):
            return []
        finally:
            shutil.rmtree(probe_dir, ignore_errors=True)

    def _command(self, request: ExecRequest, workdir: str, drop: list[str] | None = None,
                 sockets: list[tuple[Path, str]] = ()) -> tuple[list[str], str, dict[str, str]]:
        if self.bwrap is None:
            return list(request.argv), workdir, self._env(request, workdir)
        args = [
            *(self.drop_to_nobody if drop is None else drop),
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
        args += ["--bind", workdir, SANDBOX_DIR]
        for host_path, rel in sockets:  # sockets of a staged working copy (e.g. a model gateway)
            args += ["--bind", str(host_path), f"{SANDBOX_DIR}/{rel}"]
        args += ["--chdir", SANDBOX_DIR, "--clearenv"]
        for key, value in self._env(request, SANDBOX_DIR).items():
            args += ["--setenv", key, value]
        args += ["--", *request.argv]
        return args, workdir, {}

    def run(self, request: ExecRequest) -> ExecResult:
        start = time.monotonic()
        workdir = Path(request.workdir).resolve()
        sockets: list[tuple[Path, str]] = []
        if self.stage_dir:
            stage = _stage_in(workdir, NOBODY if self.drop_to_nobody else None, sockets,
                              link_sockets=self.bwrap is None)
        else:
            stage = None
        group = None
        try:
            argv, cwd, env = self._command(request, str(stage or workdir), sockets=sockets)
            group = self.cgroups.create(request, self.options) if self.cgroups else None
            argv = _prologue(request, group.procs_files() if group else []) + argv
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
            if stage is not None:
                for _, rel in sockets:  # the bind targets / links stand for host sockets
                    (stage / rel).unlink(missing_ok=True)
                _stage_out(stage, workdir, result)
            return result
        finally:
            if group:
                group.destroy()
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)

    def _supervise(self, request: ExecRequest, proc: subprocess.Popen[bytes],
                   group: "CgroupRun | None", start: float) -> ExecResult:
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
                    if group:
                        group.kill_all()
                    proc.wait()
                    break
        _kill_group(proc)  # leftovers (daemons) in the process group
        if group:
            group.kill_all()  # ...and those that left it (setsid, double fork)
        out.join()
        err.join()
        code = proc.returncode
        stderr = err.text()
        if code == 127 and stderr.startswith(_NOT_FOUND):
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


_NOT_FOUND = "command not found:"


def _prologue(request: ExecRequest, procs_files: list[str]) -> list[str]:
    """``/bin/sh -c`` that joins the cgroups, sets rlimits and execs the command."""
    lines = [f"echo $$ > {shlex.quote(path)} || exit 125" for path in procs_files]
    # With a memory cgroup, RLIMIT_AS (which counts reserved, not used, memory and breaks
    # threaded programs: each thread's arena reserves 64 MiB) is left out.
    for flag, value in _limits(request, address_space=not procs_files):
        lines.append(f"ulimit -{flag} {value} || exit 125")
    lines.append('command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || '
                 f'{{ echo "{_NOT_FOUND} $1" >&2; exit 127; }}')
    if "PWD" not in request.env:
        lines.append("unset PWD")  # the shell exports it; the environment is only what is declared
    lines.append('exec "$@"')
    return ["/bin/sh", "-c", "\n".join(lines), "sh"]


def _reap_stages() -> None:
    """Remove staged copies left by orchestrators that died (kill -9) mid-run."""
    for path in STAGE_ROOT.glob(f"{CGROUP_PREFIX}*"):
        pid = path.name[len(CGROUP_PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def _stage_in(workdir: Path, owner: int | None, sockets: list[tuple[Path, str]] | None = None,
              link_sockets: bool = False) -> Path:
    """Copy the working copy to a tmpfs. Unix sockets (a model gateway listening in the
    working copy) cannot be copied: they are listed in ``sockets`` for the caller to bind, or
    symlinked when there is no bubblewrap to bind them."""
    stage = Path(tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}-", dir=STAGE_ROOT))
    found: list[tuple[Path, str]] = []

    def skip_sockets(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if stat.S_ISSOCK(path.lstat().st_mode):
                skipped.add(name)
                found.append((path, path.relative_to(workdir).as_posix()))
        return skipped

    shutil.copytree(workdir, stage, symlinks=True, dirs_exist_ok=True, ignore=skip_sockets)
    stage.chmod(workdir.stat().st_mode & 0o7777)
    for host_path, rel in found:
        if owner is not None:
            host_path.chmod(0o666)  # the run's uid must be able to connect
        if link_sockets:
            (stage / rel).symlink_to(host_path)
        else:
            (stage / rel).touch()  # a mount point for the bind
    if sockets is not None:
        sockets.extend(found)
    if owner is not None:  # the sandbox runs as this uid on the host: give it its copy
        os.chown(stage, owner, owner)
        for root, dirs, files in os.walk(stage):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), owner, owner)
    return stage


def _stage_out(stage: Path, workdir: Path, result: ExecResult) -> None:
    """Copy what the run left in the staged copy back (untrusted: filtered tar round trip)."""
    from darwin_plugins.containers import transfer  # stdlib-only helpers, no docker import

    try:
        transfer.unpack_into(workdir, io.BytesIO(transfer.pack(stage)))
    except (OSError, tarfile.TarError) as exc:
        result.stderr += f"\n[darwin local sandbox] working copy not copied back: {exc}"
        result.killed_reason = result.killed_reason or "infra"


def _limits(request: ExecRequest, address_space: bool = True) -> list[tuple[str, int]]:
    """``ulimit`` flags of /bin/sh (dash units: -v KiB, -t s, -f 512-byte blocks)."""
    limits: list[tuple[str, int]] = []
    if request.memory_mb and address_space:
        limits.append(("v", request.memory_mb * 1024))
    limits.append(("t", request.cpu_s or int(request.timeout_s) + 1))
    if request.file_size_mb:
        limits.append(("f", request.file_size_mb * 2048))
    limits.append(("c", 0))
    return limits


class CgroupV1:
    """Creates per-run cgroups under the orchestrator's own, in the v1 hierarchies."""

    ROOT = Path("/sys/fs/cgroup")
    CONTROLLERS = ("memory", "pids", "cpu")

    def __init__(self, parents: dict[str, Path]) -> None:
        self.parents = parents

    @classmethod
    def available(cls) -> "CgroupV1 | None":
        parents: dict[str, Path] = {}
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        for line in own:
            _, names, path = line.split(":", 2)
            for name in names.split(","):
                if name in cls.CONTROLLERS:
                    parents[name] = cls.ROOT / name / path.lstrip("/")
        if set(parents) != set(cls.CONTROLLERS):
            return None
        probe = cls(parents)
        try:
            probe.create(None, None).destroy()
        except OSError:
            return None
        probe.reap_orphans()
        return probe

    def reap_orphans(self) -> None:
        """Kill and remove the cgroups of orchestrators that died (kill -9) mid-run."""
        for controller, parent in self.parents.items():
            for path in parent.glob(f"{CGROUP_PREFIX}*"):
                pid = path.name[len(CGROUP_PREFIX):].split("-")[0]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    CgroupRun({controller: path}).destroy()

    def create(self, request: ExecRequest | None, options: LocalSandboxOptions | None) -> "CgroupRun":
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        dirs = {c: self.parents[c] / name for c in self.CONTROLLERS}
        run = CgroupRun(dirs)
        try:
            for path in dirs.values():
                path.mkdir()
            if request is not None and options is not None:
                memory = (request.memory_mb or 4096) * 1024 * 1024
                _write(dirs["memory"] / "memory.limit_in_bytes", memory)
                _write(dirs["memory"] / "memory.memsw.limit_in_bytes", memory, optional=True)
                _write(dirs["pids"] / "pids.max", request.pids or options.pids)
                period = 100_000
                _write(dirs["cpu"] / "cpu.cfs_period_us", period)
                _write(dirs["cpu"] / "cpu.cfs_quota_us", int(options.cpus * period))
        except OSError:
            run.destroy()
            raise
        return run


class CgroupRun:
    """The cgroups of one run: join, kill everything inside, detect OOM, remove."""

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs

    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for path in self.dirs.values()]

    def pids(self) -> list[int]:
        path = self.dirs.get("pids") or next(iter(self.dirs.values()))
        try:
            return [int(x) for x in (path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, budget_s: float = 5.0) -> bool:
        deadline = time.monotonic() + budget_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)

    def oom_killed(self) -> bool:
        try:
            text = (self.dirs["memory"] / "memory.oom_control").read_text()
        except (OSError, KeyError):
            return False
        for line in text.splitlines():
            if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                return True
        return False

    def destroy(self) -> None:
        self.kill_all()
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # zombies not yet reaped by their parent
                    time.sleep(0.01)


def _write(path: Path, value: int, optional: bool = False) -> None:
    try:
        path.write_text(str(value))
    except OSError:
        if not optional:
            raise


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
