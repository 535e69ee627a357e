"""Storage backend ``file://``: a run in a local directory, one SQLite file in WAL mode.

See :mod:`.store` (the backend), :mod:`.committer` (group commit), :mod:`.lease` (the writer
lease), :mod:`.migrate` (opening stores of the earlier directory-of-files format, :mod:`.legacy`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, hookimpl

from .paths import check_key, path_from_url
from .store import FileStorage, exists

__all__ = ["FileOptions", "FileStorage", "check_key", "exists", "path_from_url"]


class FileOptions(BaseModel):
    """``[storage]`` options of the ``file`` backend."""

    model_config = ConfigDict(extra="forbid")
    url: str
    fsync: bool = True
    """Make every commit durable before it returns (off: faster, a power cut may lose commits)."""
    must_exist: bool = False
    """Refuse to create the store: opening an existing run must never start an empty one."""
    commit_window_ms: float = Field(0.0, ge=0, le=100)
    """How long a commit waits for concurrent writes to join it (0: only those that arrived
    during the previous commit, which already groups concurrent attempts)."""


def _create(options: FileOptions, context: BuildContext) -> FileStorage:
    return FileStorage(path_from_url(options.url), fsync=options.fsync, must_exist=options.must_exist,
                       window_s=options.commit_window_ms / 1000)


@hookimpl
def darwin_register_storage(registry: Any) -> None:
    registry.add(
        "file",
        _create,
        description="Local directory: one SQLite file (WAL, durable group commits), five files per run.",
        options=FileOptions,
    )
