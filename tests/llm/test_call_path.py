"""The hardened call path, through the real SDKs, against the loopback provider server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from llm_support import FAKE_KEY, KEY_ENV
from loopback import LoopbackLLM

from darwin_core.ledger import Budget, Ledger
from darwin_hookspecs import BudgetExceededError, BuildContext
from darwin_plugins.file_storage import FileStorage
from darwin_plugins.llm.client import CallPath, Endpoint
from darwin_plugins.llm.options import CallOptions, build_call_path
from darwin_plugins.llm.resilience import CircuitBreaker, RateLimiter
from darwin_plugins.llm.types import FatalLLMError, ProviderUnavailableError

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "say ok"}]


class RecordingSleep:
    """Records the waits the call path asks for and sleeps a token amount."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.02))


def make_path(tmp_path: Path, provider: str, server: LoopbackLLM, *, budget: Budget | None = None,
              sleep: Any = None, **opts: Any) -> CallPath:
    storage = FileStorage(tmp_path / "store")
    ledger = Ledger(storage, budget)
    base = server.url if provider == "anthropic" else server.url + "/v1"
    model = {"litellm": "openai/gpt-4o-mini"}.get(provider, "m1")
    options = CallOptions(**{"model": model, "base_url": base, "api_key_env": KEY_ENV, "timeout_s": 2.0,
                             "backoff_s": 0.01, "price_per_mtok_in": 1.0, "price_per_mtok_out": 2.0, **opts})
    path = build_call_path(provider, options, BuildContext(), ledger, provider)
    if sleep is not None:
        path.sleep = sleep
    return path


def assert_ledger_exact(path: CallPath, server: LoopbackLLM) -> None:
    totals = path.ledger.totals
    assert totals.calls == server.billed_requests
    assert totals.input_tokens == server.billed_input
    assert totals.output_tokens == server.billed_output
    assert totals.cost_usd == pytest.approx(server.billed_input * 1e-6 + server.billed_output * 2e-6)


@pytest.fixture
def server(key_env: str):
    srv = LoopbackLLM(lambda body: "ok").start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", [
    {"status": 429},
    {"status": 500},
    {"status": 529},
    {"reset": True},
    {"malformed": True},
    {"hang": 1.5},
], ids=["429", "500", "529", "reset", "malformed", "hang"])
def test_transient_faults_are_retried_and_the_ledger_is_exact(tmp_path, server, provider, fault):
    sleep = RecordingSleep()
    path = make_path(tmp_path, provider, server, sleep=sleep, timeout_s=1.0)
    server.push(fault, fault)
    completion, _ = path.complete(MESSAGES, role="diagnose", attempt_id="a1")
    assert completion.text == "ok"
    assert server.requests == 3  # two faults, then the answer: no SDK-level retries on top
    assert len(sleep.waits) == 2
    assert_ledger_exact(path, server)
    assert server.auth_seen and all(FAKE_KEY in a for a in server.auth_seen)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_retry_after_is_honoured(tmp_path, server, provider):
    sleep = RecordingSleep()
    path = make_path(tmp_path, provider, server, sleep=sleep)
    server.push({"status": 429, "retry_after": "7"})
    path.complete(MESSAGES, role="diagnose", attempt_id="a1")
    assert sleep.waits == [7.0]
    assert server.requests == 2


def test_fatal_error_is_not_retried(tmp_path, server):
    path = make_path(tmp_path, "openai", server, sleep=RecordingSleep())
    server.push({"status": 401})
    with pytest.raises(FatalLLMError, match="api_key_env"):
        path.complete(MESSAGES, role="diagnose", attempt_id="a1")
    assert server.requests == 1


def test_exhausted_retries_stop_cleanly(tmp_path, server):
    path = make_path(tmp_path, "openai", server, sleep=RecordingSleep(), max_attempts=3, max_pause_s=0)
    server.push(*[{"status": 503}] * 3)
    with pytest.raises(ProviderUnavailableError, match="darwin resume"):
        path.complete(MESSAGES, role="diagnose", attempt_id="a1")
    assert isinstance(ProviderUnavailableError("x"), BudgetExceededError)  # engine: stop, resumable
    assert server.requests == 3
    assert path.ledger.totals.calls == 0


def test_circuit_opens_and_fails_over_to_the_next_model(tmp_path, key_env):
    bad = LoopbackLLM(lambda body: "bad").start()
    good = LoopbackLLM(lambda body: "good").start()
    try:
        options = CallOptions(models=[{"model": "m-bad", "base_url": bad.url + "/v1"},
                                      {"model": "m-good", "base_url": good.url + "/v1"}],
                              api_key_env=KEY_ENV, max_attempts=2, breaker_threshold=2, breaker_reset_s=60,
                              backoff_s=0.0, max_pause_s=0)
        ledger = Ledger(None)
        path = build_call_path("openai", options, BuildContext(), ledger, "openai")
        bad.push(*[{"status": 500}] * 10)
        completion, ep = path.complete(MESSAGES, role="diagnose", attempt_id="a1", endpoint=path.endpoints[0],
                                           seed=1)
        assert (completion.text, ep.model) == ("good", "m-good")
        assert path.endpoints[0].breaker.state == "open"
        before = bad.requests
        completion, ep = path.complete(MESSAGES, role="diagnose", attempt_id="a2", endpoint=path.endpoints[0],
                                           seed=2)
        assert ep.model == "m-good" and bad.requests == before  # open circuit: no call burnt
        assert ledger.totals.by_model["m-good"]["calls"] == 2
    finally:
        bad.stop()
        good.stop()


