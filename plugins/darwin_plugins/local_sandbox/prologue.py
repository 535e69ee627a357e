"""The tiny ``/bin/sh`` prologue every run starts with: join the run's cgroups, set rlimits,
check the command exists, ``exec`` it. It replaces a ``preexec_fn``, which would force a slow
``fork`` of the orchestrator."""

from __future__ import annotations

import shlex

from darwin_hookspecs import ExecRequest

NOT_FOUND = "command not found:"
"""How the prologue's stderr starts when the command does not exist (exit code 127)."""


def prologue(request: ExecRequest, procs_files: list[str]) -> list[str]:
    """``/bin/sh -c`` that joins the cgroups, sets rlimits and execs the command."""
    lines = [f"echo $$ > {shlex.quote(path)} || exit 125" for path in procs_files]
    # With a memory cgroup, RLIMIT_AS (which counts reserved, not used, memory and breaks
    # threaded programs: each thread's arena reserves 64 MiB) is left out.
    for flag, value in limits(request, address_space=not procs_files):
        lines.append(f"ulimit -{flag} {value} || exit 125")
    lines.append('command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || '
                 f'{{ echo "{NOT_FOUND} $1" >&2; exit 127; }}')
    if "PWD" not in request.env:
        lines.append("unset PWD")  # the shell exports it; the environment is only what is declared
    lines.append('exec "$@"')
    return ["/bin/sh", "-c", "\n".join(lines), "sh"]


def limits(request: ExecRequest, address_space: bool = True) -> list[tuple[str, int]]:
    """``ulimit`` flags of /bin/sh (dash units: -v KiB, -t s, -f 512-byte blocks)."""
    found: list[tuple[str, int]] = []
    if request.memory_mb and address_space:
        found.append(("v", request.memory_mb * 1024))
    found.append(("t", request.cpu_s or int(request.timeout_s) + 1))
    if request.file_size_mb:
        found.append(("f", request.file_size_mb * 2048))
    found.append(("c", 0))
    return found
