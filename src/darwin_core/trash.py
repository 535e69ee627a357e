"""The engine's trash: an attempt's scratch directory, deleted after its job returned; what a
killed process left is removed by ``lock.clean_scratch`` on resume."""

from __future__ import annotations

from darwin_hookspecs.trash import Trash

SCRATCH = Trash("darwin-scratch-trash")
"""The attempts' scratch directories once their job is done (drained by ``Runtime.close``)."""
