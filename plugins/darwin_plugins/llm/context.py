"""What a prompt tells the model about an attempt, section by section.

:class:`Sections` holds the rendered sections (each with its own heading, empty when there is
nothing to say): the parent's files, the targeted task and its log, the parent's evaluation
(scores, metrics, artifacts), inspirations from the archive, the editable regions, and the
lessons from memory. :mod:`.prompts` places them into the prompt template.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from darwin_hookspecs import Inspiration, Target, Variant

LOG_CHARS = 4000
"""Of the targeted task's log (its tail)."""
MAX_TASKS = 40
"""Tasks listed one by one in the evaluation; the rest are counted."""
ARTIFACT_CHARS = 1500
"""Per artifact (its tail)."""
EVALUATION_CHARS = 12_000
INSPIRATION_CHARS = 3000
"""Per inspiration's diff."""


@dataclass
class Sections:
    files: str = ""
    target: str = ""
    evaluation: str = ""
    inspirations: str = ""
    evolve_blocks: str = ""
    memory: str = ""


def render_files(files: Mapping[str, str]) -> str:
    return "\n\n".join(f"### {path}\n```\n{text}\n```" for path, text in sorted(files.items()))


def describe_target(target: Target | None, log: str = "") -> str:
    """The weakness aimed at; ``log`` stands in for the target's own when that is empty."""
    if target is None:
        return "No specific failing task: improve the program in general."
    parts = [f"Target: {target.kind}" + (f" (task {target.task_id})" if target.task_id else "")]
    if target.description:
        parts.append(target.description)
    log = target.log or log
    if log:
        parts.append("Output of the failing task:\n```\n" + log[-LOG_CHARS:] + "\n```")
    return "\n".join(parts)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_number(v)}" for k, v in sorted(values.items()))


def _scalars(details: Mapping[str, Any]) -> dict[str, Any]:
    """The short scalar entries of a task's ``details`` (a stand-in for metrics; not the
    ``probes`` fingerprint, hashes meaning nothing to a model)."""
    return {k: v for k, v in details.items() if not k.startswith("target_") and k != "probes"
            and (isinstance(v, (int, float, bool)) or (isinstance(v, str) and len(v) <= 80))}


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


def describe_objective(benchmark: Any) -> str:
    """What the run optimises, from the benchmark's optional ``objective`` (an ``Objective`` or a
    method returning one); empty for the default (the mean task score, maximised)."""
    objective = getattr(benchmark, "objective", None)
    if callable(objective) and not hasattr(objective, "direction"):
        try:
            objective = objective()
        except Exception:  # noqa: BLE001 - only for a prompt
            return ""
    direction = getattr(objective, "direction", "maximise")
    if objective is None or (direction == "maximise" and getattr(objective, "metric", "score") == "score"
                             and not getattr(objective, "terms", None)):
        return ""
    what = objective.describe() if hasattr(objective, "describe") else f"{direction} {objective.metric}"
    better = "lower" if direction == "minimise" else "higher"
    return f"The objective: {what} (the score below is its value: {better} is better)."


def render_evaluation(parent: Variant | None, benchmark: Any = None) -> str:
    """The parent's score, each task's outcome with its metrics, and its artifacts (failing tasks
    first). Reads ``metrics``/``artifacts`` where the records carry them, ``details`` otherwise."""
    if parent is None or not parent.task_results:
        return ""
    results = sorted(parent.task_results.values(), key=lambda r: (r.passed, r.task_id))
    passed = sum(r.passed for r in results)
    lines = [describe_objective(benchmark),
             f"The parent's evaluation: score {parent.score:.6g} ({passed} of {len(results)} evaluated tasks passed)."]
    lines = [line for line in lines if line]
    overall = getattr(parent, "metrics", None)
    if overall:
        lines.append(f"Metrics: {_pairs(overall)}")
    artifacts: list[str] = []
    for result in results[:MAX_TASKS]:
        verdict = "passed" if result.passed else f"FAILED ({result.failure_kind or 'fail'})"
        line = f"- {result.task_id}: {verdict}, score {result.score:.4g}"
        metrics = getattr(result, "metrics", None) or _scalars(result.details)
        if metrics:
            line += f"; {_pairs(metrics)}"
        lines.append(line)
        for name, value in sorted((getattr(result, "artifacts", None) or {}).items()):
            artifacts.append(f"{result.task_id} / {name}:\n```\n{_tail(str(value), ARTIFACT_CHARS)}\n```")
    if len(results) > MAX_TASKS:
        lines.append(f"- ... and {len(results) - MAX_TASKS} more tasks")
    if artifacts:
        lines += ["", "Artifacts:"] + artifacts
    text = "\n".join(lines)
    return text if len(text) <= EVALUATION_CHARS else text[:EVALUATION_CHARS] + "\n... (cut)"


