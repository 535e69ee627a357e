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


def test_a_generator_that_may_run_code_waits_for_the_mark_before_proposing(tmp_path) -> None:
    """The LLM and mutation generators only call models or rewrite code (``sandbox_free``); any
    other generator (an agent running code in the sandbox) proposes only once the mark is durable."""
    from types import SimpleNamespace

    from darwin_core.durable import GATES
    from darwin_core.generate import generate
    from darwin_hookspecs import Attempt, Proposal, Variant
    from darwin_plugins.llm.generator import LLMGenerator
    from darwin_plugins.mutation.generator import MutationGenerator

    assert LLMGenerator.sandbox_free and MutationGenerator.sandbox_free
    proposed = threading.Event()

    class RunsCode:
        def propose(self, context):
            proposed.set()
            return Proposal(changes={"a.py": "x = 2\n"})

    runtime = SimpleNamespace(run_id="run-gate", generator=RunsCode(), sandbox=None, benchmark=None)
    attempt = Attempt(id="g0001a000", generation=1, index=0, parent_id="v0000", seed=1)
    parent = Variant(id="v0000", parent_id=None, generation=0, status="accepted")
    GATES.hold("run-gate", attempt.id)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(
        generate(runtime, attempt, parent, {"a.py": b"x = 1\n"}, [], tmp_path)))
    worker.start()
    time.sleep(0.2)
    assert not proposed.is_set()  # waiting at the gate
    GATES.settle("run-gate", [attempt.id])
    worker.join(timeout=10)
    assert proposed.is_set() and result and result[0][0].changed
