"""Whether a valid child is accepted into the archive: the archive policy.

``keep_all`` (DGM's default) accepts every valid child; ``keep_better`` only those scoring at
least the initial variant's score minus a margin. Noise-aware rules (repeats, margins,
statistical tests) extend :func:`judge`.
"""

from __future__ import annotations

from darwin_hookspecs import Variant

from .config import DarwinConfig


def judge(config: DarwinConfig, child_score: float, parent: Variant, root: Variant | None) -> tuple[str, str]:
    """Return ``(status, reason)`` for a valid, evaluated child."""
    if config.run.archive_policy == "keep_better":
        floor = (root.score if root else 0.0) - config.run.keep_better_margin
        if child_score < floor:
            return "rejected", f"score {child_score:.4f} below keep_better floor {floor:.4f}"
    return "accepted", ""
