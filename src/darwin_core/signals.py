"""SIGTERM ends a run the way Ctrl-C does: the run is left ``interrupted`` (resumable) and the
CLI exits 143 (128 + SIGTERM; Ctrl-C gives 130)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

INTERRUPTED_EXIT = 130
TERMINATED_EXIT = 143


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated("terminated (SIGTERM)")


def install_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` (main thread only; elsewhere nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def interrupt_reason(exc: BaseException) -> str:
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted by the user"
    return f"{what}; `darwin resume` continues"


def exit_code(exc: BaseException) -> int:
    return TERMINATED_EXIT if isinstance(exc, Terminated) else INTERRUPTED_EXIT