def inspiration_diff(item: Inspiration, parent_files: Mapping[str, str]) -> tuple[str, str]:
    """What ``item`` changed against its common ancestor with the parent (or, when the engine did
    not compute one, how it differs from the parent), as a unified diff; and against what."""
    base = item.ancestor_files if item.ancestor_files is not None else parent_files
    against = "its common ancestor with the parent" if item.ancestor_files is not None else "the parent"
    chunks = []
    for path in sorted(set(base) | set(item.files)):
        old, new = base.get(path), item.files.get(path)
        if old != new:
            chunks += difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                           f"a/{path}", f"b/{path}", n=2)
    return "".join(chunks), against


def render_inspirations(inspirations: Iterable[Inspiration], limit: int, parent_files: Mapping[str, str]) -> str:
    """Up to ``limit`` other variants with their scores, metrics and changes."""
    parts = []
    for item in list(inspirations)[:limit]:
        variant = item.variant
        source = getattr(item, "source", "") or ""
        body = [f"### {variant.id} (score {variant.score:.6g}" + (f", {source}" if source else "") + ")"]
        if variant.description:
            body.append(variant.description[:500])
        metrics = getattr(variant, "metrics", None)
        if metrics:
            body.append(f"Metrics: {_pairs(metrics)}")
        diff, against = inspiration_diff(item, parent_files)
        if diff:
            cut = "\n... (cut)" if len(diff) > INSPIRATION_CHARS else ""
            body.append(f"Its changes against {against}:\n```diff\n{diff[:INSPIRATION_CHARS].rstrip()}{cut}\n```")
        parts.append("\n".join(body))
    if not parts:
        return ""
    return ("Other variants from the archive, with their scores and what they changed (for "
            "inspiration; learn from them, do not copy blindly):\n\n" + "\n\n".join(parts))


def render_memory(memory: Sequence[str]) -> str:
    if not memory:
        return ""
    return "Lessons from earlier attempts (what worked or failed before):\n" + "\n".join(f"- {m}" for m in memory)


def render_regions(description: str) -> str:
    if not description:
        return ""
    keep = "\nKeep the EVOLVE-BLOCK-START / EVOLVE-BLOCK-END marker lines exactly as they are." \
        if "EVOLVE-BLOCK" in description else ""
    return "Only these regions may change; an edit anywhere else is refused:\n" + description + keep


def build_sections(files: Mapping[str, str], target: Target | None, memory: Sequence[str], *,
                   parent: Variant | None = None, benchmark: Any = None, inspirations: Iterable[Inspiration] = (),
                   max_inspirations: int = 4, regions: str = "", parent_files: Mapping[str, str] | None = None) -> Sections:
    log = ""
    if target is not None and target.task_id and parent is not None and target.task_id in parent.task_results:
        log = parent.task_results[target.task_id].log
    return Sections(
        files="The program's files:\n\n" + render_files(files),
        target=describe_target(target, log),
        evaluation=render_evaluation(parent, benchmark),
        inspirations=render_inspirations(inspirations, max_inspirations, files if parent_files is None else parent_files),
        evolve_blocks=render_regions(regions),
        memory=render_memory(memory),
    )
