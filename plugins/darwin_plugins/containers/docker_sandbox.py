"""Sandbox ``docker``: the Docker daemon through the ``docker`` SDK."""

from __future__ import annotations

import os

from darwin_hookspecs import BuildContext

from .options import ContainerSandboxOptions
from .sandbox import ContainerSandbox

DEFAULT_HOST = "unix:///var/run/docker.sock"


def docker_host(options: ContainerSandboxOptions) -> str:
    return (options.host or os.environ.get("DARWIN_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
            or DEFAULT_HOST)


def create(options: ContainerSandboxOptions, context: BuildContext) -> ContainerSandbox:
    return ContainerSandbox("docker", docker_host(options), options, run_id=context.run_id)
