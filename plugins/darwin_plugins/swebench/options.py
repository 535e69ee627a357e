"""Options of the ``swebench`` benchmark (the ``[benchmark]`` section of a run's config)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SWEBenchOptions(BaseModel):
    """Where the instances come from, how the agent runs, how images are found or built."""

    model_config = ConfigDict(extra="forbid")

    # ---------------------------------------------------------------- instances
    dataset: str
    """A ``.json`` / ``.jsonl`` file of SWE-bench instances (relative to the config file), or
    a Hugging Face dataset name such as ``princeton-nlp/SWE-bench_Lite`` (needs the
    ``datasets`` package and network access)."""
    split: str = "test"
    """Split of a Hugging Face dataset."""
    instance_ids: list[str] = Field(default_factory=list)
    """Evaluate only these instances (in the dataset's order); empty: all of them."""
    instance_ids_file: Path | None = None
    """A file with one instance id per line (``#`` comments allowed), e.g. DGM's subsets."""

    # -------------------------------------------------------------------- agent
    agent_command: list[str] = Field(default_factory=lambda: ["python3", "/agent/agent.py"])
    """How to start the agent inside the instance container. The variant's code is copied to
    ``/agent``; the working directory is the repository (``workdir``)."""
    agent_timeout_s: float = Field(600.0, gt=0)
    agent_env: dict[str, str] = Field(default_factory=dict)
    """Extra environment of the agent (never put API keys here: the container is untrusted)."""
    agent_network: bool = False
    """Give the agent container network access (off: it only sees ``lo``)."""
    model_name: str = "darwin-agent"
    """Prefix of ``model_name_or_path`` in predictions; the agent code's hash is appended."""

    # ------------------------------------------------------------------ grading
    eval_timeout_s: float = Field(1800.0, gt=0)
    memory_mb: int | None = Field(4096, ge=64)
    pids_limit: int | None = Field(1024, ge=16)
    cpus: float | None = Field(None, gt=0)
    repeats: int = Field(1, ge=1)
    """Run each instance (agent and grading) this many times; a result that differs between
    runs of identical code marks the task ``flaky`` and its score is the pass rate."""
    workers: int = Field(1, ge=1)
    """Instances evaluated concurrently within one evaluation."""

    # ------------------------------------------------------------------- images
    workdir: str = "/testbed"
    """Where the repository lives inside instance images (the official images use /testbed)."""
    image_names: list[str] = Field(
        default_factory=lambda: [
            "swebench/sweb.eval.x86_64.{instance_id_1776}:latest",
            "sweb.eval.x86_64.{instance_id}:latest",
        ]
    )
    """Image names tried, in order, after an instance's own ``image`` field; the first present
    locally is used (nothing is pulled). Placeholders: ``{instance_id}``,
    ``{instance_id_1776}`` (``__`` replaced by ``_1776_``, Docker Hub's naming), ``{repo}``."""
    repos_dir: Path | None = None
    """Directory of git repositories (``<owner>__<name>``) to build missing images from,
    offline: the repository at ``base_commit`` is copied to ``workdir`` of ``base_image`` and
    the setup commands run with ``--network none``."""
    base_image: str = "darwin-sandbox:latest"
    setup_commands: list[str] = Field(default_factory=list)
    """Shell commands run in the image build after the copy (an instance's own
    ``setup_commands`` field is appended)."""
    docker_host: str | None = None
    """Docker (or Podman) API URL; default: ``$DARWIN_DOCKER_HOST``, ``$DOCKER_HOST``, then the
    local socket."""

    # ------------------------------------------------------------------- output
    output_dir: Path | None = None
    """Where predictions, logs and reports go; default ``<run dir>/swebench``."""
