"""The gateway over its unix socket (spoken to by the example agent's own client), and the
model choice (weights, bandit)."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from llm_support import FAKE_KEY, KEY_ENV
from loopback import LoopbackLLM

from darwin_core.ledger import Budget, Ledger
from darwin_hookspecs import BuildContext, Variant
from darwin_plugins.llm.choice import ModelChooser
from darwin_plugins.llm.options import CallOptions, build_call_path
from darwin_plugins.self_agent.gateway import Gateway

TOOLS = Path(__file__).resolve().parents[2] / "examples" / "self_agent" / "agent" / "tools.py"


def agent_tools():
    spec = importlib.util.spec_from_file_location("agent_tools", TOOLS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_gateway_adds_the_key_counts_tokens_and_enforces_the_budget(tmp_path, key_env, monkeypatch):
    server = LoopbackLLM(lambda body: "hello from the model").start()
    try:
        ledger = Ledger(None, Budget(tokens=20))
        options = CallOptions(model="m1", base_url=server.url + "/v1", api_key_env=KEY_ENV, backoff_s=0.0)
        calls = build_call_path("openai", options, BuildContext(), ledger, "self")
        deep = tmp_path / ("d" * 80) / ("e" * 80)  # longer than a unix socket path may be
        with Gateway(calls, deep / ".darwin" / "llm.sock", attempt_id="g1a0", seed=3) as gateway:
            monkeypatch.chdir(deep)  # as in the sandbox: the socket is relative to the working copy
            monkeypatch.setenv("DARWIN_LLM_SOCKET", ".darwin/llm.sock")
            monkeypatch.delenv(KEY_ENV)  # the agent's side has no key at all
            tools = agent_tools()
            reply = tools.chat([{"role": "user", "content": "x" * 80}], model="m1")
            assert reply == "hello from the model"
            assert server.auth_seen == [f"Bearer {FAKE_KEY}"]
            assert ledger.totals.by_role["agent"]["input_tokens"] == server.billed_input
            with pytest.raises(RuntimeError, match="HTTP 402.*budget"):
                tools.chat([{"role": "user", "content": "another question"}])
            assert gateway.stop_error is not None
            assert server.requests == 1  # the refused call never reached the provider
        assert not gateway.socket_path.exists()
    finally:
        server.stop()


def test_weighted_choice_follows_the_weights():
    chooser = ModelChooser(["a", "b"], [3.0, 1.0])
    rng = random.Random(0)
    picks = [chooser.choose(rng) for _ in range(4000)]
    assert 0.70 < picks.count(0) / len(picks) < 0.80


def test_bandit_learns_accepted_children_per_dollar():
    chooser = ModelChooser(["cheap", "pricey"], [1.0, 1.0], mode="bandit")
    for _ in range(20):  # both accept half the time; 'pricey' costs 50x more
        chooser.observe_variant(Variant(id="v", parent_id="r", generation=1, status="accepted",
                                        cost_usd=0.001, metadata={"llm_model": "cheap"}))
        chooser.observe_variant(Variant(id="v", parent_id="r", generation=1, status="rejected",
                                        cost_usd=0.001, metadata={"llm_model": "cheap"}))
        chooser.observe_variant(Variant(id="v", parent_id="r", generation=1, status="accepted",
                                        cost_usd=0.05, metadata={"llm_model": "pricey"}))
        chooser.observe_variant(Variant(id="v", parent_id="r", generation=1, status="rejected",
                                        cost_usd=0.05, metadata={"llm_model": "pricey"}))
    rng = random.Random(1)
    picks = [chooser.choose(rng) for _ in range(200)]
    assert picks.count(0) > 180


def test_bandit_is_fed_by_finished_attempts_through_the_hook():
    from darwin_plugins.llm import choice, plugin

    chooser = ModelChooser(["a", "b"], [1.0, 1.0], mode="bandit")
    choice.register("run-x", chooser)

    class Run:
        run_id = "run-x"

    child = Variant(id="v1", parent_id="r", generation=1, status="accepted", cost_usd=0.01,
                    metadata={"llm_model": "b"})
    plugin.darwin_attempt_finished(run=Run(), attempt=None, child=child)
    assert chooser.stats["b"] == {"n": 1, "accepted": 1, "cost": 0.01}
