"""The plugin tutorial (docs/plugins.md) as shipped in examples/plugin-tutorial/: its code is
the docs' code, its tests pass, and a run made of its plugins alone repairs its program."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from support import REPO

TUTORIAL = REPO / "examples" / "plugin-tutorial"
GUIDE = REPO / "docs" / "plugins.md"


def _env(*paths: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")])}


def test_the_guide_shows_the_shipped_files() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", guide, re.S)
    shown = {name for name, _ in blocks}
    for name, code in blocks:
        assert (REPO / name).read_text(encoding="utf-8") == code, f"docs/plugins.md shows a stale {name}"
    modules = {f"examples/plugin-tutorial/darwin_tutorial/{p.name}" for p in (TUTORIAL / "darwin_tutorial").glob("*.py")
               if p.name != "__init__.py"}
    assert modules <= shown, f"the guide does not show {sorted(modules - shown)}"
    assert {"examples/plugin-tutorial/pyproject.toml", "examples/plugin-tutorial/darwin.toml",
            "examples/plugin-tutorial/tests/test_plugins.py"} <= shown


def test_the_tutorials_own_tests_pass_without_installing_it() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TUTORIAL / "tests")],
                            cwd=TUTORIAL, env=_env(TUTORIAL), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b(4\d|[5-9]\d) passed\b", result.stdout) and "skipped" not in result.stdout


def test_a_run_of_the_tutorial_plugins_alone(tmp_path: Path, darwin_cli) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(TUTORIAL)], check=True, capture_output=True, text=True)
    env = {"PYTHONPATH": _env(site)["PYTHONPATH"]}
    listing = json.loads(darwin_cli("plugins", "--json", env=env).stdout)
    ours = {p["name"]: p for p in listing if p["distribution"] == "darwin-tutorial"}
    assert set(ours) == {"tutorial-benchmark", "tutorial-generator", "tutorial-selection", "tutorial-csv",
                         "tutorial-sandbox", "tutorial-storage"}
    assert ours["tutorial-csv"]["roles"] == ["observer"]
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(TUTORIAL / "darwin.toml"), "--run-dir", str(run_dir), "-q", env=env)
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json", env=env).stdout)  # reopens run.db
    assert status["storage"].startswith("tutorial:///") and (run_dir / "run.db").is_file()
    assert status["initial_score"] < 0.5 and status["best_score"] == 1.0
    rows = list(csv.DictReader((run_dir / "children.csv").open()))
    assert len(rows) == status["variants"] - 1  # one row per child, written by the observer
    assert {r["id"] for r in rows} == {v["id"] for v in json.loads(
        darwin_cli("archive", str(run_dir), "--json", env=env).stdout)} - {"v0000root"}
