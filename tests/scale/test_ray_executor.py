"""The ``ray`` executor on a real two-node local Ray cluster."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from darwin_core.reader import open_run

from .conftest import LOCAL_EXECUTOR as LOCAL
from .conftest import archive_rows, copy_quickstart, run_engine

pytestmark = pytest.mark.slow



def ray_section(address: str, **extra: Any) -> str:
    lines = ['[executor]', 'name = "ray"', f'address = "{address}"', "max_workers = 2", "num_cpus = 1"]
    lines += [f"{k} = {v!r}" for k, v in extra.items()]
    return "\n".join(lines)


def test_quickstart_on_two_nodes_gives_the_local_archive(tmp_path: Path, ray_cluster: Any) -> None:
    local = copy_quickstart(tmp_path / "local", generations=3, executor=LOCAL)
    workers_dir = tmp_path / "on-the-workers"
    remote = copy_quickstart(tmp_path / "ray", generations=3, executor=ray_section(
        ray_cluster.address, worker_run_dir=str(workers_dir / "{run_id}")))
    run_engine(local, tmp_path / "run-local")
    engine = run_engine(remote, tmp_path / "run-ray")

    rows_local, rows_ray = archive_rows(tmp_path / "run-local"), archive_rows(tmp_path / "run-ray")
    assert len(rows_ray) == 1 + 3 * 4
    assert rows_ray == rows_local
    assert len({r[4] for r in rows_ray}) > 1  # children really differ
    view = open_run(tmp_path / "run-ray")
    assert view.run is not None and view.run.status == "completed"
    assert all(a.status == "finished" for a in view.attempts)
    # the executor started its own connection to the cluster and closed it with the run
    import ray

    assert not ray.is_initialized()
    assert engine.executor.max_workers == 2
    # the attempts' scratch copies were made where the workers were told, not in the run dir
    assert (workers_dir / view.pointer.run_id / "scratch").is_dir()
    assert not list((tmp_path / "run-ray").glob("scratch/g*"))


def test_node_lost_mid_attempt_is_retried_once_and_nothing_is_lost(tmp_path: Path, ray_cluster: Any) -> None:
    local = copy_quickstart(tmp_path / "local", generations=1, executor=LOCAL, slow_s=3)
    remote = copy_quickstart(tmp_path / "ray", generations=1, executor=ray_section(ray_cluster.address), slow_s=3)
    run_engine(local, tmp_path / "run-local")

    run_dir = tmp_path / "run-ray"
    scratch = run_dir / "scratch"
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_engine(remote, run_dir)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    victim = ray_cluster.list_all_nodes()[1]  # a worker node (index 0 is the head)
    try:
        # wait until both attempts of generation 1 run on the two nodes (one CPU each)...
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if scratch.is_dir() and {p.name.split("-")[0] for p in scratch.iterdir()} >= {"g0001a000", "g0001a001"}:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the two attempts of generation 1 never started on the cluster")
        time.sleep(1.0)  # ...well inside their 3 s evaluation
        ray_cluster.remove_node(victim)
        thread.join(timeout=400)
        assert not thread.is_alive(), "the run did not finish after the node was lost"
    finally:
        if victim in ray_cluster.list_all_nodes():
            ray_cluster.remove_node(victim)
        ray_cluster.add_node(num_cpus=1)  # give later tests their two nodes back
        ray_cluster.wait_for_nodes()
    assert not errors, errors

    # the attempt killed with its node left its working copy behind: it really was mid-way
    killed = [p.name for p in scratch.iterdir() if p.name.startswith("g0001")]
    assert len(killed) == 1, killed
    view = open_run(run_dir)
    assert view.run is not None and view.run.status == "completed"
    assert all(a.status == "finished" and a.child_id for a in view.attempts)
    assert not [v.id for v in view.variants if v.status == "error"]
    # retried elsewhere, it gave exactly what the local executor gave
    assert archive_rows(run_dir) == archive_rows(tmp_path / "run-local")


def test_unreachable_head_is_a_clear_error(tmp_path: Path, darwin_cli: Any) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = copy_quickstart(tmp_path / "qs", generations=1, executor=ray_section(f"127.0.0.1:{port}"))
    result = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q", timeout=120)
    assert result.returncode == 2
    assert f"nothing answers at 127.0.0.1:{port}" in result.stderr and "fix:" in result.stderr


def test_after_generation_gate_runs_generate_and_evaluate_jobs_on_the_cluster(tmp_path: Path, ray_cluster: Any) -> None:
    workers_dir = tmp_path / "on-the-workers"
    config = copy_quickstart(tmp_path / "ray", generations=3, executor=ray_section(
        ray_cluster.address, worker_run_dir=str(workers_dir / "{run_id}")))
    with config.open("a", encoding="utf-8") as handle:
        handle.write('\n[predictor]\nname = "world-model"\nwhen = "after"\nthreshold = 0.0\nwarmup = 4\n')
    engine = run_engine(config, tmp_path / "run")
    view = open_run(tmp_path / "run")
    assert view.run is not None and view.run.status == "completed"
    reviewed = [a for a in view.attempts if a.metadata.get("gate")]
    assert reviewed and all(a.metadata["gate"]["stage"] == "after_generation" for a in reviewed)
    evaluated = [a for a in reviewed if a.status == "finished"]
    assert evaluated, "changes were evaluated after their review"
    for attempt in evaluated:  # generated in one Ray task, evaluated in another
        child = engine.archive.get(attempt.child_id)
        assert child.task_results and child.timings["proposal_s"] > 0 and child.timings["evaluation_s"] > 0
    for attempt in view.attempts:
        assert attempt.status in ("finished", "skipped")
        if attempt.status == "skipped":
            assert attempt.metadata["gate"]["decision"] in ("duplicate", "failed_edit", "skip")
