"""A variant's fitness: its score oriented so that higher is better (shared by selection rules).

The engine's archive carries the run's objective (``ArchiveView.objective``, read with
``getattr``): fitness is ``objective.utility(score)``, the score itself when the objective
maximises and minus it when it minimises. Scores are raw and unbounded; a view without an
objective (a plugin's own archive) keeps the score as is.
"""

from __future__ import annotations

from typing import Callable

from darwin_hookspecs import ArchiveView, Variant


def fitness_of(archive: ArchiveView) -> Callable[[Variant], float]:
    """``variant -> fitness`` under ``archive``'s objective."""
    objective = getattr(archive, "objective", None)
    if objective is None:
        return lambda v: v.score
    return lambda v: objective.utility(v.score)
