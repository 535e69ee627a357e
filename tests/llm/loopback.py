"""A loopback HTTP server speaking the providers' wire APIs, for tests and benchmarks.

``POST /v1/chat/completions`` (OpenAI) and ``POST /v1/messages`` (Anthropic). Replies come from
a ``responder(request_json) -> text`` function; faults are scripted in a queue consumed one per
request: ``{"status": 429, "retry_after": "1"}``, ``{"status": 500}``, ``{"status": 529}``,
``{"hang": 5}`` (sleep past the client's timeout, then answer normally), ``{"reset": True}``
(close the connection without answering), ``{"malformed": True}`` (200 with broken JSON),
``{"text": "...", "finish": "length"}`` (a scripted reply). The server counts every request and
the tokens it bills (only in well-formed 200 replies), so tests can check the ledger exactly.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def count_tokens(text: str) -> int:
    return len(text) // 4 + 1


class LoopbackLLM:
    def __init__(self, responder: Callable[[dict[str, Any]], str] | None = None, delay_s: float = 0.0) -> None:
        self.responder = responder or (lambda body: "ok")
        self.delay_s = delay_s
        self.script: deque[dict[str, Any]] = deque()
        self.lock = threading.Lock()
        self.requests = 0
        self.billed_requests = 0
        self.billed_input = 0
        self.billed_output = 0
        self.faults_served: list[str] = []
        self.auth_seen: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LoopbackLLM":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def push(self, *faults: dict[str, Any]) -> None:
        with self.lock:
            self.script.extend(faults)

    def _next_fault(self) -> dict[str, Any] | None:
        with self.lock:
            self.requests += 1
            return self.script.popleft() if self.script else None

    def _bill(self, body: dict[str, Any], text: str) -> tuple[int, int]:
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        prompt += str(body.get("system", ""))
        tin, tout = count_tokens(prompt), count_tokens(text)
        with self.lock:
            self.billed_requests += 1
            self.billed_input += tin
            self.billed_output += tout
        return tin, tout

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                # headers and body in one write: two small writes would meet Nagle's algorithm
                # and the client's delayed ACK (a 40 ms stall per reply on loopback)
                self._headers_buffer.append(b"\r\n" + payload)
                self.flush_headers()

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                anthropic = self.path.rstrip("/").endswith("/messages")
                if not (anthropic or self.path.rstrip("/").endswith("/chat/completions")):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                auth = self.headers.get("x-api-key") or self.headers.get("Authorization") or ""
                body = json.loads(raw or b"{}")
                with server.lock:
                    server.auth_seen.append(auth)
                    server.bodies.append(body)
                fault = server._next_fault()
                if server.delay_s:
                    time.sleep(server.delay_s)
                text = None
                finish = None
                if fault:
                    server.faults_served.append(json.dumps(fault, sort_keys=True))
                    if fault.get("hang"):
                        time.sleep(float(fault["hang"]))
                        try:
                            self._send(500, b'{"error": {"message": "too late"}}')
                        except OSError:
                            pass
                        return
                    if fault.get("reset"):
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.close_connection = True
                        self.connection.close()
                        return
                    if fault.get("malformed"):
                        self._send(200, b'{"id": "x", "choices": [ {"message": ')
                        return
                    if "status" in fault:
                        status = int(fault["status"])
                        headers = {"retry-after": str(fault["retry_after"])} if "retry_after" in fault else {}
                        if anthropic:
                            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
                            payload = {"type": "error", "error": {"type": kind, "message": f"scripted {status}"}}
                        else:
                            payload = {"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}
                        self._send(status, json.dumps(payload).encode(), headers)
                        return
                    if "text" in fault:
                        text, finish = fault["text"], fault.get("finish")
                if text is None:
                    text = server.responder(body)
                tin, tout = server._bill(body, text)
                model = body.get("model", "m")
                if anthropic:
                    payload = {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
                               "content": [{"type": "text", "text": text}],
                               "stop_reason": {"length": "max_tokens"}.get(finish or "", "end_turn"),
                               "stop_sequence": None,
                               "usage": {"input_tokens": tin, "output_tokens": tout}}
                else:
                    payload = {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                               "model": model,
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                            "finish_reason": finish or "stop"}],
                               "usage": {"prompt_tokens": tin, "completion_tokens": tout,
                                         "total_tokens": tin + tout}}
                self._send(200, json.dumps(payload).encode())

        return Handler
