"""The command line of one run: bubblewrap's arguments (when it is used) and the environment."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from darwin_hookspecs import ExecRequest

from .options import NOBODY, SANDBOX_DIR


def bwrap_usable() -> bool:
    """Whether bubblewrap is installed and may create its namespaces here."""
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


def run_env(python_bin: Path, request: ExecRequest, home: str) -> dict[str, str]:
    """Only what the request declares, over a minimal ``PATH``/``HOME``/``LANG``."""
    env = {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(request.env)
    return env


def bwrap_argv(bwrap: str, request: ExecRequest, workdir: str, env: dict[str, str],
               ro_paths: list[str], drop: list[str], sockets: list[tuple[Path, str]] = ()) -> list[str]:
    """``drop`` (a setpriv prefix, or nothing) + bubblewrap + the request's argv: no network
    unless asked, a read-only ``/usr`` and ``ro_paths``, a private ``/tmp``, its own PID
    namespace, uid ``nobody``, ``workdir`` at ``/sandbox`` (with ``sockets`` bound into it)."""
    args = [
        *drop,
        bwrap, "--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY),
        "--die-with-parent", "--new-session", "--as-pid-1",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
    ]
    if request.network:
        args += ["--share-net", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
    for path in ro_paths:
        if path != "/usr" and Path(path).exists():
            args += ["--ro-bind", path, path]
    args += ["--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]
    args += ["--bind", workdir, SANDBOX_DIR]
    for host_path, rel in sockets:  # sockets of a staged working copy (e.g. a model gateway)
        args += ["--bind", str(host_path), f"{SANDBOX_DIR}/{rel}"]
    args += ["--chdir", SANDBOX_DIR, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--", *request.argv]
    return args
