"""Config options of the ``docker`` and ``podman`` sandboxes (``[sandbox]`` keys).

Defaults isolate fully; every relaxation is a separate, explicit setting.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ContainerSandboxOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    """Engine API URL (``unix:///...``); default: ``DARWIN_DOCKER_HOST``/``DOCKER_HOST`` (docker)
    or ``DARWIN_PODMAN_HOST`` (podman), then the engine's usual socket."""
    image: str = "darwin-sandbox:latest"
    """Default image; a request's ``image`` (e.g. a SWE-bench task image) overrides it."""
    python: str = "python3"
    """Interpreter inside the images that runs Darwin's small supervisor."""
    pool_size: int = Field(default=2, ge=0, le=64)
    """Warm containers kept (and the most run at once); ``0``: a fresh container per run."""
    max_runs: int = Field(default=100, ge=1)
    """Runs after which a pooled container is replaced by a fresh one."""
    workdir: str = "/work"
    workdir_size_mb: int = Field(default=512, ge=16)
    """Size of the tmpfs holding the working copy (what a run can write in total)."""
    tmp_size_mb: int = Field(default=64, ge=1)
    cpus: float = Field(default=1.0, gt=0)
    memory_mb: int = Field(default=1024, ge=32)
    """Used when a request leaves ``memory_mb`` unset."""
    pids: int = Field(default=256, ge=8)
    """Used when a request leaves ``pids`` unset."""
    timeout_margin_s: float = Field(default=20.0, gt=0)
    """Past ``timeout_s`` + this, the orchestrator stops waiting and destroys the container."""
    start_timeout_s: float = Field(default=60.0, gt=0)
    # ---- relaxations (each weakens isolation; all off by default)
    allow_network: bool = False
    """Honour ``ExecRequest.network``; otherwise every container has no network at all."""
    network_mode: str = "bridge"
    """Network used for requests that ask for one when ``allow_network`` is on."""
    user: str = "1000:1000"
    """Container user; ``"0:0"`` runs as root (still without capabilities)."""
    read_only_root: bool = True
    drop_capabilities: bool = True
    no_new_privileges: bool = True
    pass_env: list[str] = Field(default_factory=list)
    """Names of host environment variables copied into every command (never needed for
    benchmarks; secrets listed here become readable by untrusted code)."""
