"""Bytecode of a warm run's script, compiled in the orchestrator when the caller vouches for
the file (``ExecRequest.trusted``: the benchmark's own evaluator or runner, never the variant's
code), so that each forked child loads it (``marshal``) instead of compiling it afresh.

The code is keyed by the SHA-256 of the bytes staged for the run (read from the staged copy,
which no run has touched yet): a changed file is compiled again, and nothing written by an
earlier run can stand in for it. It is used only when the sandbox runs the orchestrator's own
interpreter (same bytecode format); the child checks the magic number and compiles the source
when it differs. The fork server itself never compiles or loads a request's code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import sys
from collections import OrderedDict
from pathlib import Path

from darwin_hookspecs import ExecRequest

KEEP = 64
"""Compiled scripts kept (least recently used dropped)."""
PYTHON_NAMES = ("python", "python3")


class ScriptCodes:
    """Compiled trusted scripts of one sandbox, by content."""

    def __init__(self, python: str) -> None:
        self.usable = os.path.realpath(python) == os.path.realpath(sys.executable)
        self._codes: OrderedDict[tuple[bytes, str], str] = OrderedDict()
        self.compiled = 0
        """How many times a script was compiled (a test's view of the cache)."""

    def for_run(self, request: ExecRequest, stage: Path) -> dict[str, str] | None:
        """``{"magic", "code"}`` (hex) of the request's script, when it is a vouched-for file."""
        rel = _script(request)
        if not self.usable or rel is None or not _vouched(rel, request.trusted):
            return None
        path = stage / rel
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                return None
            if not os.path.realpath(path).startswith(os.path.realpath(stage) + os.sep):
                return None  # a symlinked directory on the way
            data = path.read_bytes()
        except OSError:
            return None
        key = (hashlib.sha256(data).digest(), request.argv[1])
        code = self._codes.get(key)
        if code is None:
            try:  # as runpy compiles a script: its name as given, no inherited __future__ flags
                code = marshal.dumps(compile(data, request.argv[1], "exec", dont_inherit=True)).hex()
            except (SyntaxError, ValueError):
                return None  # the child reports it, as for any script
            self.compiled += 1
            self._codes[key] = code
            while len(self._codes) > KEEP:
                self._codes.popitem(last=False)
        else:
            self._codes.move_to_end(key)
        return {"magic": importlib.util.MAGIC_NUMBER.hex(), "code": code}


def _script(request: ExecRequest) -> str | None:
    """The relative path of ``python SCRIPT ...``'s script, else ``None``."""
    argv = request.argv
    if len(argv) < 2 or os.path.basename(argv[0]) not in (*PYTHON_NAMES, os.path.basename(sys.executable)):
        return None
    rel = os.path.normpath(argv[1])
    if argv[1].startswith("-") or os.path.isabs(rel) or rel == ".." or rel.startswith("../"):
        return None
    return rel


def _vouched(rel: str, trusted: list[str]) -> bool:
    for entry in trusted:
        entry = os.path.normpath(entry)
        if rel == entry or rel.startswith(entry + "/"):
            return True
    return False
