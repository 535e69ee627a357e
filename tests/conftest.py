"""Fixtures shared by every test area (each area has its own folder and conftest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A private copy of the quickstart example; returns its directory."""
    dest = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, dest)
    return dest


def write_config(directory: Path, text: str, name: str = "darwin.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def quick_config(directory: Path, **run: Any) -> Path:
    """A small, fast config over the quickstart program; ``run`` overrides ``[run]`` keys and
    ``section__key`` overrides others (e.g. ``sandbox__name="docker"``)."""
    sections: dict[str, dict[str, Any]] = {
        "run": {"name": "t", "seed": 1, "initial": "program", "generations": 2,
                "children_per_generation": 2},
        "generator": {"name": "mutation"},
        "sandbox": {"name": "local"},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 2},
    }
    for key, value in run.items():
        if "__" in key:
            section, sub = key.split("__", 1)
            sections.setdefault(section, {})[sub] = value
        else:
            sections["run"][key] = value
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml(value)}")
    return write_config(directory, "\n".join(lines) + "\n")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def darwin_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``darwin`` CLI in a subprocess (as a user would)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {}), "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "darwin_core", *args], cwd=cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout)

    return run
