"""Setup for bench_peer: install what is missing (bubblewrap, OpenEvolve in its own venv, the
``openai`` SDK for Darwin) or fail naming the fix; enter a network namespace holding only ``lo``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".bench"
OE_VENV = BENCH / "openevolve-venv"
OE_DEFAULT_PIN = "openevolve==0.4.0"
INNER_FLAG = "--inner-netns"


def die(code: int, message: str) -> None:
    print(f"bench_peer: {message}", file=sys.stderr)
    sys.exit(code)


def pinned(extra: str, name: str, default: str) -> str:
    """The requirement for ``name`` in pyproject's optional-dependencies ``extra``."""
    try:
        import tomllib

        extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        return next(r for r in extras[extra] if re.match(rf"{name}\b", r))
    except (OSError, KeyError, StopIteration, ImportError):
        return default


def ensure_bwrap() -> None:
    if shutil.which("bwrap") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            die(6, "bubblewrap is not installed and cannot be installed here (needs root and apt-get); "
                   "fix: install the 'bubblewrap' package, then run again")
        print("installing bubblewrap (apt-get)...", flush=True)
        ok = subprocess.run(["apt-get", "install", "-y", "bubblewrap"], capture_output=True, text=True)
        if ok.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True)
            ok = subprocess.run(["apt-get", "install", "-y", "bubblewrap"], capture_output=True, text=True)
        if ok.returncode != 0 or shutil.which("bwrap") is None:
            die(6, f"apt-get install bubblewrap failed:\n{ok.stderr[-2000:]}\nfix: install bubblewrap by hand")
    probe = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        die(6, f"bubblewrap cannot create namespaces here ({probe.stderr.strip()}); fix: allow "
               "unprivileged user namespaces or run as root")


def ensure_openevolve() -> Path:
    requirement = pinned("bench", "openevolve", OE_DEFAULT_PIN)
    version = requirement.split("==", 1)[-1]
    python, runner = OE_VENV / "bin" / "python", OE_VENV / "bin" / "openevolve-run"
    check = [str(python), "-c", "import importlib.metadata as m; print(m.version('openevolve'))"]
    if runner.exists() and subprocess.run(check, capture_output=True, text=True).stdout.strip() == version:
        return runner
    print(f"installing {requirement} into {OE_VENV} (about a minute)...", flush=True)
    BENCH.mkdir(exist_ok=True)
    (BENCH / ".gitignore").write_text("*\n")
    steps = [[sys.executable, "-m", "venv", "--clear", str(OE_VENV)],
             [str(python), "-m", "pip", "install", "-q", requirement]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            die(1, f"`{' '.join(step)}` failed:\n{(done.stderr or done.stdout)[-2000:]}\nfix: make the "
                   f"package registry reachable (pip) or install {requirement} into {OE_VENV} by hand")
    if not runner.exists():
        die(1, f"{requirement} installed no openevolve-run script in {OE_VENV}")
    return runner


def ensure_darwin_openai() -> None:
    try:
        import openai  # noqa: F401
        import tenacity  # noqa: F401
    except ImportError:
        wanted = [pinned("openai", "openai", "openai>=1.40"), "tenacity>=8.2"]
        print(f"installing {' '.join(wanted)} for Darwin's openai generator...", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *wanted], capture_output=True, text=True)
        if done.returncode != 0:
            die(1, f"pip install {' '.join(wanted)} failed:\n{done.stderr[-2000:]}\nfix: pip install 'darwin[openai]'")


def stop_on_signals(inner: bool) -> None:
    """SIGTERM (and, in the namespace, the death of the outer process) ends the run through
    ``SystemExit``, so servers stop, systems are killed and temporary directories go."""
    import signal

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    if inner and sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def loopback_up() -> None:
    """``ip link set lo up`` (SIOCGIFFLAGS / SIOCSIFFLAGS), in the fresh namespace."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))


def enter_private_netns(script: str, argv: list[str]) -> None:
    """Re-run this script in a network namespace holding only ``lo`` and exit with its code;
    return (measuring in place) when the machine does not allow it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        inner = subprocess.Popen([unshare, "-n", sys.executable, script, *argv, INNER_FLAG])
        try:
            sys.exit(inner.wait())
        finally:  # interrupted: let the inner run clean up (it stops its systems and servers)
            if inner.poll() is None:
                inner.terminate()
                inner.wait()
    print("note: no private network namespace here (unshare -n refused); loopback-only is checked by "
          "the configs and the server's request count only", flush=True)
