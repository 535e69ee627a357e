"""Options of the ``local`` sandbox, and the names it gives what it creates on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SANDBOX_DIR = "/sandbox"
"""Where the working copy appears inside bubblewrap."""
NOBODY = 65534
CGROUP_PREFIX = "darwin-local-"
"""Cgroups and staged copies are named this + the orchestrator's pid + ``-`` + random."""
STAGE_ROOT = Path("/dev/shm")


class LocalSandboxOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    isolation: Literal["auto", "bwrap", "none"] = "auto"
    """``auto``: bubblewrap when installed and usable; ``bwrap``: required; ``none``: plain."""
    allow_unisolated: bool = False
    """With ``auto`` and no usable bubblewrap, run anyway (no network isolation, host writable);
    off: refuse with exit 6 and the install hint."""
    python: str | None = None
    """The interpreter a request's ``python``/``python3`` runs (a path or a command on
    ``PATH``); unset: the orchestrator's own, else ``python3``, else ``python`` (:mod:`.interpreter`)."""
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
    warm: bool = True
    """Serve runs from pre-started fork servers inside the sandbox (:mod:`.warm`): one forked
    child per run, fresh rlimits and working copy, nothing kept from earlier runs."""
    warm_idle: int = Field(default=2, ge=1)
    """Idle warm servers kept per profile (memory, pids, network, preloaded modules)."""
