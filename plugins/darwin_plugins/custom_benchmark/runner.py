"""A tiny test runner copied into the sandbox (standard library only).

Runs pytest-style test functions (plain ``assert``) by node id, one after another in one
process, and prints one JSON line per test prefixed with ``@@darwin@@``. Each test has its own
alarm-based timeout; with ``--coverage`` it also reports which lines of the variant's own files
(not the tests) the test executed. With ``--probes SPEC`` it first runs ``probe_runner.py`` (beside
it) on SPEC in a forked child, before anything of the variant is imported, so the probes see a
fresh interpreter as in a process of their own, and waits for it (killing it after
``--probe-timeout`` per probe plus a second).

Usage: python runner.py [--coverage] [--timeout S] [--exclude DIR] [--probes SPEC [--probe-timeout S]] NODEID...
(NODEID is ``path/to/test_file.py::test_name``).
"""

import importlib.util
import io
import json
import os
import signal
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout

MARK = "@@darwin@@"


class TestTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise TestTimeout()


def _load(path, cache):
    if path not in cache:
        name = "darwin_test_" + path.replace("/", "_").replace(".", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        cache[path] = module
    return cache[path]


def _probes(spec, timeout):
    """``probe_runner.py``'s hashes for SPEC, printed by a forked child; back when it ends."""
    with open(spec, encoding="utf-8") as handle:
        count = len(json.load(handle))
    sys.__stdout__.flush()
    pid = os.fork()
    if pid == 0:  # the child: a fresh interpreter's state, the variant not yet imported
        code = 1
        try:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import probe_runner
            code = probe_runner.main(["--timeout", str(timeout), spec])
            sys.__stdout__.flush()
        finally:
            os._exit(code or 0)
    signal.setitimer(signal.ITIMER_REAL, timeout * count + 1.0)
    try:
        os.waitpid(pid, 0)
    except TestTimeout:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv):
    coverage = "--coverage" in argv
    timeout = 10.0
    probes, probe_timeout = None, 1.0
    excluded = []
    ids = []
    it = iter(argv)
    for arg in it:
        if arg == "--coverage":
            continue
        if arg == "--timeout":
            timeout = float(next(it))
        elif arg == "--probes":
            probes = next(it)
        elif arg == "--probe-timeout":
            probe_timeout = float(next(it))
        elif arg == "--exclude":
            excluded.append(os.path.abspath(next(it)))
        else:
            ids.append(arg)
    root = os.getcwd()
    sys.path.insert(0, root)
    sys.dont_write_bytecode = True
    signal.signal(signal.SIGALRM, _alarm)
    if probes:
        _probes(probes, probe_timeout)
    modules = {}
    out = sys.__stdout__
    for node in ids:
        path, _, name = node.partition("::")
        lines = {}

        def local_trace(frame, event, arg, _lines=lines):
            if event == "line":
                _lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
            return local_trace

        def global_trace(frame, event, arg):
            filename = frame.f_code.co_filename
            if filename.startswith(root) and not any(filename.startswith(e) for e in excluded):
                return local_trace
            return None

        buffer = io.StringIO()
        started = time.perf_counter()
        status, log = "passed", ""
        try:
            with redirect_stdout(buffer), redirect_stderr(buffer):
                module = _load(path, modules)
                func = getattr(module, name, None)
                if func is None:
                    raise LookupError("test %r not found in %s" % (name, path))
                signal.setitimer(signal.ITIMER_REAL, timeout)
                if coverage:
                    sys.settrace(global_trace)
                try:
                    func()
                finally:
                    sys.settrace(None)
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except TestTimeout:
            status, log = "timeout", "test exceeded its %.1fs timeout" % timeout
        except AssertionError:
            status, log = "fail", traceback.format_exc(limit=-8)
        except MemoryError:
            status, log = "oom", "MemoryError"
        except BaseException:  # noqa: B036 - the variant's code may raise anything
            status, log = "error", traceback.format_exc(limit=-8)
        record = {
            "id": node,
            "status": status,
            "duration": time.perf_counter() - started,
            "log": (buffer.getvalue()[-2000:] + log)[-6000:],
        }
        if coverage:
            record["coverage"] = {
                os.path.relpath(f, root): sorted(ls) for f, ls in lines.items()
            }
        out.write(MARK + json.dumps(record) + "\n")
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
