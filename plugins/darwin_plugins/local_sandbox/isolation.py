"""The opt-in for running without isolation: with ``isolation = "auto"`` and no usable
bubblewrap, the local sandbox would run generated code with the network on and the host
writable; it refuses (exit 6, with the install hint) unless ``allow_unisolated = true``."""

from __future__ import annotations

from pathlib import Path

from darwin_hookspecs import SandboxError

from .options import LocalSandboxOptions

CONTAINER_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))
"""Files Docker and Podman create in every container."""


def require_isolation(options: LocalSandboxOptions, bwrap: str | None) -> None:
    """Raise :class:`SandboxError` when isolation was wanted, is missing and was not waived."""
    if bwrap is None and options.isolation == "auto" and not options.allow_unisolated:
        where = ""
        if any(marker.exists() for marker in CONTAINER_MARKERS):
            where = (" (inside a container bubblewrap cannot create its namespaces under the "
                     "engine's default seccomp profile and masked /proc: there the container is "
                     "the boundary; start it with --network none and opt in with "
                     "--set sandbox.allow_unisolated=true)")
        raise SandboxError(
            "sandbox 'local' cannot isolate generated code here: bubblewrap (bwrap) is not "
            "installed or cannot create namespaces, so the code would run with the network on "
            "and the host file system writable; fix: install it (apt-get install bubblewrap; "
            "dnf install bubblewrap), or accept the risk with [sandbox] allow_unisolated = true "
            f"(or isolation = \"none\"){where}"
        )
