"""Benchmark ``evaluator``: a Python ``evaluate(program_path) -> dict of metrics``, run in the sandbox.

``path = "evaluator.py:evaluate"`` names the evaluator (relative to the config file). Its stage
functions ``evaluate_stage1/2/3`` (OpenEvolve's cascade), when defined, are the tasks, in
order; otherwise the named function is the only task. ``evaluate_holdout`` (or the function
``holdout`` names) is a held-out task. The evaluator file is found by reading it (it is never
imported here): every call happens inside the sandbox, through a small runner script that
prints the metrics as a JSON line (see :mod:`darwin_plugins.custom_benchmark.output`).

A variant's metrics are those of the last stage that reported each (``metric_aggregation =
"last"``), and the objective is ``[benchmark] objective`` (default: maximise
``combined_score``, OpenEvolve's convention).
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, ExecRequest, Objective, Sandbox, TaskResult, TaskSpec, UserError
from darwin_hookspecs.trash import Trash

from ..custom_benchmark.output import task_result
from ..custom_benchmark.spec import ObjectiveEntry

RUNNER = Path(__file__).with_name("runner.py")
STAGES = ("evaluate_stage1", "evaluate_stage2", "evaluate_stage3")
HOME = ".darwin/evaluator"


class EvaluatorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    """``FILE:FUNCTION`` (``FUNCTION`` defaults to ``evaluate``), relative to the config file."""
    program: str = "."
    """What the evaluator is given: this path inside the variant (``"."``: its directory)."""
    files: list[str] = Field(default_factory=list)
    """Files or directories next to the evaluator that it needs (copied beside it)."""
    objective: ObjectiveEntry = Field(default_factory=lambda: ObjectiveEntry(metric="combined_score"))
    holdout: str | None = None
    """A held-out stage's function (default: ``evaluate_holdout`` when defined)."""
    timeout: float = Field(60.0, gt=0)
    memory_mb: int = Field(1024, ge=16)
    env: dict[str, str] = Field(default_factory=dict)


def _functions(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the evaluator ({exc}); fix [benchmark] path") from None
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


class EvaluatorBenchmark:
    mode: Literal["program", "agent"] = "program"
    metric_aggregation = "last"
    ordered = True

    def __init__(self, options: EvaluatorOptions, config_dir: Path, scratch: Path | None = None) -> None:
        file, _, function = options.path.partition(":")
        self.file = (config_dir / file).resolve()
        self.function = function or "evaluate"
        self.options, self.scratch = options, scratch
        self._trash = Trash("darwin-eval-trash")
        if not self.file.is_file():
            raise UserError(f"[benchmark] path: {self.file} not found; fix: the evaluator's FILE:FUNCTION")
        defined = _functions(self.file)
        stages = [name for name in STAGES if name in defined]
        if not stages:
            if self.function not in defined:
                raise UserError(f"{self.file}: no function {self.function!r}; fix [benchmark] path")
            stages = [self.function]
        self._tasks = [TaskSpec(id=name, timeout_s=options.timeout) for name in stages]
        holdout = options.holdout or ("evaluate_holdout" if "evaluate_holdout" in defined else None)
        if holdout is not None:
            if holdout not in defined:
                raise UserError(f"{self.file}: no holdout function {holdout!r}; fix [benchmark] holdout")
            self._tasks.append(TaskSpec(id=holdout, timeout_s=options.timeout, holdout=True))
        for rel in options.files:
            if not (self.file.parent / rel).exists():
                raise UserError(f"[benchmark] files: {rel!r} not found next to {self.file}")

    def tasks(self) -> list[TaskSpec]:
        return list(self._tasks)

    @property
    def objective(self) -> Objective:
        o = self.options.objective
        return Objective(metric=o.metric, direction=o.direction, terms=dict(o.terms))

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Sandbox) -> list[TaskResult]:
        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="eval-", dir=self.scratch))
        try:
            self._prepare(variant_dir, workdir)
            evaluator = f"{HOME}/{self.file.name}"
            results = []
            for task in tasks:
                request = ExecRequest(
                    argv=["python", ".darwin/evaluator_runner.py", evaluator, task.id, self.options.program],
                    workdir=workdir, env=dict(self.options.env), timeout_s=task.timeout_s or self.options.timeout,
                    memory_mb=self.options.memory_mb,
                    trusted=[".darwin/evaluator_runner.py"],  # laid by _prepare, never the variant's
                )
                results.append(task_result(task.id, sandbox.run(request)))
            return results
        finally:
            self._trash.discard(workdir, deferred=self.scratch is not None)

    def close(self) -> None:
        """Wait until the used evaluation copies are deleted (the runtime's ``close``)."""
        self._trash.drain()

    def _prepare(self, variant_dir: Path, workdir: Path) -> None:
        shutil.copytree(variant_dir, workdir, dirs_exist_ok=True)
        home = workdir / HOME
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        shutil.copy2(self.file, home / self.file.name)
        for rel in self.options.files:
            source, dest = self.file.parent / rel, home / rel
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)
        shutil.copy2(RUNNER, workdir / ".darwin" / "evaluator_runner.py")
        for path in workdir.rglob("*"):  # the sandbox user may differ from ours
            path.chmod(0o777 if path.is_dir() else 0o666)
        workdir.chmod(0o777)


def create(options: EvaluatorOptions, context: BuildContext) -> EvaluatorBenchmark:
    scratch = context.run_dir / "scratch" if context.run_dir else None
    return EvaluatorBenchmark(options, context.config_dir, scratch)


def register(registry: Any) -> None:
    registry.add(
        "evaluator",
        create,
        options=EvaluatorOptions,
        description="A Python evaluate(program_path) -> metrics (OpenEvolve/ShinkaEvolve style), run in the sandbox.",
    )
