"""The quickstart example, end to end through the real CLI, with container sandboxes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import quick_config

from .conftest import owned_containers


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_quickstart_runs_in_containers(engine: str, quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=2,
                          sandbox__name=engine, sandbox__pool_size=2)
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q")
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(quickstart / "run"), "--json").stdout)
    assert status["status"] == "completed"
    rows = json.loads(darwin_cli("archive", str(quickstart / "run"), "--json").stdout)
    root = next(r for r in rows if r["parent_id"] is None)
    # the same score as with the local sandbox: 9 of 16 tests pass in the initial program
    assert 0.5 < root["score"] < 0.6, rows
    assert len(rows) == 3  # the root and two children
    # the CLI process removed its containers on exit
    assert owned_containers(dead_owners=True) == {}
