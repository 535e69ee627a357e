"""The image of Darwin itself (ci/build-darwin-image.sh, built offline FROM the sandbox image)
runs the quickstart inside Docker and inside Podman."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support import REPO

TAG = "darwin-image-test:latest"


def _engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DOCKER_HOST", os.environ.get("DARWIN_DOCKER_HOST", "unix:///var/run/docker.sock"))
    return env


@pytest.fixture(scope="module")
def darwin_image() -> str:
    result = subprocess.run([str(REPO / "ci" / "build-darwin-image.sh"), "--engine", "both", "--tag", TAG],
                            env=_engine_env(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    return TAG


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_the_image_runs_the_quickstart(darwin_image: str, engine: str) -> None:
    # bubblewrap cannot create namespaces in a default container (Dockerfile): the container is
    # the boundary, and the run says so explicitly (without the opt-in: exit 6, checked below)
    refused = subprocess.run([engine, "run", "--rm", "--network", "none", darwin_image, "run",
                              "/opt/darwin/examples/quickstart/darwin.toml", "--run-dir", "/tmp/run", "-q"],
                             env=_engine_env(), capture_output=True, text=True, timeout=300)
    assert refused.returncode == 6 and "allow_unisolated = true" in refused.stderr, refused.stderr
    script = ("darwin --version && darwin run /opt/darwin/examples/quickstart/darwin.toml --run-dir /tmp/run -q "
              "--set run.generations=15 --set sandbox.allow_unisolated=true >/dev/null "
              "&& darwin status /tmp/run --json")
    result = subprocess.run([engine, "run", "--rm", "--network", "none", "--entrypoint", "sh", darwin_image,
                             "-c", script], env=_engine_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    first, _, rest = result.stdout.partition("\n")
    assert first.startswith("darwin ")
    status = json.loads(rest)
    assert status["status"] == "completed" and status["initial_score"] == pytest.approx(9 / 16)
    assert status["best_score"] > status["initial_score"]
    assert status["sandbox_guarantees"]["network_isolated"] is False  # recorded, not hidden


def test_the_dockerfile_builds_from_the_sandbox_image_only() -> None:
    lines = (REPO / "ci" / "images" / "darwin" / "Dockerfile").read_text().splitlines()
    instructions = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "ARG BASE=darwin-sandbox:latest" in instructions and "FROM ${BASE}" in instructions
    assert "pip" not in instructions and "apt-get" not in instructions  # nothing fetched in the build
    script = (REPO / "ci" / "build-darwin-image.sh").read_text()
    assert "--network none" in script
