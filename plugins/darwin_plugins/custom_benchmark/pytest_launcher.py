"""Runs pytest inside the sandbox with a small plugin (copied there; needs pytest only).

Per test: an alarm-based timeout, the lines of the variant's own files it executed (with
``--coverage``; the benchmark's files and ``.darwin`` are excluded), and one JSON record
(``nodeid``, ``status``, ``duration``, ``log``, ``coverage``) appended to ``--out`` as soon as the
test ends, so the records of the tests before a crash survive it.

Usage: python pytest_launcher.py [--timeout S] [--coverage] [--exclude DIR]... --out FILE -- ARGS
"""

import json
import os
import signal
import sys
import time

import pytest


class DarwinTestTimeout(BaseException):
    """Raised in the test by the per-test alarm."""


def _alarm(signum, frame):
    raise DarwinTestTimeout("test exceeded its timeout")


class DarwinPlugin:
    def __init__(self, timeout, coverage, excluded, out):
        self.timeout, self.coverage, self.out = timeout, coverage, out
        self.root = os.getcwd()
        self.excluded = excluded
        self.records = {}

    def _tracer(self, lines):
        def local_trace(frame, event, arg):
            if event == "line":
                lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
            return local_trace

        def global_trace(frame, event, arg):
            name = frame.f_code.co_filename
            if name.startswith(self.root) and not any(name.startswith(e) for e in self.excluded):
                return local_trace
            return None

        return global_trace

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        lines = {}
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        if self.coverage:
            sys.settrace(self._tracer(lines))
        try:
            yield
        finally:
            sys.settrace(None)
            signal.setitimer(signal.ITIMER_REAL, 0)
            record = self._record(item.nodeid)
            record["coverage"] = {os.path.relpath(f, self.root): sorted(ls) for f, ls in lines.items()}

    def _record(self, nodeid):
        return self.records.setdefault(nodeid, {"nodeid": nodeid, "status": "passed", "duration": 0.0,
                                                "log": "", "coverage": None})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        record = self._record(item.nodeid)
        record["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        if report.skipped and record["status"] == "passed":
            record["status"] = "skipped"
        elif report.failed:
            if call.excinfo is not None and call.excinfo.errisinstance(DarwinTestTimeout):
                status = "timeout"
            elif call.excinfo is not None and call.excinfo.errisinstance(MemoryError):
                status = "oom"
            elif call.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
                status = "fail"
            else:
                status = "error"
            if record["status"] in ("passed", "skipped", "fail"):
                record["status"] = status
            record["log"] = (record["log"] + "\n" + report.longreprtext)[-6000:]

    def pytest_runtest_logfinish(self, nodeid, location):
        record = self.records.pop(nodeid, None)
        if record is None:
            return
        if not self.coverage:
            record["coverage"] = None
        with open(self.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def main(argv):
    timeout, coverage, excluded, out = 10.0, False, [], ".darwin/pytest.jsonl"
    split = argv.index("--")
    it = iter(argv[:split])
    for arg in it:
        if arg == "--coverage":
            coverage = True
        elif arg == "--timeout":
            timeout = float(next(it))
        elif arg == "--exclude":
            excluded.append(os.path.abspath(next(it)))
        elif arg == "--out":
            out = next(it)
    sys.path.insert(0, os.getcwd())
    sys.dont_write_bytecode = True
    signal.signal(signal.SIGALRM, _alarm)
    return pytest.main(argv[split + 1:], plugins=[DarwinPlugin(timeout, coverage, excluded, out)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
