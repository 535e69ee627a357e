"""Registers the ``docker`` and ``podman`` sandboxes (extras ``darwin[docker]``/``[podman]``)."""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import BuildContext, SandboxRegistry, hookimpl

from .options import ContainerSandboxOptions


def _docker(options: ContainerSandboxOptions, context: BuildContext) -> Any:
    from .docker_sandbox import create

    return create(options, context)


def _podman(options: ContainerSandboxOptions, context: BuildContext) -> Any:
    from .podman_sandbox import create

    return create(options, context)


@hookimpl
def darwin_register_sandboxes(registry: SandboxRegistry) -> None:
    registry.add(
        "docker", _docker, options=ContainerSandboxOptions, extra="docker", requires=("docker",),
        description="Pooled, locked-down Docker containers: no network, read-only root, "
        "tmpfs working copy, CPU/memory/pids limits, non-root, no capabilities.",
    )
    registry.add(
        "podman", _podman, options=ContainerSandboxOptions, extra="podman", requires=("docker",),
        description="The same isolation on rootful Podman, through its Docker-compatible API.",
    )
