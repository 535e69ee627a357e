"""Per-run cgroup v1 limits (memory, pids, cpu), nested under the orchestrator's own cgroups.

They hold for root (RLIMIT_NPROC does not), give OOM detection, and let the sandbox kill every
process of a run at its end, including daemons that left the process group with ``setsid``.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from darwin_hookspecs import ExecRequest
from darwin_plugins.sandbox_common.reaping import kill_pids, orphaned

from .options import CGROUP_PREFIX, LocalSandboxOptions


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
            for path in orphaned(parent.glob(f"{CGROUP_PREFIX}*"), CGROUP_PREFIX):
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
            kill_pids(pids)
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
