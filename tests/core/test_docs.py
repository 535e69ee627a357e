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
