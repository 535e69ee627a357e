"""Helpers of the LLM tests: the fake key, scripted replies, configs pointing at the loopback server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from loopback import LoopbackLLM  # noqa: E402

from darwin_plugins.llm import prompts  # noqa: E402

FAKE_KEY = "sk-darwin-FAKE-7f3a9c0e1b2d4f6a"
KEY_ENV = "DARWIN_TEST_LLM_KEY"

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MEAN_FIX = """textstats.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
=======
    return sum(values) / len(values)
>>>>>>> REPLACE
"""

DIAGNOSIS = json.dumps({"what_failed": "mean divides by len + 1",
                        "what_to_change": "divide by len(values) in mean",
                        "how": "edit textstats.mean"})


def conversation(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", [])) + str(body.get("system", ""))


def quickstart_responder(body: dict[str, Any]) -> str:
    """Diagnose requests get a diagnosis; implement requests get the fix of ``mean``."""
    text = conversation(body)
    if prompts.DIAGNOSE_MARK in text:
        return DIAGNOSIS
    return MEAN_FIX


def grep_tree(root: Path, needle: str) -> list[str]:
    """Files under ``root`` holding ``needle``, looking inside compressed blobs too."""
    import zlib

    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data.startswith(b"DZ1\n"):
            try:
                data = zlib.decompress(data[4:])
            except zlib.error:
                pass
        if needle.encode() in data:
            hits.append(str(path))
    return hits


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_llm_config(directory: Path, backend: str, server: LoopbackLLM, *, generator: dict[str, Any] | None = None,
                     run: dict[str, Any] | None = None, budget: dict[str, Any] | None = None,
                     extra_sections: dict[str, dict[str, Any]] | None = None) -> Path:
    """A config over the quickstart program whose generator talks to ``server``."""
    base_url = server.url if backend == "anthropic" else server.url + "/v1"
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-20241022",
             "litellm": "openai/gpt-4o-mini"}.get(backend, "gpt-4o-mini")
    sections: dict[str, dict[str, Any]] = {
        "run": {"name": "llm", "seed": 1, "initial": "program", "generations": 1,
                "children_per_generation": 2, **(run or {})},
        "generator": {"name": backend, "model": model, "base_url": base_url, "api_key_env": KEY_ENV,
                      "backoff_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 5.0,
                      "price_per_mtok_in": 1.0, "price_per_mtok_out": 2.0, **(generator or {})},
        "sandbox": {"name": "local"},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 2},
    }
    if budget:
        sections["budget"] = budget
    for name, values in (extra_sections or {}).items():
        sections[name] = values
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    path = directory / "darwin.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
