"""``darwin run`` on the quickstart example with each LLM backend against the loopback server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from llm_support import FAKE_KEY, MEAN_FIX, conversation, grep_tree, write_llm_config

from darwin_plugins.llm import prompts


WRONG_SEARCH = MEAN_FIX.replace("return sum(values) / (len(values) + 1)",
                                "total = accumulate(values, start=zero)")  # nowhere in the file


def status_of(darwin_cli, run_dir: Path) -> dict:
    result = darwin_cli("status", str(run_dir), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", ["openai", "anthropic", "litellm"])
def test_quickstart_improves_with_each_backend(quickstart, llm_server, key_env, darwin_cli, tmp_path, backend):
    config = write_llm_config(quickstart, backend, llm_server)
    llm_server.push({"status": 500}, {"status": 429, "retry_after": "0"})  # retried by us, once each
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q",
                        env={key_env: FAKE_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert result.returncode == 0, result.stderr[-3000:]
    status = status_of(darwin_cli, run_dir)
    assert status["status"] == "completed"
    assert status["best_score"] > status["initial_score"]  # the fix of `mean` was accepted
    assert status["variants_by_status"].get("accepted", 0) >= 2
    # the ledger is exact: what the server billed, per role
    assert status["llm_calls"] == llm_server.billed_requests == 4
    assert llm_server.requests == 4 + 2  # no SDK-level retries multiplied ours
    assert status["tokens_in"] == llm_server.billed_input
    assert status["tokens_out"] == llm_server.billed_output
    assert status["llm_cost_usd"] == pytest.approx(llm_server.billed_input * 1e-6 + llm_server.billed_output * 2e-6)
    assert set(status["llm_by_role"]) == {"diagnose", "implement"}
    # the human-readable status shows tokens and cost
    table = darwin_cli("status", str(run_dir)).stdout
    assert "tokens_in" in table and "llm_cost_usd" in table
    # the key reached the provider, and nothing else
    assert all(FAKE_KEY in a for a in llm_server.auth_seen)
    assert grep_tree(run_dir, FAKE_KEY) == []
    assert FAKE_KEY not in result.stdout + result.stderr
    assert FAKE_KEY not in (quickstart / "darwin.toml").read_text()


def test_faults_during_a_run_are_absorbed_and_billed_exactly(quickstart, llm_server, key_env, darwin_cli, tmp_path):
    llm_server.push({"status": 429, "retry_after": "0"}, {"status": 500}, {"reset": True},
                    {"malformed": True}, {"status": 529}, {"hang": 2.5})
    config = write_llm_config(quickstart, "anthropic", llm_server, generator={"timeout_s": 1.5, "breaker_threshold": 10})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    status = status_of(darwin_cli, run_dir)
    assert status["status"] == "completed"
    assert status["best_score"] > status["initial_score"]
    assert len(llm_server.faults_served) == 6
    assert llm_server.requests == 4 + 6
    assert (status["llm_calls"], status["tokens_in"], status["tokens_out"]) == (
        llm_server.billed_requests, llm_server.billed_input, llm_server.billed_output)
    assert grep_tree(run_dir, FAKE_KEY) == []


def test_garbage_replies_are_reasked_within_a_bound(quickstart, llm_server, key_env, darwin_cli, tmp_path):
    """Malformed diagnosis, empty and truncated replies, edits that do not apply: each goes
    back to the model; the run still finds the fix."""
    def responder(body):
        text = conversation(body)
        if prompts.IMPLEMENT_MARK not in text:
            return "I think the mean is wrong" if "not the requested JSON" not in text else \
                '{"what_failed": "mean", "what_to_change": "mean", "how": "divide by len"}'
        feedback = text.count("could not be applied")
        if feedback < 3:
            return WRONG_SEARCH
        return MEAN_FIX

    llm_server.responder = responder
    config = write_llm_config(quickstart, "openai", llm_server,
                              run={"children_per_generation": 1},
                              generator={"max_edit_retries": 3})
    # requests 1-2 diagnose (malformed, then repaired); 3-4: an empty and a truncated reply
    llm_server.push({}, {}, {"text": ""}, {"text": MEAN_FIX[:40], "finish": "length"})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    child = rows[1]
    assert child["status"] == "accepted" and child["score"] > rows[0]["score"]
    assert child["description"]  # the diagnosis became the description
    bodies = llm_server.bodies
    assert any("not the requested JSON" in conversation(b) for b in bodies)
    assert any("cut off by the length limit" in conversation(b) for b in bodies)
    assert any("SEARCH text was not found" in conversation(b) for b in bodies)
    status = status_of(darwin_cli, run_dir)
    assert status["llm_calls"] == llm_server.billed_requests


def test_edits_that_never_apply_give_an_invalid_child(quickstart, llm_server, key_env, darwin_cli, tmp_path):
    llm_server.responder = lambda body: WRONG_SEARCH
    config = write_llm_config(quickstart, "openai", llm_server, run={"children_per_generation": 1},
                              generator={"diagnose": False, "max_edit_retries": 1})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    assert rows[1]["status"] == "invalid"
    assert llm_server.billed_requests == 2  # one reply and one bounded retry


def test_budget_stops_the_run_and_resume_continues_after_raising_it(
        quickstart, llm_server, key_env, darwin_cli, tmp_path):
    # one attempt at a time: its diagnose call (~565 tokens) passes the check, its implement call not
    config = write_llm_config(quickstart, "openai", llm_server, budget={"tokens": 500},
                              extra_sections={"executor": {"name": "local", "max_workers": 1}})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 5, result.stderr[-3000:]  # budget spent (issue 15 item 7)
    status = status_of(darwin_cli, run_dir)
    assert status["status"] == "stopped"
    assert "budget" in status["stop_reason"] and "--set budget.tokens=" in status["stop_reason"]
    assert status["attempts_by_status"] == {"planned": 2}  # stopped mid-way, not lost
    assert status["variants"] == 1 and llm_server.billed_requests == 1
    spent_before = status["llm_cost_usd"]
    billed_before = llm_server.billed_requests

    bad = darwin_cli("resume", str(run_dir), "--set", "budget.nope=1", "-q")
    assert bad.returncode == 2 and "budget.nope" in bad.stderr

    result = darwin_cli("resume", str(run_dir), "--set", "budget.tokens=100000", "--set", "budget.usd=5", "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    status = status_of(darwin_cli, run_dir)
    assert status["status"] == "completed"
    assert status["attempts_by_status"] == {"finished": 2}
    assert status["best_score"] > status["initial_score"]
    assert status["llm_cost_usd"] > spent_before
    # calls answered before the stop were replayed from the cache, not paid again
    assert status["llm_calls"] == llm_server.billed_requests
    assert status["llm_cached_calls"] == 1  # the first attempt's diagnosis
    assert llm_server.billed_requests - billed_before == 3  # its implement call, the other attempt's two
    assert json.loads((run_dir / "run.json").read_text())["config"]["budget"]["usd"] == 5
