"""Exceptions shared by the engine and plugins. Each message names the cause and the fix."""

from __future__ import annotations


class DarwinError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UserError(DarwinError):
    """Bad input: configuration, unknown backend, missing dependency. Exit code 2."""

    exit_code = 2


class UnknownBackendError(UserError):
    def __init__(self, kind: str, name: str, available: list[str]):
        self.kind, self.name, self.available = kind, name, available
        listing = ", ".join(sorted(available)) or "none"
        super().__init__(
            f"{kind} backend {name!r} is not available (plugin may not be installed); "
            f"available: {listing}"
        )


class MissingDependencyError(UserError):
    def __init__(self, kind: str, name: str, module: str, extra: str | None):
        hint = f"pip install 'darwin[{extra}]'" if extra else f"pip install {module}"
        super().__init__(
            f"{kind} backend {name!r} needs the Python package providing {module!r}, which is "
            f"not installed; fix: {hint}"
        )


class PluginError(DarwinError):
    """A plugin failed to import or raised while registering. Exit code 3."""

    exit_code = 3


class StorageError(DarwinError):
    exit_code = 4


class StorageUnavailableError(StorageError):
    """The store cannot be reached (after retries)."""


class ConflictError(StorageError):
    """A conditional write lost: the record exists or changed since it was read."""


class NotFoundError(StorageError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


class CorruptRecordError(StorageError):
    """A stored record cannot be decoded."""


class CorruptBlobError(CorruptRecordError):
    """A stored blob's bytes do not hash to its key (damaged or replaced behind the store's back)."""


class LeaseHeldError(StorageError):
    """Another process holds the run's writer lease. ``holder`` describes it (host, pid, since)."""

    def __init__(self, message: str, holder: object = None):
        super().__init__(message)
        self.holder = holder


class LeaseLostError(StorageError):
    """The writer lease this process held expired and was taken over (or released) elsewhere."""


class BudgetExceededError(DarwinError):
    """A hard budget (tokens, dollars, time) is spent: new attempts stop, the run is resumable."""

    exit_code = 5


class SandboxError(DarwinError):
    """The sandbox itself is unusable (not the code it runs)."""

    exit_code = 6
