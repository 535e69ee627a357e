"""Every hook is documented (parameters and return) and exercised by a test, and the hook
reference in docs/ is generated from the specs (datasette's test_docs, for Darwin)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from darwin_hookspecs import specs

from support import REPO

HOOKS = sorted(name for name in vars(specs) if name.startswith("darwin_"))
TEST_SOURCES = "\n".join(
    p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("*.py") if p.name != "test_docs.py"
)


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 15


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    fn = getattr(specs, name)
    doc = inspect.getdoc(fn) or ""
    assert doc.strip(), f"{name} has no docstring"
    for param in inspect.signature(fn).parameters:
        assert f":param {param}:" in doc, f"{name}: parameter {param!r} is not documented"
    assert ":return:" in doc, f"{name}: return value is not documented"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_by_a_test(name: str) -> None:
    assert re.search(rf"\b{name}\b", TEST_SOURCES), f"no test implements or checks {name}"


def test_hook_reference_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_hook_docs.py"), "--check"])
    assert result.returncode == 0, "docs/hooks.md is stale: run python scripts/gen_hook_docs.py"


def test_readme_documents_the_two_quickstart_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make quickstart" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec make test" in ci  # CI runs exactly the README's test command
    assert "scripts/test.sh $(PYTEST_ARGS)" in (REPO / "Makefile").read_text(encoding="utf-8")
    assert "python -m pytest" in (REPO / "scripts" / "test.sh").read_text(encoding="utf-8")


def _config_keys() -> list[str]:
    """Every dotted key of the config models (walked like datasette walks its settings)."""
    from darwin_core.commands.schema import field_docs
    from darwin_core.config import DarwinConfig
    from darwin_core.gating import GateOptions

    keys: list[str] = []

    def walk(model: type, prefix: str) -> None:
        for doc in field_docs(model):
            keys.append(prefix + doc.name)
            if doc.model is not None:
                walk(doc.model, f"{prefix}{doc.name}.")

    walk(DarwinConfig, "")
    keys += [f"predictor.{doc.name}" for doc in field_docs(GateOptions)]
    return keys


CONFIG_KEYS = _config_keys()


def test_config_keys_are_walked() -> None:
    assert {"run.generations", "evaluation.stages.threshold", "budget.usd", "plugins.enable",
            "predictor.when", "storage.retry_for_s"} <= set(CONFIG_KEYS)


@pytest.mark.parametrize("key", [k for k in CONFIG_KEYS if "." in k])
def test_config_key_is_documented(key: str) -> None:
    reference = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert f"| `{key}` |" in reference, f"config key {key} is missing from docs/configuration.md"


def test_docs_link_to_files_that_exist() -> None:
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "examples").glob("*/README.md"))]:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = (doc.parent / target).resolve()
            assert path.exists(), f"{doc.relative_to(REPO)} links to missing {target}"
        for cited in re.findall(r"`((?:tests|examples|docs|scripts)/[\w./-]+\.(?:py|md|toml))`", text):
            assert (REPO / cited).exists(), f"{doc.relative_to(REPO)} cites missing {cited}"


def test_tasks_reference_documents_every_task_file_and_evaluator_key() -> None:
    """docs/tasks.md, the reference of ``tasks.toml`` and the evaluator protocol, names every
    key their models accept, the objective's fields and the protocol's markers."""
    from darwin_plugins.custom_benchmark.spec import BenchmarkHeader, ObjectiveEntry, TaskEntry
    from darwin_plugins.evaluator_benchmark.benchmark import EvaluatorOptions

    text = (REPO / "docs" / "tasks.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```toml\n(.*?)```", text, flags=re.S))
    for model in (BenchmarkHeader, EvaluatorOptions):
        for key in model.model_fields:
            assert re.search(rf"^\s*#?\s*{key} =", blocks, flags=re.M), f"[benchmark] {key} ({model.__name__}) is missing from docs/tasks.md"
    for key in TaskEntry.model_fields:
        assert f"`{key}`" in text or re.search(rf"^{key} =", blocks, flags=re.M), f"[[task]] {key} is missing from docs/tasks.md"
    for key in ObjectiveEntry.model_fields:
        assert f"{key} =" in blocks, f"objective {key} is missing from docs/tasks.md"
    for marker in ("DARWIN_SCORE=", "DARWIN_METRIC", '{"metrics"', "DARWIN_SEED", "evaluate_stage1", "evaluate_holdout"):
        assert marker in text, f"{marker} is missing from docs/tasks.md"
