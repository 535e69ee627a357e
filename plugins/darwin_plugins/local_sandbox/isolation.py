"""The opt-in for running without isolation: with ``isolation = "auto"`` and no usable
bubblewrap, the local sandbox would run generated code with the network on and the host
writable; it refuses (exit 6, with the install hint) unless ``allow_unisolated = true``."""

from __future__ import annotations

from darwin_hookspecs import SandboxError

from .options import LocalSandboxOptions


def require_isolation(options: LocalSandboxOptions, bwrap: str | None) -> None:
    """Raise :class:`SandboxError` when isolation was wanted, is missing and was not waived."""
    if bwrap is None and options.isolation == "auto" and not options.allow_unisolated:
        raise SandboxError(
            "sandbox 'local' cannot isolate generated code here: bubblewrap (bwrap) is not "
            "installed or cannot create namespaces, so the code would run with the network on "
            "and the host file system writable; fix: install it (apt-get install bubblewrap; "
            "dnf install bubblewrap), or accept the risk with [sandbox] allow_unisolated = true "
            "(or isolation = \"none\")"
        )
