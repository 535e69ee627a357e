"""Sandbox ``podman``: rootful Podman through its Docker-compatible API socket.

The ``docker`` SDK is used on purpose: the ``podman`` PyPI package misbehaves against the
Podman 4.3 that Debian 12 ships (``containers.run()`` returns ``None``), the compat API works.
Start the service with ``podman system service --time=0 unix:///run/darwin/podman.sock``
(``ci/services.sh start`` does it with the settings this machine needs).
"""

from __future__ import annotations

import os

from darwin_hookspecs import BuildContext

from .options import ContainerSandboxOptions
from .sandbox import ContainerSandbox

DEFAULT_HOST = "unix:///run/darwin/podman.sock"


def podman_host(options: ContainerSandboxOptions) -> str:
    return options.host or os.environ.get("DARWIN_PODMAN_HOST") or DEFAULT_HOST


def create(options: ContainerSandboxOptions, context: BuildContext) -> ContainerSandbox:
    return ContainerSandbox("podman", podman_host(options), options, run_id=context.run_id)
