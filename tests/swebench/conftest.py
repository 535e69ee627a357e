"""Fixtures of the SWE-bench tests: the project's tiny dataset (git repositories made here) and
benchmarks talking to the real Docker daemon (``DARWIN_DOCKER_HOST`` / ``DOCKER_HOST``, as set by
``ci/services.sh``)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "swebench_agent"
BASE_IMAGE = "darwin-sandbox-pytest:latest"


def load_make_dataset() -> Any:
    spec = importlib.util.spec_from_file_location("darwin_swe_make_dataset", EXAMPLE / "make_dataset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def make_dataset() -> Any:
    return load_make_dataset()


@pytest.fixture(scope="session")
def swe_dataset(tmp_path_factory: pytest.TempPathFactory, make_dataset: Any) -> Path:
    """``<dir>/instances.jsonl`` and ``<dir>/repos/*`` (built once per session)."""
    out = tmp_path_factory.mktemp("swe-dataset")
    make_dataset.build(out)
    return out


@pytest.fixture(scope="session")
def instances(swe_dataset: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (swe_dataset / "instances.jsonl").read_text().splitlines()]
    return {r["instance_id"]: r for r in rows}


@pytest.fixture(scope="session")
def docker_host() -> str:
    return (os.environ.get("DARWIN_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
            or "unix:///var/run/docker.sock")


@pytest.fixture
def make_benchmark(swe_dataset: Path, docker_host: str, tmp_path: Path) -> Callable[..., Any]:
    """``make_benchmark(**options)``: a ``swebench`` benchmark built through the plugin manager
    (as a run builds it), over the project's dataset, writing to ``tmp_path/out``."""
    from darwin_hookspecs import BuildContext
    from darwin_core.plugins import PluginManager

    built: list[Any] = []

    def make(**options: Any) -> Any:
        opts = {"dataset": str(swe_dataset / "instances.jsonl"),
                "repos_dir": str(swe_dataset / "repos"), "base_image": BASE_IMAGE,
                "docker_host": docker_host, "output_dir": str(tmp_path / "out"),
                "agent_timeout_s": 60, "eval_timeout_s": 120, "memory_mb": 512, **options}
        context = BuildContext(run_id="test-run", config_dir=tmp_path)
        benchmark = PluginManager().create("benchmark", "swebench", opts, context)
        built.append(benchmark)
        return benchmark

    yield make
    for benchmark in built:
        benchmark.close()
