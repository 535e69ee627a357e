"""Registers the ``local`` sandbox."""

from __future__ import annotations

from darwin_hookspecs import BuildContext, SandboxRegistry, hookimpl

from .options import LocalSandboxOptions
from .sandbox import LocalSandbox


def _create(options: LocalSandboxOptions, context: BuildContext) -> LocalSandbox:
    return LocalSandbox(options)


@hookimpl
def darwin_register_sandboxes(registry: SandboxRegistry) -> None:
    registry.add(
        "local",
        _create,
        options=LocalSandboxOptions,
        description="Subprocess with timeout, rlimits and an empty environment; "
        "no network and a read-only host under bubblewrap when available.",
    )
