"""Which Python the ``local`` sandbox runs: ``python`` and ``python3`` in a request mean it.

Benchmarks call ``python`` (task files, the test runner), but many hosts have only ``python3``
(Debian without ``python-is-python3``, a ``pip install --user`` on the system Python). The
sandbox resolves one interpreter when it starts: the ``python`` option (a path, or a name looked
up on ``PATH``), else the orchestrator's own (``sys.executable``), else ``python3``, else
``python`` on ``PATH``; and a request whose ``argv[0]`` is ``python`` or ``python3`` runs it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys

from darwin_hookspecs import ExecRequest, UserError

PYTHON_NAMES = ("python", "python3")


def _usable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def resolve_python(configured: str | None) -> str:
    """The interpreter's absolute path; :class:`UserError` naming the option when none is found."""
    if configured:
        found = configured if os.sep in configured else shutil.which(configured)
        if found and _usable(found):
            return os.path.abspath(found)
        raise UserError(f"sandbox 'local': the interpreter python = {configured!r} is not an executable "
                        "file (nor a command on PATH); fix: set [sandbox] python to the path of a Python 3 "
                        "interpreter, e.g. python = \"/usr/bin/python3\"")
    if sys.executable and _usable(sys.executable):
        return os.path.abspath(sys.executable)
    for name in ("python3", "python"):
        if (found := shutil.which(name)) and _usable(found):
            return os.path.abspath(found)
    raise UserError("sandbox 'local': no Python interpreter found (sys.executable is unset and neither "
                    "python3 nor python is on PATH); fix: set [sandbox] python = \"/path/to/python3\"")


def with_python(request: ExecRequest, python: str) -> ExecRequest:
    """``request`` with a bare ``python``/``python3`` command replaced by ``python``."""
    if request.argv and request.argv[0] in PYTHON_NAMES and request.argv[0] != python:
        return dataclasses.replace(request, argv=[python, *request.argv[1:]])
    return request
