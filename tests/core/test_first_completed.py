"""The engine's wait for its next finished job: one future waited for on its own, several through
``concurrent.futures.wait``; a failed or cancelled job counts as done."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from darwin_core.engine import first_completed


def test_one_future_is_returned_once_done_whatever_its_outcome() -> None:
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(time.sleep, 0.05)
        assert first_completed({slow: None}) == [slow] and slow.done()
        failing = pool.submit(lambda: 1 / 0)
        assert first_completed([failing]) == [failing] and isinstance(failing.exception(), ZeroDivisionError)
    cancelled: Future[None] = Future()
    threading.Timer(0.02, cancelled.cancel).start()
    assert first_completed([cancelled]) == [cancelled] and cancelled.cancelled()


def test_several_futures_give_those_done() -> None:
    with ThreadPoolExecutor(2) as pool:
        release = threading.Event()
        blocked = pool.submit(release.wait)
        quick = pool.submit(lambda: "done")
        assert first_completed([blocked, quick]) == [quick]
        release.set()
