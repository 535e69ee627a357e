"""Instance containers, driven through the Docker API (Docker or Podman's compatible API).

Every container is single-use: started from an instance image with no network (unless the
agent is explicitly given it), memory / pids / CPU limits, ``no-new-privileges`` and no host
mount. Files go in as tar archives; nothing of the host is visible inside, and no variable of
the orchestrator's environment is passed in.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darwin_hookspecs import SandboxError

LABEL = "darwin.swebench"
DROPPED_CAPS = ["NET_RAW", "MKNOD", "SYS_CHROOT", "AUDIT_WRITE", "SETFCAP", "NET_BIND_SERVICE"]


def docker_url(explicit: str | None) -> str:
    return (explicit or os.environ.get("DARWIN_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
            or "unix:///var/run/docker.sock")


def connect(url: str) -> Any:
    """A Docker client that answers, or :class:`SandboxError` naming the fix."""
    import docker  # noqa: PLC0415 - optional dependency

    try:
        client = docker.DockerClient(base_url=url, timeout=600)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable daemon
        raise SandboxError(
            f"swebench benchmark: no Docker daemon answers at {url} ({type(exc).__name__}: "
            f"{exc}); fix: start dockerd (ci/services.sh start) or set docker_host / "
            "DARWIN_DOCKER_HOST"
        ) from None
    return client


@dataclass
class ExecOutcome:
    exit_code: int | None
    output: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False


def tar_of(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    """An in-memory tar of ``{path inside the archive: content}`` (directories implied)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dirs: set[str] = set()
        for name in sorted(files):
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d and d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                    tar.addfile(info)
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_dir(root: Path, prefix: str) -> dict[str, bytes]:
    """Every file under ``root`` as ``{prefix/relative path: bytes}`` (symlinks skipped)."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            files[f"{prefix}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    return files


class InstanceContainer:
    """One running container; ``remove()`` it when done (or use it as a context manager)."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.api = container.client.api

    def __enter__(self) -> "InstanceContainer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def put(self, files: dict[str, bytes], dest: str = "/", mode: int = 0o644) -> None:
        """Copy files in (paths relative to ``dest``, which must exist)."""
        if not self.container.put_archive(dest, tar_of(files, mode)):
            raise SandboxError(f"could not copy files into container {self.container.name}")

    def run(self, cmd: list[str], *, workdir: str = "/", env: dict[str, str] | None = None,
            user: str = "") -> tuple[int, str, str]:
        """A short command; returns ``(exit code, stdout, stderr)``."""
        result = self.container.exec_run(cmd, workdir=workdir, environment=env or {}, user=user,
                                         demux=True)
        out, err = result.output if result.output else (b"", b"")
        return (result.exit_code, (out or b"").decode("utf-8", "replace"),
                (err or b"").decode("utf-8", "replace"))

    def run_bytes(self, cmd: list[str], *, workdir: str = "/") -> tuple[int, bytes]:
        result = self.container.exec_run(cmd, workdir=workdir, demux=True)
        out, _ = result.output if result.output else (b"", b"")
        return result.exit_code, out or b""

    def run_long(self, cmd: list[str], *, timeout_s: float, workdir: str = "/",
                 env: dict[str, str] | None = None, limit_bytes: int = 32 * 1024 * 1024,
                 user: str = "") -> ExecOutcome:
        """A command with a wall-clock limit; stdout and stderr merged, like the harness logs.
        On timeout every process of the container but its init is killed."""
        exec_id = self.api.exec_create(self.container.id, cmd, workdir=workdir,
                                       environment=env or {}, user=user)["Id"]
        chunks: list[bytes] = []
        size = 0
        truncated = False
        error: list[BaseException] = []

        def pump() -> None:
            nonlocal size, truncated
            try:
                for chunk in self.api.exec_start(exec_id, stream=True):
                    if size < limit_bytes:
                        chunks.append(chunk[: limit_bytes - size])
                        size += len(chunks[-1])
                    if size >= limit_bytes:
                        truncated = True
            except Exception as exc:  # noqa: BLE001 - reported below
                error.append(exc)

        started = time.monotonic()
        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        thread.join(timeout_s)
        timed_out = thread.is_alive()
        if timed_out:
            try:
                self.container.exec_run(["bash", "-c", "kill -KILL -1"], user="root")
            except Exception:  # noqa: BLE001 - the container may be gone already
                pass
            thread.join(30)
        duration = time.monotonic() - started
        if error and not timed_out:
            raise SandboxError(f"exec in container {self.container.name} failed: {error[0]}")
        exit_code = None if timed_out else self.api.exec_inspect(exec_id).get("ExitCode")
        return ExecOutcome(exit_code=exit_code, output=b"".join(chunks).decode("utf-8", "replace"),
                           duration_s=duration, timed_out=timed_out, truncated=truncated)

    def remove(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


@dataclass
class Limits:
    memory_mb: int | None = 4096
    pids: int | None = 1024
    cpus: float | None = None


def start_container(client: Any, image: str, *, purpose: str, hostname: str, limits: Limits,
                    network: bool = False, run_label: str = "") -> InstanceContainer:
    """Start a single-use container of ``image`` that idles until commands are exec'ed."""
    import docker  # noqa: PLC0415

    kwargs: dict[str, Any] = {}
    if limits.memory_mb:
        kwargs["mem_limit"] = f"{limits.memory_mb}m"
        kwargs["memswap_limit"] = f"{limits.memory_mb}m"
    if limits.pids:
        kwargs["pids_limit"] = limits.pids
    if limits.cpus:
        kwargs["nano_cpus"] = int(limits.cpus * 1e9)
    if not network:
        kwargs["network_mode"] = "none"
    name = f"darwin-swe-{purpose}-{uuid.uuid4().hex[:12]}"
    try:
        container = client.containers.run(
            image, ["tail", "-f", "/dev/null"], detach=True, name=name, hostname=hostname,
            cap_drop=DROPPED_CAPS,
            security_opt=["no-new-privileges"], labels={LABEL: run_label or "1"},
            environment={}, **kwargs,
        )
    except docker.errors.ImageNotFound:
        raise SandboxError(f"image {image!r} vanished before its container started; "
                           "fix: rebuild it (delete the tag and run again)") from None
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not start a container of {image!r}: {exc}") from None
    return InstanceContainer(container)
