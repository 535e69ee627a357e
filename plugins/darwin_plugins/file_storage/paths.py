"""URL and key rules shared by the storage backends."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from darwin_hookspecs import StorageError


def path_from_url(url: str) -> Path:
    """``file:///abs/path``, ``file://rel/path`` or a bare path."""
    if "://" not in url:
        return Path(url).expanduser().resolve()
    parsed = urlparse(url)
    return Path(unquote(parsed.netloc + parsed.path)).expanduser().resolve()


def check_key(key: str) -> None:
    """Reject keys that are not portable across backends (the same rule for every backend)."""
    if not key or "/" in key or "\\" in key or key.startswith(".") or "\x00" in key:
        raise StorageError(f"invalid record key {key!r}: keys cannot contain '/' or start with '.'")
