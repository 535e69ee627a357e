"""The task file of the ``custom`` benchmark (``tasks.toml``), validated strictly.

Example::

    [benchmark]
    files = ["tests"]            # copied over each working copy (variants cannot change them)
    timeout = 10                 # default seconds per task
    runner = "auto"              # for `test` tasks: builtin (stdlib), pytest, or auto
    discover = ["tests/test_*.py"]   # one task per test_* function found in these files
    preload = ["numpy"]          # imported once by a warm sandbox, before each run's fork

    objective = { metric = "runtime_s", direction = "minimise" }   # default: score, maximise
    holdout = ["tests/test_hidden.py::*"]   # held-out task ids (fnmatch patterns)
    probes = true                # behaviour fingerprints on probe inputs (docs/search.md)

    [[task]]
    id = "cli-help"
    command = ["python", "-m", "mytool", "--help"]   # passes iff exit code 0;
    weight = 2                                         # "DARWIN_SCORE=0.7" on stdout sets a score

    [[task]]
    test = "tests/test_extra.py::test_unicode"        # id defaults to the node id
    holdout = true                                     # or per task

The full reference is docs/tasks.md.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from darwin_hookspecs import TaskSpec, UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class TaskEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    command: Union[list[str], str, None] = None
    test: str | None = None
    weight: float = Field(1.0, gt=0)
    timeout: float | None = Field(None, gt=0)
    tags: list[str] = Field(default_factory=list)
    holdout: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> "TaskEntry":
        if (self.command is None) == (self.test is None):
            raise ValueError("a task needs exactly one of 'command' or 'test'")
        if self.command is not None and not self.id:
            raise ValueError("a 'command' task needs an 'id'")
        return self


class ObjectiveEntry(BaseModel):
    """``[benchmark] objective``: one metric or a weighted sum, and a direction."""

    model_config = ConfigDict(extra="forbid")
    metric: str = "score"
    direction: Literal["maximise", "minimise", "maximize", "minimize"] = "maximise"
    terms: dict[str, float] = Field(default_factory=dict)


class BenchmarkHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: list[str] = Field(default_factory=list)
    timeout: float = Field(10.0, gt=0)
    runner: Literal["auto", "builtin", "pytest"] = "auto"
    discover: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    memory_mb: int = Field(1024, ge=16)
    coverage: bool = True
    objective: ObjectiveEntry | None = None
    holdout: list[str] = Field(default_factory=list)
    """Held-out task ids (fnmatch patterns): checked on each new best, never searched on."""
    preload: list[str] = Field(default_factory=list)
    """Modules the tasks import (the evaluator's own imports) that a warm sandbox imports once,
    before forking each run (``ExecRequest.preload``); others ignore it."""
    probes: bool = False
    """After the tests, run probe calls derived from the visible tests (``probes.py``) in the
    sandbox and report each test task's behaviour fingerprint in ``details["probes"]``."""
    probe_limit: int = Field(40, ge=1, le=1000)
    """At most this many probe calls per evaluation."""
    probe_timeout: float = Field(1.0, gt=0)
    """Seconds per probe call (a call past it is hashed as ``timeout``)."""


class TaskFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    benchmark: BenchmarkHeader = Field(default_factory=BenchmarkHeader)
    task: list[TaskEntry] = Field(default_factory=list)


def load_task_file(path: Path) -> TaskFile:
    if not path.is_file():
        raise UserError(f"{path}: task file not found; fix: the custom benchmark's 'path' option")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return TaskFile.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise UserError(f"{path}: {problems}; fix the task file") from None


def discover_tests(root: Path, patterns: list[str]) -> list[str]:
    """Node ids of top-level ``test_*`` functions in the files matching ``patterns``."""
    ids: list[str] = []
    for pattern in patterns:
        matches = sorted(root.glob(pattern))
        if not matches:
            raise UserError(f"{root}: discover pattern {pattern!r} matches no file")
        for path in matches:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            rel = path.relative_to(root).as_posix()
            ids += [
                f"{rel}::{node.name}"
                for node in tree.body
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name.startswith("test")
            ]
    return ids


def build_tasks(root: Path, spec: TaskFile) -> list[TaskSpec]:
    tasks: list[TaskSpec] = []
    seen: set[str] = set()
    header = spec.benchmark

    def add(task: TaskSpec) -> None:
        if task.id in seen:
            raise UserError(f"{root}: duplicate task id {task.id!r}; fix: give tasks unique ids")
        seen.add(task.id)
        tasks.append(task)

    for node in discover_tests(root, header.discover):
        add(TaskSpec(id=node, timeout_s=header.timeout, data={"test": node}))
    for entry in spec.task:
        if entry.test is not None:
            task_id = entry.id or entry.test
            if task_id in seen and entry.id is None:  # an explicit entry refines a discovered one
                tasks[:] = [t for t in tasks if t.id != task_id]
                seen.discard(task_id)
            add(TaskSpec(id=task_id, weight=entry.weight, timeout_s=entry.timeout or header.timeout,
                         tags=entry.tags, data={"test": entry.test}, holdout=entry.holdout))
        else:
            command = entry.command if isinstance(entry.command, list) else ["sh", "-c", str(entry.command)]
            add(TaskSpec(id=str(entry.id), weight=entry.weight, timeout_s=entry.timeout or header.timeout,
                         tags=entry.tags, data={"command": command}, holdout=entry.holdout))
    if not tasks:
        raise UserError(f"{root}: the task file defines no task; fix: add [[task]] or discover")
    for pattern in header.holdout:
        matched = [t for t in tasks if fnmatch.fnmatchcase(t.id, pattern)]
        if not matched:
            raise UserError(f"{root}: holdout pattern {pattern!r} matches no task id; fix the pattern")
        for task in matched:
            task.holdout = True
    if all(t.holdout for t in tasks):
        raise UserError(f"{root}: every task is held out; fix: keep some tasks for the search")
    return tasks