def test_breaker_half_opens_after_its_cooldown():
    now = [0.0]
    breaker = CircuitBreaker("p:m", threshold=2, reset_after_s=10, clock=lambda: now[0])
    breaker.failure()
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 10.5
    assert breaker.state == "half_open"
    breaker.before_call()  # the trial call
    with pytest.raises(Exception, match="open"):
        breaker.before_call()  # only one trial at a time
    breaker.success()
    assert breaker.state == "closed"


def test_response_cache_survives_a_new_process_and_costs_nothing(tmp_path, server):
    path = make_path(tmp_path, "openai", server)
    path.complete(MESSAGES, role="implement", attempt_id="a1", seed=5)
    path.ledger.flush()  # what a generator does before its attempt returns
    again = make_path(tmp_path, "openai", server)  # fresh path over the same storage (a resume)
    completion, _ = again.complete(MESSAGES, role="implement", attempt_id="a1", seed=5)
    assert completion.cached and completion.text == "ok"
    assert server.requests == 1
    assert again.ledger.totals.calls == 1 and again.ledger.totals.cached_calls == 1  # reloaded from storage
    other_seed, _ = again.complete(MESSAGES, role="implement", attempt_id="a2", seed=6)
    assert not other_seed.cached and server.requests == 2


def test_budget_refuses_calls_once_spent(tmp_path, server):
    path = make_path(tmp_path, "openai", server, budget=Budget(tokens=3))
    path.complete(MESSAGES, role="diagnose", attempt_id="a1", seed=1)
    with pytest.raises(BudgetExceededError, match="budget.tokens"):
        path.complete(MESSAGES, role="diagnose", attempt_id="a1", seed=2)
    assert server.requests == 1
    cached, _ = path.complete(MESSAGES, role="diagnose", attempt_id="a1", seed=1)
    assert cached.cached  # replaying what was paid for is free, even past the budget


def test_rate_limiter_is_shared_and_paces_requests():
    limiter = RateLimiter(requests_per_minute=600)  # 10/s, bucket starts full
    limiter.requests = 0.0
    t0 = time.monotonic()
    for _ in range(3):
        limiter.acquire()
    assert time.monotonic() - t0 >= 0.25


def test_missing_key_variable_is_a_clear_error(tmp_path, server, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(Exception, match=f"{KEY_ENV}.*not set"):
        make_path(tmp_path, "openai", server)


def test_endpoint_cost_uses_litellm_price_map_offline():
    from darwin_plugins.llm.pricing import price_per_token

    pin, pout = price_per_token("gpt-4o-mini", "openai")
    assert pin > 0 and pout > pin
    assert price_per_token("gpt-4o-mini", "openai", 3.0, 4.0) == (3e-6, 4e-6)
    assert Endpoint(provider=None, model="x", price_in=1e-6, price_out=2e-6).cost(10, 5) == pytest.approx(2e-5)  # type: ignore[arg-type]


def test_a_key_echoed_by_a_provider_error_is_masked():
    from darwin_plugins.llm.providers import classify

    class AuthError(Exception):
        status_code = 401

    error = classify(AuthError(f"Incorrect API key provided: {FAKE_KEY}"), "openai", "m", FAKE_KEY)
    assert isinstance(error, FatalLLMError) and FAKE_KEY not in str(error)

    class Busy(Exception):
        status_code = 503

    error = classify(Busy(f"upstream rejected {FAKE_KEY}"), "openai", "m", FAKE_KEY)
    assert FAKE_KEY not in str(error) and "***" in str(error)


def test_when_every_circuit_is_open_the_call_pauses_until_one_half_opens(tmp_path, server):
    sleep = RecordingSleep()
    path = make_path(tmp_path, "openai", server, sleep=sleep, max_attempts=1, breaker_threshold=1,
                     breaker_reset_s=0.3, max_pause_s=5)
    server.push({"status": 500})
    with pytest.raises(ProviderUnavailableError):
        path.complete(MESSAGES, role="diagnose", attempt_id="a1", seed=1)
    assert path.endpoints[0].breaker.state == "open"
    path.sleep = lambda s: (sleep.waits.append(s), time.sleep(s))  # really wait for the half-open
    completion, _ = path.complete(MESSAGES, role="diagnose", attempt_id="a2", seed=2)
    assert completion.text == "ok" and server.requests == 2
    assert 0.0 < sleep.waits[-1] <= 0.3
    assert path.endpoints[0].breaker.state == "closed"


def test_a_remote_worker_ledger_finds_the_runs_storage_and_budget(tmp_path):
    """Without engine services (e.g. in a Ray worker), the ledger opens the run's storage and
    reads ``[budget]`` from the run directory's pointer file."""
    from dataclasses import asdict

    from darwin_core.ledger import COLLECTION, LedgerEntry, ledger_for
    from darwin_core.rundir import RunPointer, write_pointer

    run_dir = tmp_path / "run"
    store = run_dir / "store"
    FileStorage(store).put_record(COLLECTION, "e1", asdict(LedgerEntry("a1", "implement", "m", "openai", 10, 5, 0.5)))
    config = {"run": {"initial": "program"}, "budget": {"usd": 0.25}}
    write_pointer(run_dir, RunPointer(run_id="r1", storage_url=store.resolve().as_uri(), config=config,
                                      config_source=str(tmp_path / "darwin.toml"), created_at=0.0))
    ledger = ledger_for(BuildContext(run_id="r1", run_dir=run_dir))
    assert ledger.totals.tokens == 15 and ledger.budget.usd == 0.25
    with pytest.raises(BudgetExceededError, match="budget.usd"):
        ledger.check()
