"""What the report shows, gathered from a run's records: nodes, diffs, tasks, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import DarwinError, Population

from ..holdout import holdout_status
from ..metrics import RunMetrics, compute_metrics
from ..population import read_population
from ..reader import RunView

MAX_DIFF_CHARS = 200_000
MAX_LOG_CHARS = 1500
"""Of each failing task's log shown in the page (``darwin show`` prints it whole)."""


@dataclass
class Node:
    id: str
    parent_id: str | None
    generation: int
    status: str
    score: float
    description: str
    improvement_type: str
    reason: str
    cost_usd: float
    target: str | None
    passed: int
    evaluated: int
    on_best_path: bool = False
    x: float = 0.0
    depth: int = 0
    shade: float = 0.0
    """Its colour's position, 0 (worst) to 1 (best): the score itself for a rate in [0, 1] to
    maximise, else the score scaled between the worst and best valid scores of the run."""


@dataclass
class ReportData:
    run_id: str
    run_name: str
    status: str
    stop_reason: str
    best_id: str | None
    nodes: list[Node]
    diffs: dict[str, str]
    tasks: list[str]
    results: dict[str, dict[str, str]]
    """``{variant id: {task id: "pass" | failure kind}}``."""
    metrics: RunMetrics
    notes: list[str] = field(default_factory=list)
    failing: dict[str, list[list[Any]]] = field(default_factory=dict)
    """``{variant id: [[task id, failure kind, index into logs], ...]}``."""
    logs: list[str] = field(default_factory=list)
    """Distinct log excerpts (variants failing a task the same way share one)."""
    objective: str = "maximise score"
    scale: tuple[float, float] | None = None
    """The raw scores at shade 0 and 1 (``None``: the score is a rate in [0, 1], shade = score)."""
    population: Population | None = None
    """The selection strategy's population (``map_elites`` grid, ``islands``), if it keeps one."""
    population_shades: dict[str, float] = field(default_factory=dict)
    population_scale: tuple[float, float] | None = None
    """Like ``scale``, over the population's members only (its worst and best raw scores)."""


def shade_nodes(nodes: list[Node], objective: Any) -> tuple[float, float] | None:
    """Set each node's ``shade`` under ``objective``; the scores at shade 0 and 1."""
    if objective.unit_interval:
        for n in nodes:
            n.shade = min(max(n.score, 0.0), 1.0)
        return None
    valid = [n.score for n in nodes if n.status in ("accepted", "rejected")] or [n.score for n in nodes] or [0.0]
    worst = min(valid, key=objective.utility)
    best = max(valid, key=objective.utility)
    span = objective.utility(best) - objective.utility(worst)
    for n in nodes:
        u = (objective.utility(n.score) - objective.utility(worst)) / span if span > 0 else 1.0
        n.shade = min(max(u, 0.0), 1.0)
    return worst, best


