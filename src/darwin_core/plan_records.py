"""How a generation's record holds the attempts it planned, read both ways.

Since this format, a planned attempt is not written on its own: the generation's record
(``generations/NNNNNN``, written when the generation is planned) carries each planned attempt
whole under ``planned``, and the attempt's own record (``attempts/<id>``) is created when it
starts (``running``) or is skipped, and replaced when it ends. An attempt's record therefore
exists from its first change of state, and a generation's ``planned`` entry is read only for
an attempt that has no record of its own (one still ``planned``: resume runs it). A generation
marked ``done`` drops ``planned`` (every attempt has its record by then).

Runs written before this format have a record per planned attempt and no ``planned`` entry:
both read the same (:func:`planned_attempts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Collection, Iterable

from darwin_hookspecs import Attempt, to_dict
from darwin_hookspecs.projection import project

if TYPE_CHECKING:
    from .store import RunStore

PLANNED = "planned"
"""The key of a generation record's planned attempts (a list of attempt records)."""


def with_planned(record: dict[str, Any], attempts: Iterable[Attempt]) -> dict[str, Any]:
    """``record`` carrying ``attempts`` (planned, not yet recorded on their own) besides the
    planned entries it already has."""
    planned = {entry["id"]: entry for entry in record.get(PLANNED) or []}
    for attempt in attempts:
        planned.setdefault(attempt.id, to_dict(attempt))
    return {**record, PLANNED: list(planned.values())}


def done(record: dict[str, Any]) -> dict[str, Any]:
    """The record of a generation whose every attempt is recorded: ``done``, no plan kept."""
    return {**{k: v for k, v in record.items() if k != PLANNED}, "status": "done"}


def plan_of(store: "RunStore", record: dict[str, Any]) -> list[Attempt]:
    """The attempts ``record`` planned that have no record of their own (read now)."""
    key = f"{int(record['generation']):06d}"
    recorded = {k for k, _, _ in store._retry("reading attempts", lambda: list(
        project(store.storage, "attempts", ["status"])))}
    return [a for a in _entries(store, key, record) if a.id not in recorded]


def _entries(store: "RunStore", key: str, record: dict[str, Any]) -> list[Attempt]:
    return [store._decode("generations", key, entry, Attempt.from_dict) for entry in record.get(PLANNED) or []]


def planned_attempts(store: "RunStore", recorded: Collection[str]) -> list[Attempt]:
    """The attempts of generations not ``done`` that have no record of their own (not in
    ``recorded``): only the generations still open are read whole."""
    rows = store._retry("reading generations", lambda: list(project(store.storage, "generations", ["status"])))
    attempts: list[Attempt] = []
    for key, (status,), _ in rows:
        if status == "done":
            continue
        value, _ = store.get("generations", key, remember=False)
        attempts += [a for a in _entries(store, key, value) if a.id not in recorded]
    return attempts
