"""Agent mode: the variant is a coding agent, run inside the instance's container.

The agent's code is copied to ``/agent``; the task to ``/darwin_task`` (``problem_statement.md``
and ``instance.json`` with the public fields only: never the gold patch, the test patch or the
test lists). It starts in the repository at ``base_commit`` with these variables:
``DARWIN_PROBLEM_STATEMENT``, ``DARWIN_INSTANCE``, ``DARWIN_REPO``, ``DARWIN_INSTANCE_ID``.
Whatever it changes in the repository, against ``base_commit``, is its prediction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .containers import Limits, read_dir, start_container

PUBLIC_FIELDS = ("instance_id", "repo", "base_commit", "problem_statement", "hints_text",
                 "created_at", "version")
CONTEXT_LENGTH = re.compile(
    r"context[_ ]length|maximum context|context window|prompt is too long|too many tokens",
    re.I,
)
JUNK = [":(exclude,glob)**/__pycache__/**", ":(exclude,glob)**/*.pyc"]


@dataclass
class AgentRun:
    patch: str
    log: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    truncated: bool = False

    @property
    def context_length(self) -> bool:
        return bool(CONTEXT_LENGTH.search(self.log))


def run_agent(client: Any, image: str, instance: dict[str, Any], variant_dir: Path, *,
              command: list[str], workdir: str, timeout_s: float, limits: Limits,
              env: dict[str, str], network: bool, hostname: str, run_label: str = "") -> AgentRun:
    """Run the agent on one instance; return its diff against ``base_commit`` and its log."""
    files = read_dir(variant_dir, "agent")
    public = {k: instance[k] for k in PUBLIC_FIELDS if k in instance}
    files["darwin_task/problem_statement.md"] = instance["problem_statement"].encode("utf-8")
    files["darwin_task/instance.json"] = json.dumps(public, indent=2).encode("utf-8")
    variables = {
        "DARWIN_PROBLEM_STATEMENT": "/darwin_task/problem_statement.md",
        "DARWIN_INSTANCE": "/darwin_task/instance.json",
        "DARWIN_REPO": workdir,
        "DARWIN_INSTANCE_ID": instance["instance_id"],
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    with start_container(client, image, purpose="agent", hostname=hostname, limits=limits,
                         network=network, run_label=run_label) as container:
        container.put(files, "/")
        run = container.run_long(list(command), timeout_s=timeout_s, workdir=workdir,
                                 env=variables, limit_bytes=4 * 1024 * 1024)
        container.run(["git", "add", "-A", "--", ".", *JUNK], workdir=workdir)
        _, diff = container.run_bytes(
            ["git", "-c", "core.fileMode=false", "diff", "--cached", "--no-color", "--no-ext-diff",
             instance["base_commit"], "--", ".", *JUNK], workdir=workdir)
    log = run.output
    if run.timed_out:
        log += f"\n[darwin] agent killed after {timeout_s:.0f}s"
    return AgentRun(patch=diff.decode("utf-8", "replace"), log=log, exit_code=run.exit_code,
                    timed_out=run.timed_out, duration_s=run.duration_s, truncated=run.truncated)
