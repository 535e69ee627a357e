"""Talks to a Docker-compatible engine API (Docker, or Podman's compat socket) with the
``docker`` SDK: creates locked-down containers, runs one supervised evaluation per ``exec``,
removes and reaps containers.

Every container carries labels: ``darwin.sandbox`` (backend), ``darwin.run`` (run id),
``darwin.owner`` (``host:pid:start-time`` of the orchestrator) and ``darwin.pool`` (the sandbox
instance), so that leftovers of a crashed orchestrator (kill -9) are found and removed at the
next start, and a test session can prove it left nothing behind.
"""

from __future__ import annotations

import json
import marshal
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_hookspecs import SandboxError
from darwin_plugins.sandbox_common.reaping import kill_pids, owner_alive, owner_label

from .options import ContainerSandboxOptions

LABEL_SANDBOX = "darwin.sandbox"
LABEL_RUN = "darwin.run"
LABEL_OWNER = "darwin.owner"
LABEL_POOL = "darwin.pool"
MAGIC = b"DARWIN-RESULT-1\n"

# PID 1 of every container: reaps orphans, ignores every signal sent from inside (init
# semantics: SIGINT back to default, nothing else handled), lives until removed. It runs as
# root without capabilities, so commands (another uid) can neither signal nor ptrace it and
# cannot use it to outlive their run.
INIT_SOURCE = (
    "import os,signal,time\n"
    "signal.signal(signal.SIGINT,signal.SIG_DFL)\n"
    "while True:\n"
    " try: os.wait()\n"
    " except OSError: time.sleep(1)\n"
)

_driver_cache: list[str] = []


def driver_source() -> str:
    if not _driver_cache:
        _driver_cache.append(Path(__file__).with_name("driver.py").read_text(encoding="utf-8"))
    return _driver_cache[0]


@dataclass(frozen=True)
class Profile:
    """What a container is created with; containers are pooled per profile."""

    image: str
    memory_mb: int
    pids: int
    network: bool


@dataclass
class Container:
    id: str
    profile: Profile
    created: float = field(default_factory=time.monotonic)
    runs: int = 0
    init_pid: int = 0  # host PID of the container's PID 1 (0: unknown, remote engine)
    procs_file: str = ""  # host path of its pids cgroup's cgroup.procs ("" if unreadable)


@dataclass
class Outcome:
    """What one supervised exec produced."""

    result: dict[str, Any] | None
    stdout: bytes = b""
    stderr: bytes = b""
    archive: bytes = b""
    problem: str = ""  # why the container must not be reused ("" = healthy)
    host_timeout: bool = False


