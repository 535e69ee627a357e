"""The model gateway of the ``self`` generator: OpenAI chat-completions over a unix socket.

The orchestrator runs one gateway per attempt. It listens on a unix socket created *inside the
attempt's working copy* (``.darwin/llm.sock``), which the sandbox already exposes to the agent
(the local sandbox binds the socket into its bubblewrap, also when it stages the working copy
on a tmpfs). The container sandboxes copy the working copy in and out as a tar stream, which
cannot carry a socket: the ``self`` generator needs the ``local`` sandbox. A unix socket needs no
network, so the sandbox keeps its network namespace unshared (``request.network = False``), and
only the agent of that attempt can reach it. Each request is answered through the hardened call
path (:class:`~darwin_plugins.llm.client.CallPath`): the real key is added there, tokens and
dollars go to the ledger (role ``agent``, this attempt), budgets are enforced, replies are cached.
The key never enters the sandbox: the agent sends none and gets none.

A spent budget (or every model down) answers HTTP 402 with ``error.type = budget_exceeded`` and
is remembered, so the generator raises :class:`BudgetExceededError` once the agent exits.
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable

from darwin_hookspecs import BudgetExceededError, Usage

from darwin_plugins.llm.client import CallPath
from darwin_plugins.llm.types import FatalLLMError

MAX_BODY = 16 * 1024 * 1024


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class Gateway:
    """Serves one attempt. ``start()`` binds the socket; ``stop()`` removes it."""

    def __init__(self, calls: CallPath, socket_path: Path, *, attempt_id: str, seed: int,
                 record_usage: Callable[[Usage], None] | None = None, temperature: float = 0.7,
                 max_tokens: int = 4096) -> None:
        self.calls = calls
        self.socket_path = Path(socket_path)
        self.attempt_id = attempt_id
        self.seed = seed
        self.record_usage = record_usage
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.requests = 0
        self.stop_error: BudgetExceededError | None = None
        self.lock = threading.Lock()
        self.server: _UnixHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "Gateway":
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        # bind through /proc/self/fd so that deep working copies do not hit the 108-byte limit
        fd = os.open(self.socket_path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self.server = _UnixHTTPServer(f"/proc/self/fd/{fd}/{self.socket_path.name}", self._handler())
        finally:
            os.close(fd)
        os.chmod(self.socket_path, 0o777)
        os.chmod(self.socket_path.parent, 0o777)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name=f"darwin-gateway-{self.attempt_id}")
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------- answering

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One chat-completions request -> ``(HTTP status, JSON reply)``."""
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, _error("invalid_request_error", "messages must be a non-empty list")
        clean = [{"role": str(m.get("role", "user")), "content": _text(m.get("content"))}
                 for m in messages if isinstance(m, dict)]
        wanted = str(body.get("model") or "")
        endpoint = next((e for e in self.calls.endpoints if e.model == wanted), None)
        with self.lock:
            self.requests += 1
            if self.stop_error is not None:
                return 402, _error("budget_exceeded", str(self.stop_error))
        try:
            completion, ep = self.calls.complete(
                clean, role="agent", attempt_id=self.attempt_id, seed=self.seed, endpoint=endpoint,
                temperature=float(body.get("temperature", self.temperature)),
                max_tokens=int(body.get("max_tokens") or self.max_tokens), record_usage=self.record_usage,
            )
        except BudgetExceededError as exc:
            with self.lock:
                self.stop_error = exc
            return 402, _error("budget_exceeded", str(exc))
        except FatalLLMError as exc:
            return 400, _error("invalid_request_error", str(exc))
        return 200, {
            "id": f"darwin-{self.attempt_id}-{self.requests}", "object": "chat.completion", "created": 0,
            "model": ep.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                         "finish_reason": completion.finish_reason or "stop"}],
            "usage": {"prompt_tokens": completion.input_tokens, "completion_tokens": completion.output_tokens,
                      "total_tokens": completion.input_tokens + completion.output_tokens},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def address_string(self) -> str:
                return "sandbox"

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._reply(200, {"object": "list", "data": [
                        {"id": e.model, "object": "model"} for e in gateway.calls.endpoints]})
                else:
                    self._reply(404, _error("not_found", f"no route {self.path}"))

            def do_POST(self) -> None:  # noqa: N802
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._reply(404, _error("not_found", f"no route {self.path}; use POST /v1/chat/completions"))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > MAX_BODY:
                    self._reply(400, _error("invalid_request_error", "missing or oversized body"))
                    return
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    self._reply(400, _error("invalid_request_error", "body is not JSON"))
                    return
                status, payload = gateway.answer(body if isinstance(body, dict) else {})
                self._reply(status, payload)

        return Handler


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": kind}}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)
