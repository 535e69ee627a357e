"""`darwin new-plugin KIND NAME`: a package whose test (the kind's conformance suite) passes
as written, without installing it; and the suites fail a plugin that breaks the contract."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

KINDS = ["benchmark", "generator", "selection", "sandbox", "storage", "observer"]


def _pytest(package: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=package, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("kind", KINDS)
def test_generated_package_passes_its_test(kind: str, tmp_path: Path, darwin_cli) -> None:
    result = darwin_cli("new-plugin", kind, f"my-{kind}", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    package = tmp_path / f"darwin-my-{kind}"
    assert f'my-{kind} = "darwin_my_{kind}.plugin"' in (package / "pyproject.toml").read_text()
    tested = _pytest(package)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"\b\d+ passed\b", tested.stdout) and "skipped" not in tested.stdout
    assert "warning" not in tested.stdout.lower()


def test_the_suite_fails_a_plugin_breaking_the_contract(tmp_path: Path, darwin_cli) -> None:
    assert darwin_cli("new-plugin", "selection", "greedy", "--dir", str(tmp_path)).returncode == 0
    package = tmp_path / "darwin-greedy"
    plugin = package / "darwin_greedy" / "plugin.py"
    plugin.write_text(plugin.read_text().replace("pool = archive.selectable()", "pool = archive.variants()"))
    tested = _pytest(package)
    assert tested.returncode == 1 and "are not accepted variants" in tested.stdout


def test_bad_kind_name_or_existing_directory(tmp_path: Path, darwin_cli) -> None:
    unknown = darwin_cli("new-plugin", "widget", "x", "--dir", str(tmp_path))
    assert unknown.returncode == 2 and "benchmark, generator" in unknown.stderr
    bad_name = darwin_cli("new-plugin", "generator", "My Gen", "--dir", str(tmp_path))
    assert bad_name.returncode == 2 and "lower-case" in bad_name.stderr
    assert darwin_cli("new-plugin", "generator", "twice", "--dir", str(tmp_path)).returncode == 0
    again = darwin_cli("new-plugin", "generator", "twice", "--dir", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr
