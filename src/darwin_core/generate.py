"""The generate step: ask the generator for a proposal on a private copy of the parent, then
apply its change to that same copy, which becomes the child (one working copy per attempt).

It runs inside an executor job (:mod:`darwin_core.attempt`), touches no storage and decides
nothing: it returns a :class:`Generated`.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from darwin_hookspecs import (
    Attempt,
    BudgetExceededError,
    GenerationContext,
    Inspiration,
    Proposal,
    Sibling,
    Usage,
    UserError,
    Variant,
)

from .durable import GATES
from .evaluate import apply_changes
from .infra import infrastructure
from .runtime import Runtime
from .snapshots import write_tree
from .workcopy import WorkingCopy, write_file


@dataclass
class Generated:
    """What the generate step returns: the proposal and its change (``None`` deletes a file)."""

    attempt_id: str
    proposal: Proposal | None = None
    changes: dict[str, bytes | None] = field(default_factory=dict)
    changed: bool = False
    """The change really changes the parent (so it is worth evaluating)."""
    duplicate: bool = False
    """The child's code equals an evaluated variant's, so its job did not evaluate it."""
    usage: list[Usage] = field(default_factory=list)
    proposal_started: float = 0.0
    proposal_s: float = 0.0
    error: str = ""
    error_kind: str = ""
    """``generator``, ``apply``, ``budget``, ``user`` (the generator raised a ``UserError``, e.g. a
    refused API key: the run stops with it), or ``evaluation`` (the job crashed in the executor)."""


def generate(runtime: Runtime, attempt: Attempt, parent: Variant, parent_files: dict[str, bytes],
             memory: list[str], workdir: Path, *, inspirations: list[Inspiration] | None = None,
             operator_stats: dict[str, tuple[int, int]] | None = None, siblings: list[Sibling] | None = None,
             copy: WorkingCopy | None = None) -> tuple[Generated, Path | None]:
    """Propose and apply; the outcome and the child's directory (``None`` when nothing applies).
    The parent's copy is written under ``workdir`` (``parent``, renamed ``child``), or brought up
    to date in ``copy`` (a reused working copy: its tree is the parent, then the child)."""
    generated = Generated(attempt_id=attempt.id)
    if copy is not None:  # the child is made in the same tree
        parent_dir = child_dir = copy.checkout(parent_files)
    else:
        parent_dir, child_dir = workdir / "parent", workdir / "child"
        write_tree(parent_files, parent_dir)
    context = GenerationContext(
        run_id=runtime.run_id, attempt_id=attempt.id, parent=parent, parent_dir=parent_dir,
        target=attempt.target, seed=attempt.seed, memory=list(memory),  # type: ignore[arg-type]
        sandbox=runtime.sandbox, benchmark=runtime.benchmark, record_usage=generated.usage.append,
        sibling_index=int(attempt.metadata.get("sibling_index", 0)),
        inspirations=list(inspirations or []), operator_stats=dict(operator_stats or {}),
        siblings=list(siblings or []),
    )
    if not getattr(runtime.generator, "sandbox_free", False):  # it may run code: not before the mark
        GATES.wait(runtime.run_id, attempt.id)
    generated.proposal_started = time.time()
    started = time.perf_counter()
    try:
        proposal = runtime.generator.propose(context)
    except BudgetExceededError as exc:
        generated.error, generated.error_kind = str(exc), "budget"
        return generated, None
    except UserError as exc:  # bad input met mid-run (e.g. a refused API key): the run stops, exit 2
        generated.error, generated.error_kind = str(exc), "user"
        return generated, None
    except Exception as exc:  # noqa: BLE001 - a generator crash is recorded, not fatal
        if infrastructure(exc):
            raise
        generated.error = f"generator failed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-5)}"
        generated.error_kind = "generator"
        return generated, None
    finally:
        generated.proposal_s = time.perf_counter() - started
    generated.proposal = proposal
    for usage in proposal.usage:
        if usage not in generated.usage:
            generated.usage.append(usage)
    try:
        generated.changes = {rel: (text.encode("utf-8") if text is not None else None)
                             for rel, text in proposal.changes.items()}
        if child_dir != parent_dir:
            os.rename(parent_dir, child_dir)  # the child is built in place: one copy per attempt
    except (ValueError, OSError) as exc:
        if infrastructure(exc):
            raise
        generated.error, generated.error_kind = f"proposal cannot be applied: {exc}", "apply"
        return generated, None
    error = apply_changes(generated.changes, child_dir, write=write_file if copy is not None else None)
    if error:
        generated.error, generated.error_kind = error, "apply"
        return generated, None
    generated.changed = any(parent_files.get(rel) != data for rel, data in generated.changes.items())
    return generated, child_dir
