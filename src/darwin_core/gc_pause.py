"""Pausing the cyclic garbage collector while a run's records are loaded.

Loading a large run allocates hundreds of thousands of small objects (summaries, dicts, lists)
and none of them becomes garbage in a cycle; each allocation burst triggers collections that
traverse everything allocated so far: at 10 000 variants that was about a third of opening a
run (`darwin status`: 0.37 -> 0.25 s of CPU). The collector is paused for the block and resumed
after it (reference counting still frees everything as usual).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block, if it is enabled; re-enable it after (only
    the block that disabled it re-enables it, so nesting and other threads are safe)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
