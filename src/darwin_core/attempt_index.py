"""A run's attempts by id, read as summaries and decoded whole only when used.

Opening a run for a resume reads every attempt's :class:`~darwin_core.summary.AttemptSummary`
through a projected scan (on ``file://`` SQLite answers it from an index, no record parsed);
planning, the integrity check and the stop rules work on those (parents, retries, status);
an attempt is decoded whole on first access (a read), or all at once in one scan when every
value is asked for. A decoded attempt is the one the engine changes in place, so its summary
is taken from it from then on.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, MutableMapping, ValuesView
from typing import TYPE_CHECKING, Iterator

from darwin_hookspecs import Attempt

from .summary import ENDED, AttemptSummary

if TYPE_CHECKING:
    from .store import RunStore


WHOLE_KEPT = 1024
"""Ended attempts held whole, the most recently used (any other is read back when used); an
attempt that has not ended (``planned``, ``running``) is always held: the engine changes it."""

_SLACK = 256  # trimmed once this many past the bound: a pass over them per _SLACK additions


class AttemptIndex(MutableMapping[str, Attempt]):
    """``id -> Attempt`` in planning order (generation, index, id; new ones last)."""

    def __init__(self, store: "RunStore") -> None:
        self._store = store
        self._whole: OrderedDict[str, Attempt] = OrderedDict()  # least recently used first
        planned: dict[str, Attempt] = {}  # attempts only planned come whole from their plan
        self._summaries: dict[str, AttemptSummary] = {s.id: s for s in store.load_attempt_summaries(planned)}
        self._whole.update(planned)

    def __getitem__(self, key: str) -> Attempt:
        whole = self._whole.get(key)
        if whole is None:
            if key not in self._summaries:
                raise KeyError(key)
            whole = self._whole[key] = self._store.load_attempt(key)
            self._trim()
        else:
            self._whole.move_to_end(key)
        return whole

    def __setitem__(self, key: str, attempt: Attempt) -> None:
        self._whole[key] = attempt
        self._whole.move_to_end(key)
        self._summaries[key] = AttemptSummary.of(attempt)
        self._trim()

    def _trim(self) -> None:
        """Hold at most :data:`WHOLE_KEPT` attempts whole besides those not ended (an attempt
        dropped keeps its summary, taken from it now)."""
        whole = self._whole
        if len(whole) <= WHOLE_KEPT + _SLACK:
            return
        drop = len(whole) - WHOLE_KEPT
        for key in list(whole):
            if drop <= 0:
                break
            attempt = whole[key]
            if attempt.status in ENDED:
                self._summaries[key] = AttemptSummary.of(attempt)
                del whole[key]
                drop -= 1

    def __delitem__(self, key: str) -> None:
        del self._summaries[key]
        self._whole.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._summaries)

    def __len__(self) -> int:
        return len(self._summaries)

    def __contains__(self, key: object) -> bool:
        return key in self._summaries

    def summary(self, key: str) -> AttemptSummary:
        """The attempt's summary as it is now (``KeyError`` if there is no such attempt)."""
        whole = self._whole.get(key)
        return AttemptSummary.of(whole) if whole is not None else self._summaries[key]

    def summaries(self) -> Iterator[AttemptSummary]:
        """Every attempt's current summary, in order; nothing is decoded."""
        whole = self._whole
        if not whole:
            return iter(list(self._summaries.values()))
        return (AttemptSummary.of(whole[key]) if key in whole else summary
                for key, summary in self._summaries.items())

    def decode_all(self) -> None:
        """Decode every attempt not decoded yet, in one scan when there are many."""
        missing = len(self._summaries) - len(self._whole)
        if missing > 64:
            for attempt in self._store.load_attempts():
                if attempt.id in self._summaries:
                    self._whole.setdefault(attempt.id, attempt)
        elif missing:
            for key in self._summaries:
                self[key]

    def values(self) -> ValuesView[Attempt]:
        self.decode_all()
        return ValuesView(self)

    def items(self) -> ItemsView[str, Attempt]:
        self.decode_all()
        return ItemsView(self)
