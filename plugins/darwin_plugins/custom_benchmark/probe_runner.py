"""Runs probe calls in the sandbox (standard library only) and prints one hash per probe.

Reads a JSON list of ``{"task", "module", "name", "args"}`` (see ``probes.py``), imports each
module from the working copy (a module found elsewhere, e.g. installed, is not probed), calls
``module.name(*args)`` under a per-call alarm and prints ``@@darwin@@{"i": index, "h": hash}``:
the first 8 hex digits of the SHA-256 of ``repr(result)`` (memory addresses blanked), of
``raise <ExceptionType>``, of ``timeout`` or of ``absent`` (no such module or function).

Usage: python probe_runner.py --timeout S SPEC.json
"""

import ast
import hashlib
import importlib
import io
import json
import os
import re
import signal
import sys
from contextlib import redirect_stderr, redirect_stdout

MARK = "@@darwin@@"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ABSENT = object()


class ProbeTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise ProbeTimeout()


def _digest(text):
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


def _function(module_name, name, root):
    try:
        module = importlib.import_module(module_name)
    except BaseException:  # noqa: B036 - a broken variant may raise anything on import
        return None
    where = os.path.abspath(getattr(module, "__file__", None) or "")
    if not where.startswith(root + os.sep):
        return None
    return getattr(module, name, None)


def _probe(module_name, name, args, root):
    """The call's result (the module imported on first use), or ``ABSENT``."""
    function = _function(module_name, name, root)
    if function is None or not callable(function):
        return ABSENT
    return function(*args)


def _run(call, timeout):
    """``call()``'s outcome as text: the import and the call both under the alarm, their output
    captured (a variant printing at import time cannot write into the hashes' stream)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            result = call()
        return "absent" if result is ABSENT else ADDRESS.sub(" at 0x", repr(result))[:100000]
    except ProbeTimeout:
        return "timeout"
    except BaseException as exc:  # noqa: B036 - the variant's code may raise anything
        return "raise " + type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv):
    timeout, spec = 1.0, None
    it = iter(argv)
    for arg in it:
        if arg == "--timeout":
            timeout = float(next(it))
        else:
            spec = arg
    sys.dont_write_bytecode = True  # nothing written into the evaluation copy
    root = os.path.abspath(os.getcwd())
    sys.path.insert(0, root)
    with open(spec, encoding="utf-8") as handle:
        probes = json.load(handle)
    out = sys.__stdout__  # not whatever a variant's import left in sys.stdout
    for index, probe in enumerate(probes):
        args = ast.literal_eval(probe["args"])
        try:
            text = _run(lambda: _probe(probe["module"], probe["name"], args, root), timeout)
        except ProbeTimeout:  # fired while leaving the call
            text = "timeout"
        out.write(MARK + json.dumps({"i": index, "h": _digest(text)}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
