"""Helpers for tests of every area (importable: ``from support import quick_config``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"


def write_config(directory: Path, text: str, name: str = "darwin.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def quick_config(directory: Path, **run: Any) -> Path:
    """A small, fast config over the quickstart program; ``run`` overrides ``[run]`` keys and
    ``section__key`` overrides others (e.g. ``sandbox__name="docker"``); ``None`` leaves a key out."""
    sections: dict[str, dict[str, Any]] = {
        "run": {"name": "t", "seed": 1, "initial": "program", "generations": 2,
                "children_per_generation": 2},
        "generator": {"name": "mutation"},
        "sandbox": {"name": "local"},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 2},
    }
    for key, value in run.items():  # None: leave the key out (a default of this config too)
        section, sub = key.split("__", 1) if "__" in key else ("run", key)
        if value is None:
            sections.get(section, {}).pop(sub, None)
        else:
            sections.setdefault(section, {})[sub] = value
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {toml_value(value)}")
    return write_config(directory, "\n".join(lines) + "\n")


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (enough for test configs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def python_tasks(tasks: dict[str, str], header: str = "") -> str:
    """A tasks.toml: ``header`` (lines of ``[benchmark]``, if any) and one task per id that runs
    ``python -c CODE``."""
    text = f"[benchmark]\n{header.strip()}\n\n" if header.strip() else ""
    for task_id, code in tasks.items():
        text += f"[[task]]\nid = {toml_value(task_id)}\ncommand = {toml_value(['python', '-c', code])}\n\n"
    return text


COST = "A = 5\nB = 7\n\n\ndef cost():\n    return A * 2 + B\n"
COST_TASKS = python_tasks({"cost": "import cost; print('DARWIN_METRIC cost=%s' % cost.cost())"},
                          'objective = { metric = "cost", direction = "minimise" }')


def cost_problem(tmp_path: Path, **run: object) -> Path:
    """A program whose ``cost()`` (17 at first) the mutation generator changes; the
    custom benchmark minimises it (raw, unbounded)."""
    (tmp_path / "program").mkdir()
    (tmp_path / "program" / "cost.py").write_text(COST)
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "tasks.toml").write_text(COST_TASKS)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in run.items())
    return write_config(tmp_path, f'''
[run]
name = "cost"
seed = 3
initial = "program"
generations = 6
children_per_generation = 3
{extra}
[generator]
name = "mutation"
families = ["constant", "arithmetic"]
[benchmark]
name = "custom"
path = "bench/tasks.toml"
[selection]
name = "best"
''')


def kill_run_when(config: Path, run_dir: Path, ready: Any, *, what: str, timeout_s: float = 120,
                  poll_s: float = 0.05) -> None:
    """Start ``darwin run config --run-dir run_dir`` in its own process group, poll its records
    until ``ready(view)`` (a :class:`~darwin_core.reader.RunView`) holds, then kill -9 the group.
    Fails if the run ends first or ``timeout_s`` passes (``what``: what was awaited)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from darwin_core.reader import open_run

    proc = subprocess.Popen([sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir", str(run_dir),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            assert proc.poll() is None, (f"the run ended before {what}", proc.communicate())
            assert time.monotonic() < deadline, f"never saw {what}"
            if (run_dir / "run.json").exists() and ready(open_run(run_dir)):
                return
            time.sleep(poll_s)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
