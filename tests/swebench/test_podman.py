"""The same grading and agent run through Podman's Docker-compatible API (the rootful service
that ci/services.sh starts, ``DARWIN_PODMAN_HOST``)."""

from __future__ import annotations

import os
import subprocess

from .conftest import EXAMPLE, REPO

CALC = "darwin-examples__calc-1"


def test_grading_and_agent_through_podman(make_benchmark, instances) -> None:
    host = os.environ.get("DARWIN_PODMAN_HOST") or "unix:///run/darwin/podman.sock"
    bench = make_benchmark(docker_host=host, instance_ids=[CALC])
    try:
        gold = {"instance_id": CALC, "model_name_or_path": "gold", "model_patch": instances[CALC]["patch"]}
        assert bench.grade_prediction(gold).status == "resolved"
        broken = {**gold, "model_name_or_path": "broken", "model_patch": "diff --git a/x b/x\n"}
        assert bench.grade_prediction(broken).status == "error"
        [task] = bench.tasks()
        [result] = bench.evaluate(EXAMPLE / "agent", [task], None)
        assert result.passed and result.details["swebench_status"] == "resolved"
    finally:
        # Podman 4.3 leaves conmon processes behind for each API exec: reap them
        subprocess.run([str(REPO / "ci" / "services.sh"), "reap"], capture_output=True, timeout=120)
