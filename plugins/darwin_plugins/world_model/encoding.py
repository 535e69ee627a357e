"""Turn feature dicts into fixed-width vectors by feature hashing (no vocabulary to keep).

A number ``v`` named ``k`` adds ``±sign-log(v)`` to column ``hash(k)``; a label ``k = s`` adds
``±1`` to column ``hash("k=s")``. The sign also comes from the hash, so collisions tend to
cancel rather than pile up. Unknown names and labels need no refitting: a warm-started model
reads the features of a run it has never seen.

:meth:`FeatureHasher.matrix` encodes a batch column-wise (rows sharing the same keys, as the
gate's do, are gathered into one tensor and transformed at once); :meth:`FeatureHasher.rows`
is the row-by-row reference it falls back to for rows of mixed shapes.
"""

from __future__ import annotations

import math
import zlib
from array import array
from itertools import chain
from operator import itemgetter
from typing import Any, Iterable, Sequence


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

    def matrix(self, batch: Sequence[dict[str, Any]], torch: Any) -> Any:
        """The ``len(batch) x dims`` matrix of a batch (a torch tensor)."""
        if not batch:
            return torch.zeros((0, self.dims))
        keys0 = tuple(batch[0])
        if len(set(map(len, batch))) == 1:  # the usual case: one shape (checked by _block's lookups)
            try:
                return self._block(keys0, batch, torch)
            except (KeyError, TypeError, ValueError, RuntimeError):
                pass
        x = torch.zeros((len(batch), self.dims))
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, features in enumerate(batch):
            groups.setdefault(tuple(sorted(features)), []).append(i)
        for keys, index in groups.items():
            rows = [batch[i] for i in index]
            try:
                block = self._block(keys, rows, torch)
            except (KeyError, TypeError, ValueError, RuntimeError):  # mixed value types: row by row
                block = torch.zeros((len(rows), self.dims))
                r, c, v = self.rows(rows)
                if r:
                    block.index_put_((torch.tensor(r), torch.tensor(c)), torch.tensor(v), accumulate=True)
            if len(index) == len(batch):
                return block
            x[torch.tensor(index)] = block
        return x

    def _block(self, keys: tuple[str, ...], rows: list[dict[str, Any]], torch: Any) -> Any:
        """Rows sharing ``keys``: numbers gathered column-wise in C (itemgetter, array)."""
        first = rows[0]
        if any(first[k] is None for k in keys):
            raise TypeError("None values: row by row")
        numeric = [k for k in keys if isinstance(first[k], (bool, int, float))]
        labels = [k for k in keys if k not in numeric]
        block = torch.zeros((len(rows), self.dims))
        if numeric:
            getter = itemgetter(*numeric) if len(numeric) > 1 else (lambda f, k=numeric[0]: (f[k],))
            flat = array("f", chain.from_iterable(map(getter, rows)))  # TypeError on a str
            values = torch.frombuffer(flat, dtype=torch.float32).view(len(rows), len(numeric))
            values = torch.where(torch.isfinite(values), values, torch.zeros_like(values))
            values = torch.sign(values) * torch.log1p(values.abs())
            slots = [self.slot(k) for k in numeric]
            signs = torch.tensor([s for _, s in slots])
            block.index_add_(1, torch.tensor([c for c, _ in slots]), values * signs)
        rows_index = torch.arange(len(rows))
        for k in labels:
            column = list(map(itemgetter(k), rows))
            col_of: dict[str, int] = {}
            sign_of: dict[str, float] = {}
            for value in set(column):
                if not isinstance(value, str):
                    raise TypeError("a label column holds a non-text value: row by row")
                col_of[value], sign_of[value] = self.slot(f"{k}={value}")
            cols = torch.frombuffer(array("q", map(col_of.__getitem__, column)), dtype=torch.int64)
            signs = torch.frombuffer(array("f", map(sign_of.__getitem__, column)), dtype=torch.float32)
            block.index_put_((rows_index, cols), signs, accumulate=True)
        return block
