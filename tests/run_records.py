"""Helpers for tests that run Darwin's CLI against a real store and read its records."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage


def storage_keys(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """``[storage]`` overrides for quick_config."""
    return {"storage__url": url, **{f"storage__{k}": v for k, v in options.items()}}


def snapshot(plugins: PluginManager, url: str, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every record of a store, by collection and key."""
    storage = open_storage(plugins, url, options)
    try:
        return {c: {k: v for k, v, _ in storage.scan(c)} for c in storage.collections()}
    finally:
        storage.close()


def popen_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "darwin_core", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {}), "COLUMNS": "200"})


def wait_for_variants(plugins: PluginManager, url: str, options: dict[str, Any], n: int,
                      proc: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if len(snapshot(plugins, url, options).get("variants", {})) >= n:
                return
        except Exception:  # noqa: BLE001 - the store may not be created yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"fewer than {n} variants recorded within {timeout}s")
