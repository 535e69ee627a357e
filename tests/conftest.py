"""Fixtures shared by every test area (each area has its own folder and conftest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from support import QUICKSTART, REPO, quick_config, write_config  # noqa: F401  (re-exported)

# the storage conformance suite ships as a pytest plugin (tests/storage uses it)
pytest_plugins = ["darwin_plugins.storage_conformance"]


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A private copy of the quickstart example; returns its directory."""
    dest = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, dest)
    return dest


@pytest.fixture
def darwin_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``darwin`` CLI in a subprocess (as a user would)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {}), "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "darwin_core", *args], cwd=cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout)

    return run
