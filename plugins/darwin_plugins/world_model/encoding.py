"""Turn feature dicts into fixed-width vectors by feature hashing (no vocabulary to keep).

A number ``v`` named ``k`` adds ``±sign-log(v)`` to column ``hash(k)``; a label ``k = s`` adds
``±1`` to column ``hash("k=s")``. The sign also comes from the hash, so collisions tend to
cancel rather than pile up. Unknown names and labels need no refitting: a warm-started model
reads the features of a run it has never seen.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, Iterable


class FeatureHasher:
    def __init__(self, dims: int) -> None:
        self.dims = dims
        self._slots: dict[str, tuple[int, float]] = {}

    def slot(self, token: str) -> tuple[int, float]:
        found = self._slots.get(token)
        if found is None:
            h = zlib.crc32(token.encode("utf-8"))
            found = (h % self.dims, 1.0 if (h >> 31) & 1 == 0 else -1.0)
            if len(self._slots) < 100_000:
                self._slots[token] = found
        return found

    def row(self, features: dict[str, Any]) -> list[tuple[int, float]]:
        """``[(column, value)]`` of one feature dict (columns may repeat: values add up)."""
        cells = []
        for name, value in features.items():
            if value is None:
                continue
            if isinstance(value, (bool, int, float)):
                v = float(value)
                if not math.isfinite(v) or v == 0.0:
                    continue
                col, sign = self.slot(name)
                cells.append((col, sign * math.copysign(math.log1p(abs(v)), v)))
            else:
                col, sign = self.slot(f"{name}={value}")
                cells.append((col, sign))
        return cells

    def rows(self, batch: Iterable[dict[str, Any]]) -> tuple[list[int], list[int], list[float]]:
        """Coordinates ``(row indices, column indices, values)`` of a batch."""
        r_idx: list[int] = []
        c_idx: list[int] = []
        vals: list[float] = []
        for i, features in enumerate(batch):
            for col, val in self.row(features):
                r_idx.append(i)
                c_idx.append(col)
                vals.append(val)
        return r_idx, c_idx, vals
