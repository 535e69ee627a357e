"""Generator ``self``: the parent variant is a coding agent, and it writes its own child.

Per attempt:

1. **Diagnose** (optional, role ``diagnose``): the model reads the agent's code and the
   targeted task's log and states what to improve (as the LLM generators do).
2. The agent's code is copied to a working copy; the task (diagnosis, target, memory hints) is
   written to ``.darwin/task.md`` in it; a :class:`Gateway` listens on ``.darwin/llm.sock``.
3. The agent's own entry point runs **inside the configured sandbox** on that working copy
   (``request.network = False``; the unix socket is its only way out), with environment
   ``DARWIN_TASK_FILE``, ``DARWIN_LLM_SOCKET``, ``DARWIN_LLM_BASE_URL`` and ``DARWIN_LLM_MODEL``
   and no key.
4. The files it changed (``.darwin/`` excluded) are the child.
"""

from __future__ import annotations

import fnmatch
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from darwin_hookspecs import BudgetExceededError, BuildContext, ExecRequest, GenerationContext, Proposal, Usage, UserError

from darwin_plugins.llm import prompts
from darwin_plugins.llm.client import CallPath
from darwin_plugins.llm.generator import make_chooser, read_files
from darwin_plugins.llm.options import CallOptions, build_call_path, run_ledger


CONTROL_DIR = ".darwin"
SOCKET = f"{CONTROL_DIR}/llm.sock"
TASK_FILE = f"{CONTROL_DIR}/task.md"
IGNORED = [f"{CONTROL_DIR}/*", "*/__pycache__/*", "__pycache__/*", "*.pyc"]


class SelfOptions(CallOptions):
    provider: Literal["openai", "anthropic", "litellm"] = "openai"
    """Which SDK the gateway uses upstream."""
    command: list[str] = Field(default_factory=lambda: ["python", "agent.py"])
    """The agent's entry point, run in its working copy inside the sandbox."""
    agent_timeout_s: float = Field(900.0, gt=0)
    memory_mb: int | None = Field(2048, ge=64)
    diagnose: bool = True
    max_repairs: int = Field(2, ge=0)
    include: list[str] = Field(default_factory=lambda: ["*.py", "*.md", "*.txt", "*.toml"])
    exclude: list[str] = Field(default_factory=lambda: ["tests/*", "test_*.py"])
    max_context_chars: int = Field(120_000, ge=1000)
    log_chars: int = Field(4000, ge=0)
    """How much of the agent's output to keep with the child."""


def tree_texts(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(root).as_posix()
            if not any(fnmatch.fnmatch(rel, g) for g in IGNORED):
                out[rel] = path.read_bytes()
    return out


class SelfGenerator:
    def __init__(self, options: SelfOptions, calls: CallPath, chooser: Any) -> None:
        self.options = options
        self.calls = calls
        self.chooser = chooser

    def propose(self, context: GenerationContext) -> Proposal:
        if context.sandbox is None:
            raise UserError("generator 'self' needs the run's sandbox to run the agent; fix: use it in a run")
        opts = self.options
        endpoint = self.calls.endpoints[self.chooser.choose(random.Random(f"{context.seed}:model"))]
        usage: list[Usage] = []

        def record(u: Usage) -> None:
            usage.append(u)
            if context.record_usage:
                context.record_usage(u)

        try:
            return self._propose(context, endpoint, usage, record)
        finally:
            self.calls.ledger.flush(context.attempt_id)  # this attempt's spend and replies are durable

    def _propose(self, context: GenerationContext, endpoint: Any, usage: list[Usage], record: Any) -> Proposal:
        opts = self.options
        diagnosis = self._diagnose(context, endpoint, record) if opts.diagnose else None
        work = Path(tempfile.mkdtemp(prefix="self-", dir=context.parent_dir.parent))
        try:
            repo = work / "repo"
            shutil.copytree(context.parent_dir, repo, symlinks=True)
            (repo / CONTROL_DIR).mkdir(exist_ok=True)
            (repo / TASK_FILE).write_text(self._task_text(context, diagnosis), encoding="utf-8")
            from .gateway import Gateway  # http.server: imported when an agent runs, not when registered

            gateway = Gateway(self.calls, repo / SOCKET, attempt_id=context.attempt_id, seed=context.seed,
                              record_usage=record, temperature=opts.temperature, max_tokens=opts.max_tokens)
            with gateway:
                result = context.sandbox.run(ExecRequest(
                    argv=list(opts.command), workdir=repo, timeout_s=opts.agent_timeout_s,
                    memory_mb=opts.memory_mb, network=False,
                    env={"DARWIN_TASK_FILE": TASK_FILE, "DARWIN_LLM_SOCKET": SOCKET,
                         "DARWIN_LLM_BASE_URL": "http://darwin-gateway/v1", "DARWIN_LLM_MODEL": endpoint.model,
                         "DARWIN_ATTEMPT_ID": context.attempt_id},
                ))
            if gateway.stop_error is not None:
                raise gateway.stop_error
            before = tree_texts(context.parent_dir)
            after = tree_texts(repo)
            changes: dict[str, str | None] = {}
            for rel in sorted(set(before) | set(after)):
                if before.get(rel) != after.get(rel):
                    data = after.get(rel)
                    try:
                        changes[rel] = None if data is None else data.decode("utf-8")
                    except UnicodeDecodeError:
                        continue  # binary output of the agent is not part of a child
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log = (result.stdout + "\n" + result.stderr)[-opts.log_chars:] if opts.log_chars else ""
        summary = str((diagnosis or {}).get("what_to_change") or "the agent's own change")[:500]
        return Proposal(
            changes=changes, improvement_type="self", description=summary, usage=usage,
            metadata={"llm_model": endpoint.model, "llm_provider": endpoint.provider.name,
                      "diagnosis": diagnosis or {}, "agent_exit_code": result.exit_code,
                      "agent_killed": result.killed_reason, "agent_calls": gateway.requests,
                      "agent_log": log},
        )

    def _diagnose(self, context: GenerationContext, endpoint: Any, record: Any) -> dict[str, Any] | None:
        opts = self.options
        files = read_files(context.parent_dir, opts.include, opts.exclude, opts.max_context_chars)

        def ask(messages: list[dict[str, str]], role: str, step: int) -> Any:
            completion, _ = self.calls.complete(messages, role=role, attempt_id=context.attempt_id,
                                                seed=context.seed + step, endpoint=endpoint,
                                                temperature=opts.temperature, max_tokens=opts.max_tokens,
                                                record_usage=record)
            return completion

        return prompts.diagnose(files, context.target, context.memory, ask, opts.max_repairs)

    @staticmethod
    def _task_text(context: GenerationContext, diagnosis: dict[str, Any] | None) -> str:
        parts = ["# Task: improve this coding agent (your own code, in the current directory)", ""]
        if diagnosis:
            for key in prompts.DIAGNOSIS_KEYS:
                if diagnosis.get(key):
                    parts.append(f"- {key.replace('_', ' ')}: {diagnosis[key]}")
            if diagnosis.get("raw"):
                parts.append(str(diagnosis["raw"]))
        parts += ["", prompts.describe_target(context.target)]
        if context.memory:
            parts += ["", "What worked or failed before:"] + [f"- {m}" for m in context.memory]
        return "\n".join(parts) + "\n"


def create(options: SelfOptions, context: BuildContext) -> SelfGenerator:
    ledger = run_ledger(context, "self")
    calls = build_call_path(options.provider, options, context, ledger, "self")
    return SelfGenerator(options, calls, make_chooser(options, ledger, context.run_id))
