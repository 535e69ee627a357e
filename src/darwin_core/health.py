"""Is the benchmark usable at all? Checked on the initial variant, before the search.

If every task of the initial variant crashes or errors (as opposed to failing), no variant can
score anything and the search would run for nothing: the run stops with the first task's log
and the likely fix (exit 6 when the sandbox itself failed, else 2). So does an objective whose
metric the initial variant never reports.
"""

from __future__ import annotations

import re

from darwin_hookspecs import SandboxError, TaskResult, UserError

BROKEN = ("crash", "error", "infra")
LOG_SHOWN = 1500

_HINTS: list[tuple[str, str]] = [
    (r"No module named '?pytest'?", "pytest is not installed for the sandbox's python: install it "
     "there (the container image, or the venv the local sandbox uses), or set [benchmark] runner = \"builtin\""),
    (r"No module named '?([\w.]+)'?", "module {0!r} cannot be imported in the sandbox: put it in the "
     "variant or in [benchmark] files, install it in the sandbox's python, or expose its directory "
     "with [sandbox] extra_ro_paths"),
    (r"(exit 127|command not found|No such file or directory: '(python|sh)')",
     "the task's interpreter or command is missing in the sandbox: check its PATH / image, or the command"),
    (r"(No such file or directory|FileNotFoundError|can't open file)",
     "a path the task needs does not exist in the sandbox's working copy: paths are relative to the "
     "variant's directory; add data files to [benchmark] files or [sandbox] extra_ro_paths"),
    (r"(Permission denied|Read-only file system)",
     "the task writes or reads where the sandbox forbids it: write only inside the working copy"),
    (r"unreadable task output", "the task's output has a NaN, an infinity or a non-number score or "
     "metric: fix the evaluator (see docs/tasks.md)"),
]


def likely_fix(log: str) -> str:
    for pattern, hint in _HINTS:
        match = re.search(pattern, log)
        if match:
            return hint.format(*(match.groups() or ("",)))
    return ("run the task's command by hand in a copy of the initial variant with the benchmark's "
            "files laid over it, and fix what it reports")


def check_initial(results: list[TaskResult]) -> None:
    """Raise when every task of the initial variant crashed or errored."""
    if not results or not all(r.failure_kind in BROKEN for r in results):
        return
    first = results[0]
    log = first.log.strip()[-LOG_SHOWN:] or "(no output)"
    message = (
        f"every task of the initial variant ended in {', '.join(sorted({str(r.failure_kind) for r in results}))} "
        f"({len(results)} task(s)): the benchmark cannot run, so the search would score nothing. "
        f"First task {first.task_id} ({first.failure_kind}):\n{log}\nlikely fix: {likely_fix(first.log)}"
    )
    if all(r.failure_kind == "infra" for r in results):
        raise SandboxError(message)
    raise UserError(message)


def check_objective(missing_reason: str) -> None:
    """The initial variant has no objective value: the run cannot rank anything."""
    raise UserError(
        f"the initial variant has no objective value: {missing_reason}; fix: report the metric "
        "(DARWIN_METRIC name=value, the JSON line, or the evaluator's dict) or change [benchmark] objective"
    )
