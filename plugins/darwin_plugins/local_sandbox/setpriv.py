"""Whether bubblewrap can be started as ``nobody`` (through ``setpriv``) when Darwin runs as
root: bubblewrap's sandbox would otherwise still be uid 0 on the host (in a user namespace,
without capabilities)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from darwin_hookspecs import ExecRequest

from .options import CGROUP_PREFIX, NOBODY, STAGE_ROOT

Command = Callable[[ExecRequest, str, list[str]], list[str]]
"""``command(request, workdir, drop_prefix) -> argv`` (the sandbox's bubblewrap command)."""


def probe_nobody(python: str, command: Command) -> list[str]:
    """The ``setpriv`` prefix that drops to ``nobody``, if a run started with it works here
    (the interpreter must be readable by ``nobody``); else ``[]``."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return []
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
              "--inh-caps=-all"]
    probe_dir = Path(tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}-", dir=STAGE_ROOT))
    try:
        os.chown(probe_dir, NOBODY, NOBODY)
        request = ExecRequest(argv=[python, "-c", "open('ok', 'w').write('1')"], workdir=probe_dir)
        argv = command(request, str(probe_dir), prefix)
        done = subprocess.run(argv, cwd=probe_dir, capture_output=True, timeout=30)
        return prefix if done.returncode == 0 and (probe_dir / "ok").exists() else []
    except (OSError, subprocess.TimeoutExpired):
        return []
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
