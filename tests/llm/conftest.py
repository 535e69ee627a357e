"""Fixtures of the LLM tests: the loopback provider server and the fake key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from llm_support import FAKE_KEY, KEY_ENV, quickstart_responder  # noqa: E402
from loopback import LoopbackLLM  # noqa: E402


@pytest.fixture
def llm_server() -> Iterator[LoopbackLLM]:
    server = LoopbackLLM(quickstart_responder).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    return KEY_ENV