def gather(view: RunView) -> ReportData:
    archive = view.archive
    variants = view.variants
    best_id = archive.best_id
    best_path = set(archive.lineage(best_id)) if best_id else set()
    nodes = [
        Node(
            id=v.id, parent_id=v.parent_id, generation=v.generation, status=v.status, score=v.score,
            description=v.description, improvement_type=v.improvement_type, reason=v.reason,
            cost_usd=v.cost_usd, target=v.target.task_id if v.target else None,
            passed=sum(r.passed for r in v.task_results.values()), evaluated=len(v.task_results),
            on_best_path=v.id in best_path,
        )
        for v in variants
    ]
    notes: list[str] = []
    diffs: dict[str, str] = {}
    for v in variants:
        if not v.patch_ref:
            continue
        try:
            text = view.store.get_blob(v.patch_ref).decode("utf-8", errors="replace")
        except DarwinError as exc:
            notes.append(f"diff of {v.id} unavailable: {exc}")
            continue
        if len(text) > MAX_DIFF_CHARS:
            text = text[:MAX_DIFF_CHARS] + f"\n... diff truncated at {MAX_DIFF_CHARS} characters\n"
        diffs[v.id] = text
    tasks = sorted({t for v in variants for t in v.task_results})
    results = {
        v.id: {t: ("pass" if r.passed else (r.failure_kind or "fail")) for t, r in v.task_results.items()}
        for v in variants
    }
    scale = shade_nodes(nodes, archive.objective)
    failing, logs = failing_logs(variants)
    held = view.holdout.get(best_id or "")
    if held:  # held-out tasks: beside the training score, with their warnings
        notes.append(f"best {best_id}: {archive.objective.describe()} = {held.get('training_score')} on the "
                     f"training tasks, {held.get('score')} on the held-out tasks "
                     f"({held.get('passed')}/{held.get('tasks')} passed)")
    notes += holdout_status(view.holdout, best_id).get("holdout_warnings", [])
    run = view.run
    population, note = read_population(view.handle)
    if note:
        notes.append(note)
    members = {m.variant_id: m.score for g in (population.groups if population else []) for m in g.members}
    pop_nodes = [Node(id=k, parent_id=None, generation=0, status="accepted", score=v, description="",
                      improvement_type="", reason="", cost_usd=0.0, target=None, passed=0, evaluated=0)
                 for k, v in members.items()]
    pop_scale = shade_nodes(pop_nodes, archive.objective)
    return ReportData(
        run_id=view.pointer.run_id, run_name=run.name if run else "", status=run.status if run else "not started",
        stop_reason=(run.metadata.get("stop_reason", "") if run else ""), best_id=best_id, nodes=nodes,
        diffs=diffs, tasks=tasks, results=results,
        metrics=compute_metrics(variants, view.attempts, archive.last_stage, archive.objective), notes=notes,
        failing=failing, logs=logs, objective=archive.objective.describe(), scale=scale,
        population=population, population_shades={n.id: n.shade for n in pop_nodes}, population_scale=pop_scale,
    )


def failing_logs(variants: list[Any]) -> tuple[dict[str, list[list[Any]]], list[str]]:
    """Each variant's failing tasks with the end of their logs, logs deduplicated."""
    index: dict[str, int] = {}
    logs: list[str] = []
    failing: dict[str, list[list[Any]]] = {}
    for v in variants:
        rows = []
        for task_id, r in sorted(v.task_results.items()):
            if r.passed:
                continue
            text = r.log[-MAX_LOG_CHARS:]
            if text not in index:
                index[text] = len(logs)
                logs.append(text)
            rows.append([task_id, r.failure_kind or "fail", index[text]])
        if rows:
            failing[v.id] = rows
    return failing, logs


def layout(nodes: list[Node]) -> tuple[int, int]:
    """Tidy tree layout: leaves on consecutive columns, a parent centred over its children,
    depth as the row. Sets ``x``/``depth``; returns ``(columns, rows)``."""
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    known = {n.id for n in nodes}
    roots = [n for n in nodes if n.parent_id is None or n.parent_id not in known]
    column = 0
    max_depth = 0
    for root in roots:
        stack: list[tuple[Node, int, bool]] = [(root, 0, False)]
        while stack:  # iterative post-order (deep lineages must not hit the recursion limit)
            node, depth, visited = stack.pop()
            kids = children.get(node.id, [])
            if visited or not kids:
                node.depth = depth
                max_depth = max(max_depth, depth)
                if kids:
                    node.x = (kids[0].x + kids[-1].x) / 2
                else:
                    node.x = column
                    column += 1
                continue
            stack.append((node, depth, True))
            for kid in reversed(kids):
                stack.append((kid, depth + 1, False))
    return max(column, 1), max_depth + 1


def as_json(data: ReportData) -> dict[str, Any]:
    """The data the page's script uses (clicks, diffs)."""
    return {
        "run_id": data.run_id,
        "best_id": data.best_id,
        "nodes": {
            n.id: {
                "parent": n.parent_id, "generation": n.generation, "status": n.status,
                "score": round(n.score, 6), "description": n.description,
                "improvement_type": n.improvement_type, "reason": n.reason, "cost_usd": n.cost_usd,
                "target": n.target, "passed": n.passed, "evaluated": n.evaluated,
                "best_path": n.on_best_path,
            }
            for n in data.nodes
        },
        "diffs": data.diffs,
        "failing": data.failing,
        "logs": data.logs,
    }
