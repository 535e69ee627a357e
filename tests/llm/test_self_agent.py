"""The ``self`` generator: the example agent improves its own code through the gateway."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_support import DIAGNOSIS, FAKE_KEY, KEY_ENV, conversation, grep_tree
from loopback import LoopbackLLM

from darwin_plugins.llm import prompts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "self_agent"

TRUNCATE_FIX = """tools.py
<<<<<<< SEARCH
    return text[:limit] + "..." + text[-limit:]
=======
    half = max(0, (limit - 3) // 2)
    return text[:half] + "..." + text[len(text) - half:]
>>>>>>> REPLACE
"""


def responder(body):
    text = conversation(body)
    if prompts.DIAGNOSE_MARK in text:
        return DIAGNOSIS.replace("mean divides by len + 1", "truncate_middle exceeds its limit")
    if "coding agent improving your own source code" in text:
        return TRUNCATE_FIX
    return "?"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dest = tmp_path / "self_agent"
    shutil.copytree(EXAMPLE, dest)
    return dest


def configure(example: Path, server: LoopbackLLM, **generator) -> Path:
    text = (example / "darwin.toml").read_text()
    if "command" in generator:
        text = text.replace('command = ["python", "agent.py"]\n', "")
    text = text.replace('api_key_env = "OPENAI_API_KEY"', f'api_key_env = "{KEY_ENV}"\n'
                        f'base_url = "{server.url}/v1"\nprice_per_mtok_in = 1.0\nprice_per_mtok_out = 2.0\n'
                        'backoff_s = 0.01\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in generator.items()))
    text = text.replace("generations = 5", "generations = 1")
    path = example / "darwin.toml"
    path.write_text(text)
    return path


def test_example_agent_improves_itself(example, key_env, darwin_cli, tmp_path):
    server = LoopbackLLM(responder).start()
    try:
        config = configure(example, server)
        run_dir = tmp_path / "run"
        result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
        assert result.returncode == 0, result.stderr[-3000:]
        rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
        root, children = rows[0], rows[1:]
        accepted = [c for c in children if c["status"] == "accepted" and c["score"] > root["score"]]
        assert accepted, children
        assert any(c["score"] == 1.0 for c in accepted)
        status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
        # every call went through the gateway and the ledger: diagnose + agent, per attempt
        assert set(status["llm_by_role"]) == {"diagnose", "agent"}
        assert status["llm_calls"] == server.billed_requests == 4
        assert (status["tokens_in"], status["tokens_out"]) == (server.billed_input, server.billed_output)
        assert all(FAKE_KEY in a for a in server.auth_seen)
        assert grep_tree(run_dir, FAKE_KEY) == []
    finally:
        server.stop()


def test_the_sandboxed_agent_sees_no_key_and_no_network(example, key_env, darwin_cli, tmp_path):
    """An 'agent' that dumps its environment and tries the network: the dump becomes the child."""
    server = LoopbackLLM(responder).start()
    try:
        probe = (
            "import json, os, socket\n"
            "s = socket.socket(); s.settimeout(2)\n"
            f"try:\n    s.connect(('127.0.0.1', {server.port})); net = 'reachable'\n"
            "except OSError as e:\n    net = 'unreachable'\n"
            "json.dump({'env': dict(os.environ), 'net': net, 'sock': os.path.exists(os.environ['DARWIN_LLM_SOCKET'])},"
            " open('probe.json', 'w'))\n"
        )
        (example / "agent" / "probe.py").write_text(probe)
        config = configure(example, server, command=["python", "probe.py"], diagnose=False)
        text = config.read_text().replace("children_per_generation = 2", "children_per_generation = 1")
        config.write_text(text)
        run_dir = tmp_path / "run"
        result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
        assert result.returncode == 0, result.stderr[-3000:]
        from darwin_core.reader import open_run
        from darwin_core.snapshots import CodeBook

        view = open_run(run_dir)
        book = CodeBook(view.store)
        for v in view.variants:
            book.add(v)
        child = [v for v in view.variants if v.parent_id][0]
        probe_out = json.loads(book.files(child.id)["probe.json"])
        env = probe_out["env"]
        assert probe_out["sock"] is True and env["DARWIN_LLM_SOCKET"] == ".darwin/llm.sock"
        assert FAKE_KEY not in json.dumps(env) and KEY_ENV not in env
        from darwin_plugins.local_sandbox import bwrap_usable

        if bwrap_usable():
            assert probe_out["net"] == "unreachable"
        assert grep_tree(run_dir, FAKE_KEY) == []
    finally:
        server.stop()
