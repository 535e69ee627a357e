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

One module per concern: :mod:`.options`, :mod:`.bwrap` (bubblewrap's arguments and the
environment), :mod:`.setpriv` (the probe for dropping to ``nobody``), :mod:`.staging` (the tmpfs
copy), :mod:`.cgroups`, :mod:`.capture` (output), :mod:`.prologue` (the shell prologue),
:mod:`.interpreter` (which Python ``python`` means), :mod:`.warm`, :mod:`.forkserver` and :mod:`.wire` (warm
mode), :mod:`.spawner` (the thread that starts warm servers), :mod:`.sandbox` (the run
itself) and :mod:`.plugin`. The working-copy transfer and the reaping
of a dead orchestrator's leftovers are shared with the container sandboxes
(:mod:`darwin_plugins.sandbox_common`).
"""

from .bwrap import bwrap_usable
from .cgroups import CgroupRun, CgroupV1
from .options import STAGE_ROOT, LocalSandboxOptions
from .sandbox import LocalSandbox

__all__ = ["STAGE_ROOT", "CgroupRun", "CgroupV1", "LocalSandbox", "LocalSandboxOptions", "bwrap_usable"]
