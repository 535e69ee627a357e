"""The agent's tools: talk to the model, read and edit files. Standard library only, so the
agent runs in any sandbox. The benchmark tests these tools: improving them improves the agent."""

import http.client
import json
import os
import re
import socket

BLOCK = re.compile(
    r"^(?P<path>[\w./-]+)\s*\n<{7} SEARCH\n(?P<search>.*?)\n?={7}\n(?P<replace>.*?)\n?>{7} REPLACE",
    re.S | re.M,
)


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the unix socket the orchestrator's gateway listens on."""

    def __init__(self, path, timeout=600):
        super().__init__("darwin-gateway", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def chat(messages, model=None, max_tokens=4096):
    """One chat completion through the gateway (it holds the key; this agent never sees one)."""
    body = json.dumps({"model": model or os.environ.get("DARWIN_LLM_MODEL", ""),
                       "messages": messages, "max_tokens": max_tokens})
    socket_path = os.environ.get("DARWIN_LLM_SOCKET")
    if socket_path:
        conn = _UnixConnection(socket_path)
        path = "/v1/chat/completions"
    else:
        base = os.environ.get("DARWIN_LLM_BASE_URL", "http://127.0.0.1:8000/v1")
        host = base.split("://", 1)[1].split("/", 1)[0]
        conn = http.client.HTTPConnection(host, timeout=600)
        path = "/" + base.split("://", 1)[1].split("/", 1)[1].rstrip("/") + "/chat/completions"
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read() or b"{}")
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"model call failed: HTTP {response.status}: {data.get('error', {}).get('message', '')}")
    return data["choices"][0]["message"]["content"] or ""


def list_files(root=".", suffixes=(".py", ".md", ".txt", ".toml")):
    """Relative paths of the editable text files under ``root``."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "tests"))
        for name in sorted(files):
            if name.endswith(suffixes):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return found


def parse_blocks(reply):
    """``[(path, search, replace)]`` from SEARCH/REPLACE blocks in a model reply."""
    return [(m.group("path"), m.group("search"), m.group("replace")) for m in BLOCK.finditer(reply)]


def apply_block(text, search, replace):
    """Replace the unique occurrence of ``search``; ``None`` if it is not found exactly once."""
    if not search:
        return text + replace
    if text.count(search) != 1:
        return None
    return text.replace(search, replace, 1)


def truncate_middle(text, limit):
    """Shorten ``text`` to at most ``limit`` characters, keeping both ends."""
    if len(text) <= limit:
        return text
    return text[:limit] + "..." + text[-limit:]
