"""A blob's stored bytes: small data as is, the rest zlib-compressed behind a magic prefix
(read back by :meth:`darwin_core.store.RunStore.get_blob`)."""

from __future__ import annotations

import zlib

ZLIB_MAGIC = b"DZ1\n"
RAW_MAX = 64
"""Data up to this size is stored as is (unless it starts with :data:`ZLIB_MAGIC`)."""


def blob_payload(data: bytes, *, shared: bool = True) -> bytes:
    """The payload stored for ``data``. ``shared``: a file's blob, whose key manifests compare,
    keeps ``zlib.compress(data, 6)``'s bytes (hence the key earlier runs gave it); any other
    (a diff, a log) is compressed with a window fitted to its size (:func:`fitted`)."""
    if len(data) <= RAW_MAX and not data.startswith(ZLIB_MAGIC):
        return data
    return ZLIB_MAGIC + (zlib.compress(data, 6) if shared else fitted(data))


def fitted(data: bytes) -> bytes:
    """``data`` zlib-compressed at level 6 with the smallest window that holds it (and a hash
    table to match): zlib.compress allocates ~270 KB per call, 0.1-0.3 ms for a 70-byte diff."""
    wbits = max(9, min(15, (len(data) + 262).bit_length()))
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits, max(1, wbits - 7))
    return compressor.compress(data) + compressor.flush()
