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


class CountingStore:
    """A store whose batches count their commits (and fail on demand)."""

    def __init__(self) -> None:
        self.commits = 0
        self.fail = False

    @contextmanager
    def batch(self) -> Iterator[None]:
        yield
        if self.fail:
            raise OSError("disk full")
        self.commits += 1


def test_a_carried_pass_is_joined_by_the_next_one() -> None:
    from darwin_core.durable import PassChain

    store = CountingStore()
    with PassChain(store, "run") as chain:
        first = chain.open()
        chain.carry()  # a generation ended in this pass
        assert chain.carried and store.commits == 0
        assert chain.open() is first  # the next generation's first pass joins it
        chain.close()
        assert store.commits == 1 and not chain.carried
        chain.open()
        chain.carry()  # left open when the run stops: the chain commits it on the way out
    assert store.commits == 2


def test_a_failed_joined_commit_fails_the_gates_of_both_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    import darwin_core.durable as durable
    from darwin_core.durable import PassChain

    gates = MarkGates()
    monkeypatch.setattr(durable, "GATES", gates)
    store = CountingStore()
    chain = PassChain(store, "run")
    gates.hold("run", "a")
    chain.open().append("a")
    chain.carry()
    gates.hold("run", "b")
    chain.open().append("b")
    store.fail = True
    with pytest.raises(OSError):
        chain.close()
    for attempt in ("a", "b"):
        with pytest.raises(RuntimeError, match="running mark could not be stored"):
            gates.wait("run", attempt)


def test_one_child_per_generation_is_one_commit_per_attempt(tmp_path) -> None:
    """The pass that records a generation's last child also plans the next generation and marks
    its attempt running: one durable commit per attempt, not two."""
    from darwin_core import Engine, config_from_dict
    from darwin_hookspecs import Proposal, TaskResult, TaskSpec, hookimpl

    class NoOps:
        @hookimpl
        def darwin_register_generators(self, registry):
            class Touch:
                sandbox_free = True

                def propose(self, context):
                    return Proposal(changes={"n.txt": f"{context.attempt_id}\n"})

            registry.add("touch", lambda o, c: Touch())

        @hookimpl
        def darwin_register_benchmarks(self, registry):
            class Constant:
                mode = "program"

                def tasks(self):
                    return [TaskSpec(id="t")]

                def evaluate(self, variant_dir, tasks, sandbox):
                    return [TaskResult(t.id, True, 1.0) for t in tasks]

            registry.add("constant", lambda o, c: Constant())

    program = tmp_path / "program"
    program.mkdir()
    (program / "n.txt").write_text("0\n")
    commits = []
    for generations in (4, 8):
        config = {"run": {"name": "c", "initial": str(program), "generations": generations,
                          "children_per_generation": 1},
                  "generator": {"name": "touch"}, "benchmark": {"name": "constant"},
                  "executor": {"name": "local", "max_workers": 1}}
        engine = Engine.create(config_from_dict(config), tmp_path / f"run-{generations}", extra_plugins=[NoOps()])
        assert engine.run_loop().attempts == generations
        commits.append(engine.storage.commits)
    assert commits[1] - commits[0] == 4  # 4 more attempts, 4 more commits (two each before)
