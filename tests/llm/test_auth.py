"""Authentication errors are never retried: no key or a refused key stops the run at once with
exit code 2 and the variable to set (issue 15 item 8), for every provider."""

from __future__ import annotations

import json
import time

import pytest

from llm_support import FAKE_KEY, KEY_ENV, write_llm_config
from test_call_path import MESSAGES, RecordingSleep, make_path

from darwin_hookspecs import UserError
from darwin_plugins.llm.providers import classify
from darwin_plugins.llm.types import AuthenticationFailedError, FatalLLMError, LLMConfigError, TransientError

PROVIDERS = ["openai", "anthropic", "litellm"]


@pytest.fixture
def server(key_env):
    from loopback import LoopbackLLM

    srv = LoopbackLLM(lambda body: "ok").start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refused_key_is_not_retried_and_names_the_variable(tmp_path, server, provider, status):
    sleep = RecordingSleep()
    path = make_path(tmp_path, provider, server, sleep=sleep)
    server.push(*[{"status": status}] * 5)
    with pytest.raises(AuthenticationFailedError) as caught:
        path.complete(MESSAGES, role="diagnose", attempt_id="a1")
    assert server.requests == 1 and sleep.waits == []  # one request, no backoff, no retry
    assert isinstance(caught.value, UserError) and caught.value.exit_code == 2
    assert f"HTTP {status}" in str(caught.value)
    assert f"export {KEY_ENV}=YOUR_KEY" in str(caught.value) and "api_key_env" in str(caught.value)
    assert path.endpoints[0].breaker.state == "closed"  # the provider is up: no circuit opened
    assert path.ledger.totals.calls == 0


def test_what_sdks_say_without_a_key_is_an_authentication_error():
    class InternalServerError(Exception):  # what LiteLLM raises when the OpenAI SDK found no key
        status_code = 500

    missing = InternalServerError("litellm.InternalServerError: OpenAIException - Missing credentials. Please "
                                  "pass an `api_key` ... or set the `OPENAI_API_KEY` environment variable.")
    assert isinstance(classify(missing, "litellm", "openai/m"), AuthenticationFailedError)
    busy = InternalServerError("upstream overloaded")
    assert isinstance(classify(busy, "litellm", "openai/m"), TransientError)

    class BadRequest(Exception):
        status_code = 400

    bad = classify(BadRequest("context length exceeded"), "openai", "m")
    assert isinstance(bad, FatalLLMError) and not isinstance(bad, UserError)  # this attempt only
    assert isinstance(classify(type("E", (Exception,), {"status_code": 404})("no"), "openai", "m"), LLMConfigError)


def _statuses(darwin_cli, run_dir) -> dict:
    result = darwin_cli("status", str(run_dir), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_darwin_run_with_a_refused_key_stops_at_once_with_exit_2(
        quickstart, llm_server, key_env, darwin_cli, tmp_path, provider):
    llm_server.push(*[{"status": 401}] * 50)
    config = write_llm_config(quickstart, provider, llm_server, run={"generations": 3},
                              extra_sections={"executor": {"name": "local", "max_workers": 1}})
    run_dir = tmp_path / "run"
    t0 = time.monotonic()
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    elapsed = time.monotonic() - t0
    assert result.returncode == 2, result.stdout + result.stderr[-3000:]
    assert "HTTP 401" in result.stderr and f"export {KEY_ENV}=YOUR_KEY" in result.stderr
    assert "darwin resume" in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr
    assert llm_server.requests == 1  # one refused call, nothing retried, no other attempt started
    assert elapsed < 60
    status = _statuses(darwin_cli, run_dir)
    assert status["variants"] == 1  # the root only: no child recorded as an error
    assert status["attempts_by_status"].get("planned", 0) >= 1 and "finished" not in status["attempts_by_status"]

    # with a key the provider accepts, the same run continues from where it stopped
    llm_server.script.clear()
    result = darwin_cli("resume", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    status = _statuses(darwin_cli, run_dir)
    assert status["status"] == "completed" and status["best_score"] > status["initial_score"]


def test_litellm_without_any_key_stops_at_once_naming_the_variable(
        quickstart, llm_server, darwin_cli, tmp_path, monkeypatch):
    """The reported case: `litellm` with no key retried for 373 s and exited 0."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = write_llm_config(quickstart, "litellm", llm_server)
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if not line.startswith("api_key_env")) + "\n")
    run_dir = tmp_path / "run"
    t0 = time.monotonic()
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    elapsed = time.monotonic() - t0
    assert result.returncode == 2, result.stdout + result.stderr[-3000:]
    assert "no API key found" in result.stderr and "export OPENAI_API_KEY=YOUR_KEY" in result.stderr
    assert "pausing" not in result.stderr and llm_server.requests == 0
    assert elapsed < 60
    assert _statuses(darwin_cli, run_dir)["variants"] == 1
