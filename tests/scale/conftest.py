"""Fixtures of the scale/observability area: a real two-node Ray cluster, small runs."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from darwin_core.config import load_config
from darwin_core.engine import Engine
from darwin_core.reader import open_run

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"

LOCAL_EXECUTOR = '[executor]\nname = "local"\nmax_workers = 2'

SLOW_TASKS = """\
[benchmark]
files = ["tests"]
discover = ["tests/test_*.py"]
timeout = 20

[[task]]
id = "slow"
command = ["python3", "-c", "import time; time.sleep(%(sleep)s)"]
"""


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """A head (no CPU: it only schedules) and two worker nodes of one CPU each, as processes of
    this machine (``ray.cluster_utils.Cluster``). Stopped after the module's tests."""
    os.environ["RAY_AUTH_MODE"] = "disabled"
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 0, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def copy_quickstart(dest: Path, *, generations: int, executor: str = LOCAL_EXECUTOR,
                    slow_s: float | None = None, children: int | None = None) -> Path:
    """A copy of the quickstart example with ``generations`` and the ``[executor]`` section
    replaced; with ``slow_s``, the benchmark gets an extra task sleeping that long."""
    shutil.copytree(QUICKSTART, dest)
    path = dest / "darwin.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^generations = \d+", f"generations = {generations}", text)
    text = re.sub(r"(?ms)^\[executor\]\n.*?\n\n", executor.strip() + "\n\n", text)
    assert executor.strip() in text
    if children is not None:
        text = re.sub(r"(?m)^children_per_generation = \d+", f"children_per_generation = {children}", text)
    if slow_s is not None:
        (dest / "benchmark" / "tasks.toml").write_text(SLOW_TASKS % {"sleep": slow_s}, encoding="utf-8")
        text = re.sub(r"(?ms)^\[\[evaluation\.stages\]\].*", "", text)
    path.write_text(text, encoding="utf-8")
    return path


def run_engine(config: Path, run_dir: Path, **kwargs: Any) -> Engine:
    engine = Engine.create(load_config(config), run_dir, **kwargs)
    engine.run_loop()
    return engine


def archive_rows(run_dir: Path) -> list[tuple[Any, ...]]:
    """What must not depend on the executor: ids, parents, statuses, scores, task outcomes."""
    view = open_run(run_dir)
    return [
        (v.id, v.parent_id, v.generation, v.status, round(v.score, 9),
         tuple(sorted((t, r.passed) for t, r in v.task_results.items())))
        for v in view.variants
    ]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished quickstart run of 3 generations of 3 children (local executor)."""
    base = tmp_path_factory.mktemp("small-run")
    config = copy_quickstart(base / "qs", generations=3, children=3)
    run_engine(config, base / "run")
    return base / "run"
