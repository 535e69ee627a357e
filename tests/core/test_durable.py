"""The gate between an attempt's ``running`` mark and its evaluation (darwin_core.durable): a
job submitted before the mark's commit waits until it is durable, and never evaluates when the
commit fails."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest

from darwin_core.durable import MarkGates, scheduling_pass


def test_a_job_without_a_gate_never_waits() -> None:
    MarkGates().wait("run", "g0001a000")  # returns at once


def test_a_gated_job_waits_until_the_commit_is_durable() -> None:
    gates = MarkGates()
    gates.hold("run", "a")
    passed = threading.Event()
    worker = threading.Thread(target=lambda: (gates.wait("run", "a"), passed.set()))
    worker.start()
    time.sleep(0.2)
    assert not passed.is_set()  # held while the commit is in flight
    gates.settle("other-run", ["a"])  # another run's attempt of the same id opens nothing
    time.sleep(0.1)
    assert not passed.is_set()
    gates.settle("run", ["a"])
    worker.join(timeout=5)
    assert passed.is_set()


class FailingStore:
    @contextmanager
    def batch(self) -> Iterator[None]:
        yield
        raise OSError("disk full")  # the commit fails after the block


def test_a_failed_commit_fails_its_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    import darwin_core.durable as durable

    gates = MarkGates()
    monkeypatch.setattr(durable, "GATES", gates)
    with pytest.raises(OSError):
        with scheduling_pass(FailingStore(), "run") as held:
            gates.hold("run", "a")
            held.append("a")
    with pytest.raises(RuntimeError, match="running mark could not be stored.*disk full"):
        gates.wait("run", "a")