class EngineClient:
    """A thread-safe wrapper over one engine connection."""

    def __init__(self, backend: str, host: str, options: ContainerSandboxOptions,
                 run_id: str, pool_id: str) -> None:
        import docker  # lazy: optional extra

        self.backend, self.host, self.options = backend, host, options
        self.labels = {LABEL_SANDBOX: backend, LABEL_RUN: run_id or "none",
                       LABEL_OWNER: owner_label(), LABEL_POOL: pool_id}
        try:
            self.client = docker.DockerClient(base_url=host, timeout=options.start_timeout_s)
            self.client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means the engine is unusable
            raise SandboxError(
                f"sandbox {backend!r} cannot reach its engine at {host}: {exc}; fix: start it "
                "(ci/services.sh start) or set [sandbox] host / DARWIN_"
                f"{backend.upper()}_HOST"
            ) from exc
        self.api = self.client.api
        self._lock = threading.Lock()
        self.removed: set[str] = set()

    # ------------------------------------------------------------ containers

    def create(self, profile: Profile) -> Container:
        import docker.errors

        opts = self.options
        tmpfs = {
            opts.workdir: f"rw,exec,nosuid,nodev,size={opts.workdir_size_mb}m,mode=1777",
            "/tmp": f"rw,nosuid,nodev,size={opts.tmp_size_mb}m,mode=1777",
        }
        host_config: dict[str, Any] = dict(
            read_only=opts.read_only_root, tmpfs=tmpfs,
            network_mode=opts.network_mode if (profile.network and opts.allow_network) else "none",
            mem_limit=f"{profile.memory_mb}m", memswap_limit=f"{profile.memory_mb}m",
            nano_cpus=int(opts.cpus * 1e9), pids_limit=profile.pids,
        )  # no `ulimits`: on Podman 4.3 any makes runc fail ("error setting rlimits"); the
        # supervisor sets the command's rlimits (core, cpu, fsize) itself
        if opts.drop_capabilities:
            host_config["cap_drop"] = ["ALL"]
        if opts.no_new_privileges:
            host_config["security_opt"] = ["no-new-privileges"]
        container_id = ""
        try:  # create + start, never `run`: it would try to pull a missing image
            container_id = self.api.create_container(
                profile.image, command=[opts.python, "-I", "-S", "-c", INIT_SOURCE],
                user="0:0", working_dir=opts.workdir, environment={}, labels=self.labels,
                network_disabled=not (profile.network and opts.allow_network),
                host_config=self.api.create_host_config(**host_config),
            )["Id"]
            self.api.start(container_id)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(
                f"sandbox {self.backend!r}: image {profile.image!r} not found on {self.host}; "
                "fix: build it (ci/build-image.sh, see docs/sandboxes.md) or set [sandbox] image"
            ) from exc
        except docker.errors.APIError as exc:
            if container_id:
                self.remove(container_id)
            raise SandboxError(
                f"sandbox {self.backend!r} could not start a container from {profile.image!r}: "
                f"{exc.explanation or exc}; fix: check the engine ({self.host}) and the image"
            ) from exc
        container = Container(id=container_id, profile=profile)
        self._locate(container)
        return container

    def _locate(self, container: Container) -> None:
        """Find the container's pids cgroup on this host, to check that runs leave nothing."""
        try:
            pid = int(self.api.inspect_container(container.id)["State"]["Pid"])
            with open(f"/proc/{pid}/cgroup", encoding="utf-8") as fh:
                for line in fh:
                    _, names, path = line.rstrip("\n").split(":", 2)
                    if "pids" in names.split(","):
                        procs = f"/sys/fs/cgroup/pids{path}/cgroup.procs"
                        with open(procs, encoding="utf-8") as check:
                            if str(pid) in check.read().split():
                                container.init_pid, container.procs_file = pid, procs
                        return
        except (OSError, ValueError, KeyError, TypeError):
            return
        except Exception:  # noqa: BLE001 - engine trouble: the check is simply unavailable
            return

    def leftovers(self, container: Container, settle_s: float = 0.5) -> list[int]:
        """Processes in the container besides its PID 1, seen from the host (not from inside,
        where a run could lie). Empty when the check is unavailable."""
        if not container.procs_file:
            return []
        deadline = time.monotonic() + settle_s
        while True:
            try:
                with open(container.procs_file, encoding="utf-8") as fh:
                    pids = [int(p) for p in fh.read().split() if int(p) != container.init_pid]
            except (OSError, ValueError):
                return [-1]  # the cgroup is gone: the container died
            if not pids or time.monotonic() > deadline:
                return pids
            time.sleep(0.01)

    def remove(self, container_id: str) -> None:
        try:
            self.api.remove_container(container_id, force=True, v=True)
        except Exception:  # noqa: BLE001 - already gone, or the engine is going away
            pass
        with self._lock:
            self.removed.add(container_id)

    def list_ids(self, **labels: str) -> list[str]:
        filters = [f"{k}={v}" for k, v in labels.items()] or [LABEL_SANDBOX]
        try:
            found = self.api.containers(all=True, filters={"label": filters})
        except Exception:  # noqa: BLE001
            return []
        return [c["Id"] for c in found]

    def reap_orphans(self) -> int:
        """Remove containers whose orchestrator on this host is gone (after kill -9)."""
        try:
            found = self.api.containers(all=True, filters={"label": [LABEL_OWNER]})
        except Exception:  # noqa: BLE001
            return 0
        removed = 0
        for info in found:
            owner = (info.get("Labels") or {}).get(LABEL_OWNER, "")
            if not owner_alive(owner):
                self.remove(info["Id"])
                removed += 1
        return removed

    def monitor_processes(self, container_ids: set[str]) -> list[int]:
        """Host processes (Podman's ``conmon``) still attached to removed containers."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv = fh.read().split(b"\0")
            except OSError:
                continue
            if not argv or not argv[0].endswith(b"conmon"):
                continue
            for flag, value in zip(argv, argv[1:]):
                if flag == b"-c" and value.decode(errors="replace") in container_ids:
                    found.append(int(entry))
        return found

    def reap_monitors(self) -> int:
        """Kill the ``conmon`` processes Podman 4.3 leaves behind (two per API exec, for
        300 s) once their container is removed; only ours, only on this host."""
        with self._lock:
            ids = set(self.removed)
        pids = self.monitor_processes(ids) if ids else []
        kill_pids(pids)
        return len(pids)

    # ------------------------------------------------------------------ exec

    def supervise(self, container: Container, config: dict[str, Any], archive: bytes,
                  deadline_s: float, max_output: int) -> Outcome:
        """Run the driver once in ``container``; never raises for what the command does."""
        header = marshal.dumps(config, 2)  # the supervisor imports nothing but built-ins
        payload = struct.pack(">Q", len(header)) + header + archive
        try:
            exec_id = self.api.exec_create(
                container.id, [self.options.python, "-I", "-S", "-c", driver_source()],
                stdin=True, stdout=True, stderr=True, user=self.options.user,
                workdir=self.options.workdir, environment={},
            )["Id"]
            sock = self.api.exec_start(exec_id, socket=True)
        except Exception as exc:  # noqa: BLE001 - container gone or engine trouble
            return Outcome(None, problem=f"exec failed: {exc}")
        raw = getattr(sock, "_sock", sock)
        try:
            return self._converse(raw, payload, deadline_s, max_output)
        finally:
            try:
                raw.close()
            except OSError:
                pass

    def _converse(self, raw: socket.socket, payload: bytes, deadline_s: float,
                  max_output: int) -> Outcome:
        deadline = time.monotonic() + deadline_s
        try:
            raw.settimeout(max(1.0, deadline_s))
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
        except OSError as exc:
            return Outcome(None, problem=f"sending the working copy failed: {exc}")
        out, err = bytearray(), bytearray()
        buffer = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Outcome(None, stderr=bytes(err), problem="no answer before the deadline",
                               host_timeout=True)
            raw.settimeout(remaining)
            try:
                chunk = raw.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as exc:
                return Outcome(None, stderr=bytes(err), problem=f"connection lost: {exc}")
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= 8:  # multiplexed frames: [stream, 0, 0, 0, size(4)] + data
                size = struct.unpack(">I", buffer[4:8])[0]
                if len(buffer) < 8 + size:
                    break
                target = out if buffer[0] == 1 else err
                target += buffer[8:8 + size]
                del buffer[:8 + size]
            if len(out) > max_output or len(err) > max_output:
                return Outcome(None, stderr=bytes(err[:65536]),
                               problem="the container sent more than any run can produce")
        return _parse(bytes(out), bytes(err))


def _parse(out: bytes, err: bytes) -> Outcome:
    if not out.startswith(MAGIC) or len(out) < len(MAGIC) + 8:
        return Outcome(None, stderr=err[-65536:],
                       problem="the supervisor ended without a result (killed from inside?)")
    pos = len(MAGIC)
    size = struct.unpack(">Q", out[pos:pos + 8])[0]
    pos += 8
    try:
        result = json.loads(out[pos:pos + size])
    except ValueError:
        return Outcome(None, stderr=err[-65536:], problem="unreadable result from the supervisor")
    pos += size
    n_out, n_err = int(result.get("stdout_len", 0)), int(result.get("stderr_len", 0))
    stdout = out[pos:pos + n_out]
    stderr = out[pos + n_out:pos + n_out + n_err]
    archive = out[pos + n_out + n_err:]
    problem = "" if result.get("clean") else "processes or files of the run could not be removed"
    return Outcome(result, stdout=stdout, stderr=stderr, archive=archive, problem=problem)
