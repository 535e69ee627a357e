"""Sandbox fixtures: real engines (dockerd, the Podman API service) and bubblewrap.

The engines are started by ``ci/services.sh start`` (CI: scripts/test.sh), which writes
``/run/darwin/services.env``; it is read here so tests find the sockets. Nothing is skipped when
an engine is missing: the tests fail with the engine's own error, which names the fix.

Session teardown proves that nothing survived: no container created by this process on either
engine, no process carrying a hostile program's marker, no per-run cgroup of the local sandbox.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from darwin_hookspecs import BuildContext, ExecRequest
from darwin_core.plugins import PluginManager

SERVICES_ENV = Path(os.environ.get("DARWIN_SERVICES_ENV", "/run/darwin/services.env"))
BACKENDS = ["local", "local-warm", "docker", "podman"]
MARKER_PREFIX = "darwin-hostile-"
TEST_OPTIONS: dict[str, dict[str, Any]] = {
    # kill -1 as root outside a PID namespace would hit the whole machine: the hostile suite
    # runs `local` only with bubblewrap (CI installs it), which is what `auto` picks there.
    "local": {"isolation": "bwrap", "warm": False},
    # the same sandbox in warm mode (the default): each run is a child forked by a fork server in bwrap
    "local-warm": {"isolation": "bwrap", "warm": True},
    "docker": {"pool_size": 2, "workdir_size_mb": 32, "tmp_size_mb": 16},
    "podman": {"pool_size": 2, "workdir_size_mb": 32, "tmp_size_mb": 16},
}


def load_services_env() -> None:
    if not SERVICES_ENV.exists():
        return
    for line in SERVICES_ENV.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip('"'))


load_services_env()
_created: list[Any] = []


def make_sandbox(name: str, run_id: str = "test-sandbox", **options: Any) -> Any:
    """A sandbox built through the real plugin manager (entry points, option validation)."""
    pm = PluginManager()
    merged = {**TEST_OPTIONS[name], **options}
    backend = name.removesuffix("-warm")  # "local-warm": the local sandbox, warm = true
    sandbox = pm.create("sandbox", backend, merged, BuildContext(run_id=run_id))
    _created.append(sandbox)
    return sandbox


def run_python(sandbox: Any, workdir: Path, code: str, **request: Any) -> Any:
    """``python -c code`` in ``workdir`` (made, writable by the sandbox's user), 60 s unless
    ``timeout_s`` says otherwise; ``request``: more ExecRequest fields."""
    workdir.mkdir(exist_ok=True)
    workdir.chmod(0o777)
    return sandbox.run(ExecRequest(argv=["python", "-c", code], workdir=workdir, **{"timeout_s": 60, **request}))


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[dict[str, Any]]:
    cache: dict[str, Any] = {}
    yield cache
    for sandbox in cache.values():
        sandbox.close()


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest, sandboxes: dict[str, Any]) -> Any:
    name = request.param
    if name not in sandboxes:
        sandboxes[name] = make_sandbox(name)
    return sandboxes[name]


def marker_processes(marker: str = MARKER_PREFIX) -> list[int]:
    """Host processes whose command line carries ``marker`` (container processes included:
    they are host processes in other namespaces)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def wait_gone(check: Callable[[], list[Any]], timeout_s: float = 5.0) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = check()
    return left


def owned_containers(dead_owners: bool = False) -> dict[str, list[str]]:
    """Containers on each engine labelled as created by this process (``dead_owners``: by any
    process of this host that no longer runs)."""
    import docker

    from darwin_plugins.containers.docker_sandbox import DEFAULT_HOST as DOCKER_DEFAULT
    from darwin_plugins.containers.engine_client import LABEL_OWNER, owner_alive, owner_label
    from darwin_plugins.containers.podman_sandbox import DEFAULT_HOST as PODMAN_DEFAULT

    hosts = {"docker": os.environ.get("DARWIN_DOCKER_HOST", DOCKER_DEFAULT),
             "podman": os.environ.get("DARWIN_PODMAN_HOST", PODMAN_DEFAULT)}
    found: dict[str, list[str]] = {}
    for engine, host in hosts.items():
        try:
            client = docker.DockerClient(base_url=host, timeout=30)
            wanted = LABEL_OWNER if dead_owners else f"{LABEL_OWNER}={owner_label()}"
            listed = client.api.containers(all=True, filters={"label": [wanted]})
        except Exception:  # noqa: BLE001 - an engine that is down holds no container
            continue
        if dead_owners:
            listed = [c for c in listed if not owner_alive(c["Labels"].get(LABEL_OWNER, ""))]
        if listed:
            found[engine] = [c["Id"][:12] for c in listed]
    return found


def local_cgroups() -> list[str]:
    from darwin_plugins.local_sandbox import CgroupV1

    probe = CgroupV1.available()
    if probe is None:
        return []
    own = f"darwin-local-{os.getpid()}-*"
    return [str(p) for parent in probe.parents.values() for p in parent.glob(own)] + [
        str(p) for p in Path("/dev/shm").glob(own)]


@pytest.fixture(scope="session", autouse=True)
def leak_check() -> Iterator[None]:
    """After the whole session: nothing the sandboxes started may still exist."""
    yield
    for sandbox in _created:
        sandbox.close()
    problems = []
    left = wait_gone(lambda: [v for v in owned_containers().values() if v], 20)
    if left:
        problems.append(f"containers left: {left}")
    procs = wait_gone(marker_processes, 10)
    if procs:
        problems.append(f"hostile processes left: {procs}")
    monitors = [pid for sandbox in _created if hasattr(sandbox, "engine")
                for pid in sandbox.engine.monitor_processes(sandbox.engine.removed)]
    if monitors:
        problems.append(f"conmon processes of removed containers left: {monitors}")
    groups = local_cgroups()
    if groups:
        problems.append(f"cgroups or staged copies left: {groups}")
    assert not problems, "; ".join(problems)
