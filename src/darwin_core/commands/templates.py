"""The files ``darwin new-plugin KIND NAME`` writes: one small plugin of KIND and its test.

Placeholders: ``{name}`` (the backend / plugin name), ``{module}`` (the Python package).
"""

from __future__ import annotations

PYPROJECT = '''[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "darwin-{name}"
version = "0.1.0"
description = "A Darwin {kind} plugin."
requires-python = ">=3.10"
dependencies = ["darwin-hookspecs", "pydantic>=2"]

[project.entry-points.darwin]
{name} = "{module}.plugin"

[tool.setuptools]
packages = ["{module}"]
'''

README = '''# darwin-{name}

A Darwin {kind} plugin (written by `darwin new-plugin {kind} {name}`; see Darwin's
docs/plugins.md).

    pip install -e .           # then: darwin plugins
    PYTHONPATH=. pytest tests  # the {kind} conformance suite, no install needed
'''

OPTIONS = '''

class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
'''

PLUGINS: dict[str, tuple[str, str]] = {
    "benchmark": ('''"""A benchmark: each task runs `python3 check.py ARG` in the variant and expects exit 0."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import ExecRequest, TaskResult, TaskSpec, hookimpl
''' + OPTIONS + '''    args: list[str] = ["1", "2", "3"]
    """One task per argument."""


class Bench:
    mode = "program"

    def __init__(self, options: Options) -> None:
        self.args = options.args

    def tasks(self) -> list[TaskSpec]:
        return [TaskSpec(id=f"arg-{{a}}", data={{"arg": a}}) for a in self.args]

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox) -> list[TaskResult]:
        results = []
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch) / "work"
            shutil.copytree(variant_dir, work)
            for task in tasks:
                run = sandbox.run(ExecRequest(argv=["python3", "check.py", task.data["arg"]],
                                              workdir=work, timeout_s=task.timeout_s or 30))
                log = (run.stdout + run.stderr)[-2000:]
                if run.killed_reason:
                    kind = run.killed_reason if run.killed_reason != "signal" else "crash"
                elif run.exit_code == 0:
                    kind = None
                else:
                    kind = "crash" if "Traceback" in run.stderr and "AssertionError" not in run.stderr else "fail"
                results.append(TaskResult(task.id, passed=kind is None, score=1.0 if kind is None else 0.0,
                                          failure_kind=kind, log=log, duration_s=run.duration_s))
        return results


@hookimpl
def darwin_register_benchmarks(registry) -> None:
    registry.add("{name}", lambda options, context: Bench(options), options=Options,
                 description="Runs check.py once per argument.")
''', '''from pathlib import Path

import pytest

from darwin_plugins.testing import build_backend
from darwin_plugins.testing.benchmark_conformance import BenchmarkConformance

from {module} import plugin

HERE = Path(__file__).parent


class TestBenchmark(BenchmarkConformance):
    @pytest.fixture
    def darwin_benchmark(self):
        return build_backend("benchmark", "{name}", plugins=[plugin])

    @pytest.fixture
    def darwin_variant(self):
        return HERE / "variant"
'''),
    "generator": ('''"""A generator: appends a comment line to one Python file of the parent (seeded)."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import GenerationContext, Proposal, hookimpl
''' + OPTIONS + '''    note: str = "# touched"
    """The line appended."""


class Gen:
    def __init__(self, options: Options) -> None:
        self.note = options.note

    def propose(self, context: GenerationContext) -> Proposal:
        files = sorted(p for p in context.parent_dir.rglob("*.py") if p.is_file())
        if not files:
            return Proposal(changes={{}}, description="no Python file")
        path = random.Random(context.seed).choice(files)
        rel = path.relative_to(context.parent_dir).as_posix()
        return Proposal(changes={{rel: path.read_text() + self.note + "\\n"}}, improvement_type="{name}",
                        description=f"append a line to {{rel}}")


@hookimpl
def darwin_register_generators(registry) -> None:
    registry.add("{name}", lambda options, context: Gen(options), options=Options,
                 description="Appends a line to a file.")
''', '''import pytest

from darwin_plugins.testing import build_backend
from darwin_plugins.testing.generator_conformance import GeneratorConformance

from {module} import plugin


class TestGenerator(GeneratorConformance):
    @pytest.fixture
    def darwin_generator(self):
        return build_backend("generator", "{name}", plugins=[plugin])
'''),
    "selection": ('''"""A selection strategy: the best accepted variant, ties broken by `rng`."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import hookimpl
''' + OPTIONS + '''

class Select:
    def select(self, archive, n: int, rng: random.Random) -> list[str]:
        pool = archive.selectable()
        objective = getattr(archive, "objective", None)  # the run's: scores are raw, maybe minimised
        fitness = [objective.utility(v.score) if objective else v.score for v in pool]
        top = max(fitness)
        best = [v.id for v, f in zip(pool, fitness) if f == top]
        return [rng.choice(best) for _ in range(n)]


@hookimpl
def darwin_register_selectors(registry) -> None:
    registry.add("{name}", lambda options, context: Select(), options=Options,
                 description="The best accepted variant.")
''', '''import pytest

from darwin_plugins.testing import build_backend
from darwin_plugins.testing.selection_conformance import SelectionConformance

from {module} import plugin


class TestSelection(SelectionConformance):
    @pytest.fixture
    def darwin_selection(self):
        return build_backend("selection", "{name}", plugins=[plugin])
'''),
    "sandbox": ('''"""A sandbox: a plain subprocess (no isolation) with a timeout and an output limit."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import ExecRequest, ExecResult, hookimpl
''' + OPTIONS + '''

class Box:
    def run(self, request: ExecRequest) -> ExecResult:
        start = time.monotonic()
        try:
            proc = subprocess.Popen(request.argv, cwd=request.workdir, env=request.env, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError as exc:
            return ExecResult(exit_code=127, stderr=str(exc))
        timed_out = False
        try:
            out, err = proc.communicate((request.stdin or "").encode(), timeout=request.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        limit = request.output_limit_bytes
        truncated = len(out) + len(err) > limit
        return ExecResult(exit_code=None if timed_out else proc.returncode,
                          stdout=out[:limit].decode(errors="replace"),
                          stderr=err[:max(limit - len(out), 0)].decode(errors="replace"),
                          duration_s=time.monotonic() - start, timed_out=timed_out, truncated=truncated,
                          killed_reason="timeout" if timed_out else "output_limit" if truncated else None)

    def guarantees(self) -> dict[str, bool]:
        return {{"network": False, "read_only_host": False, "no_secrets": True}}

    def close(self) -> None:
        pass


@hookimpl
def darwin_register_sandboxes(registry) -> None:
    registry.add("{name}", lambda options, context: Box(), options=Options, description="Plain subprocess.")
''', '''import pytest

from darwin_plugins.testing import build_backend
from darwin_plugins.testing.sandbox_conformance import SandboxConformance

from {module} import plugin


class TestSandbox(SandboxConformance):
    @pytest.fixture
    def darwin_sandbox(self):
        return build_backend("sandbox", "{name}", plugins=[plugin])
'''),
}

VARIANT_CHECK = '''import sys

value = int(sys.argv[1])
assert value * 2 == value + value, "arithmetic is broken"
'''
