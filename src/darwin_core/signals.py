"""What the CLI tells the user around a run: SIGTERM ends a run the way Ctrl-C does (the run
is left ``interrupted``, resumable; exit 143 = 128 + SIGTERM, Ctrl-C gives 130), and the
sandbox's actual guarantees are printed when the run starts."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from darwin_hookspecs import hookimpl

INTERRUPTED_EXIT = 130
TERMINATED_EXIT = 143


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


_received: list[int] = []


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated("terminated (SIGTERM)")


def install_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` (main thread only; elsewhere nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def interrupt_reason(exc: BaseException) -> str:
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted by the user"
    return f"{what}; `darwin resume` continues"


def terminated(exc: BaseException | None = None) -> bool:
    """Whether this process got SIGTERM (the CLI framework may re-wrap the exception)."""
    return isinstance(exc, Terminated) or bool(_received)


def exit_code(exc: BaseException | None = None) -> int:
    return TERMINATED_EXIT if terminated(exc) else INTERRUPTED_EXIT


class GuaranteesNotice:
    """An observer printing the sandbox's guarantees (recorded in the run) when a run starts."""

    def __init__(self, console: Any) -> None:
        self.console = console

    @hookimpl
    def darwin_run_started(self, run: Any, resumed: bool, services: Any) -> None:
        guarantees: dict[str, bool] = run.metadata.get("sandbox_guarantees") or {}
        given = ", ".join(k for k, v in guarantees.items() if v) or "none"
        missing = ", ".join(k for k, v in guarantees.items() if not v) or "none"
        self.console.print(f"sandbox guarantees: {given}; not guaranteed: {missing}", soft_wrap=True)
