"""The engine owns spending: every backend's context carries the run's ``SpendLedger``
(``services["ledger"]``), opened only when a backend uses it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from darwin_core import Engine, PluginManager, load_config
from darwin_core.ledger import Budget, Ledger, RunLedger
from darwin_hookspecs import LEDGER, BudgetExceededError, BuildContext, SpendLedger, Usage, hookimpl

from support import quick_config


class Capture:
    def __init__(self) -> None:
        self.contexts: list[BuildContext] = []

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        from darwin_plugins.mutation.generator import MutationOptions, create

        def make(options: Any, context: BuildContext) -> Any:
            self.contexts.append(context)
            return create(MutationOptions(), context)

        registry.add("capture", make)


def _writers() -> int:
    return sum(t.name.startswith("darwin-ledger-writer") for t in threading.enumerate())


def test_the_ledger_and_the_run_service_implement_the_contract(tmp_path: Path) -> None:
    ledger = Ledger(None, Budget(tokens=10))
    service = RunLedger(BuildContext(run_dir=tmp_path))
    service.flush()  # never opened: nothing to wait for
    assert service._ledger is None
    assert isinstance(ledger, SpendLedger) and isinstance(service, SpendLedger)
    assert service._ledger is not None and service.storage is None  # opened on use, no run here
    ledger.spend("a1", Usage(role="implement", model="m", input_tokens=6, output_tokens=4, cost_usd=0.5))
    ledger.spend("a1", Usage(role="implement", model="m", input_tokens=100, cached=True))
    assert ledger.totals.tokens == 10 and ledger.totals.cached_calls == 1
    assert ledger.attempt_totals("a1").cost_usd == pytest.approx(0.5)
    with pytest.raises(BudgetExceededError) as info:
        ledger.check()
    assert "budget.tokens" in str(info.value)


def test_every_backend_context_has_the_ledger_and_a_run_that_spends_nothing_never_opens_it(
        quickstart: Path) -> None:
    capture = Capture()
    before = _writers()
    config = quick_config(quickstart, generations=1, children_per_generation=2, generator__name="capture")
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[capture])
    engine.run_loop()
    run_contexts = [c for c in capture.contexts if c.run_id]
    assert run_contexts, "the generator was never built for the run"
    for context in run_contexts:
        ledger = context.services[LEDGER]
        assert isinstance(ledger, RunLedger) and ledger._ledger is None  # handed, never opened
    assert _writers() == before  # no writer thread was started for a run without model calls
    assert "llm_ledger" not in engine.storage.collections()

    manager = PluginManager(extra_plugins=[Capture()])
    context = BuildContext()
    manager.create("generator", "capture", {}, context)
    assert isinstance(context.services[LEDGER], SpendLedger)  # outside a run too



def test_inside_a_job_the_flush_waits_when_the_job_ends(tmp_path) -> None:
    """A generator's flush in an attempt's job does not wait (the evaluation goes on); the job's
    end waits for the attempt's records, which are then durable."""
    import threading

    from darwin_core.ledger import Ledger, LedgerEntry, flush_at_job_end
    from darwin_hookspecs import Usage

    class SlowStorage:
        url = "mem://slow"

        def __init__(self) -> None:
            self.release = threading.Event()
            self.written: list[str] = []

        def put_record(self, collection, key, value, **_):
            self.release.wait(timeout=10)
            self.written.append(key)
            return "v1"

        def scan(self, collection):
            return iter(())

    storage = SlowStorage()
    ledger = Ledger(storage)  # type: ignore[arg-type]
    with flush_at_job_end("a1"):
        ledger.spend("a1", Usage(role="implement", model="m", provider="p", input_tokens=3))
        ledger.flush("a1")  # the generator's flush: returns although the write is held
        assert storage.written == []
        storage.release.set()
    assert len(storage.written) == 1  # the block's end waited for it
    storage.release.clear()
    ledger.record(LedgerEntry(attempt_id="a2", role="implement", model="m", provider="p"))
    done = threading.Event()
    worker = threading.Thread(target=lambda: (ledger.flush("a2"), done.set()))
    worker.start()
    assert not done.wait(0.3)  # outside a job a flush waits
    storage.release.set()
    worker.join(timeout=10)
    assert done.is_set() and len(storage.written) == 2
