"""What the warm sandbox sends a fork server and reads back: a run's rlimits, and exact reads of
the length-prefixed control messages."""

from __future__ import annotations

import socket

from darwin_hookspecs import ExecRequest


def rlimits(request: ExecRequest, address_space: bool) -> dict[str, int]:
    limits = {"RLIMIT_CPU": request.cpu_s or int(request.timeout_s) + 1, "RLIMIT_CORE": 0}
    if request.memory_mb and address_space:
        limits["RLIMIT_AS"] = request.memory_mb << 20
    if request.file_size_mb:
        limits["RLIMIT_FSIZE"] = request.file_size_mb << 20
    return limits


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data
