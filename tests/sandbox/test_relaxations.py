"""The isolation relaxations, each off by default: network on request and named host
variables. A real TCP server on the host is the network's witness (CI's engines run without
bridges or iptables, so the containers share the host's network with ``network_mode="host"``)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from darwin_hookspecs import ExecRequest

from .conftest import make_sandbox

CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    s = socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
    "    print('got', s.recv(64).decode())\n"
    "except OSError as exc:\n"
    "    print('refused', type(exc).__name__)\n"
)


@pytest.fixture
def token_server() -> Iterator[tuple[int, str]]:
    """A loopback TCP server answering every connection with a token."""
    token = "darwin-net-ok"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(token.encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], token
    stop.set()
    thread.join(5)
    server.close()


def _connect(sandbox: Any, tmp_path: Path, port: int, network: bool) -> str:
    tmp_path.chmod(0o777)
    result = sandbox.run(ExecRequest(argv=["python", "-c", CONNECT.format(port=port)], workdir=tmp_path,
                                     network=network, timeout_s=60))
    assert result.exit_code == 0, result
    return result.stdout.strip()


@pytest.mark.parametrize("backend", ["docker", "podman"])
def test_containers_reach_the_network_only_when_allowed_and_asked(backend: str, tmp_path: Path,
                                                                  token_server: tuple[int, str]) -> None:
    port, token = token_server
    closed = make_sandbox(backend, run_id=f"test-net-off-{backend}")
    opened = make_sandbox(backend, run_id=f"test-net-on-{backend}", allow_network=True, network_mode="host")
    try:
        assert closed.guarantees()["network_isolated"] is True
        assert opened.guarantees()["network_isolated"] is False
        assert _connect(closed, tmp_path, port, network=True).startswith("refused")  # asked, not allowed
        assert _connect(opened, tmp_path, port, network=False).startswith("refused")  # allowed, not asked
        assert _connect(opened, tmp_path, port, network=True) == f"got {token}"
    finally:
        closed.close()
        opened.close()


def test_local_sandbox_shares_the_network_only_when_asked(tmp_path: Path, token_server: tuple[int, str]) -> None:
    port, token = token_server
    sandbox = make_sandbox("local", run_id="test-net-local")
    try:
        assert _connect(sandbox, tmp_path, port, network=False).startswith("refused")
        assert _connect(sandbox, tmp_path, port, network=True) == f"got {token}"
    finally:
        sandbox.close()


@pytest.mark.parametrize("backend", ["docker", "podman"])
def test_pass_env_copies_only_the_named_host_variables(backend: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DARWIN_TEST_PASSED", "visible")
    monkeypatch.setenv("DARWIN_TEST_SECRET", "hidden")
    sandbox = make_sandbox(backend, run_id=f"test-env-{backend}", pass_env=["DARWIN_TEST_PASSED", "DARWIN_TEST_UNSET"])
    try:
        assert sandbox.guarantees()["no_secrets_in_env"] is False
        tmp_path.chmod(0o777)
        code = "import os; print(os.environ.get('DARWIN_TEST_PASSED'), os.environ.get('DARWIN_TEST_SECRET'), " \
               "'DARWIN_TEST_UNSET' in os.environ)"
        result = sandbox.run(ExecRequest(argv=["python", "-c", code], workdir=tmp_path, timeout_s=60))
        assert result.stdout.strip() == "visible None False", result
    finally:
        sandbox.close()
    assert make_sandbox(backend, run_id=f"test-env-default-{backend}").guarantees()["no_secrets_in_env"] is True
