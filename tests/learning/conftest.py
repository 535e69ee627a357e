"""Helpers for the learning tests: small real runs of the mutation generator on the quickstart."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from darwin_core.config import load_config
from darwin_core.engine import Engine

from support import toml_value


def write_learning_config(directory: Path, sections: dict[str, dict[str, Any]], name: str = "darwin.toml") -> Path:
    """The quickstart's two-stage evaluation with ``sections`` overriding or adding keys."""
    base: dict[str, dict[str, Any]] = {
        "run": {"name": "learn", "seed": 3, "initial": "program", "generations": 2,
                "children_per_generation": 3},
        "generator": {"name": "mutation"},
        "sandbox": {"name": "local"},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 2},
    }
    for section, values in sections.items():
        base.setdefault(section, {}).update(values)
    lines: list[str] = []
    for section, values in base.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {toml_value(v)}" for k, v in values.items())
    lines += ["[[evaluation.stages]]", "tasks = 6", "threshold = 0.5",
              "[[evaluation.stages]]", 'tasks = "all"']
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


RunFn = Callable[..., Engine]


@pytest.fixture
def learning_run(quickstart: Path) -> RunFn:
    """``learning_run(sections, run_dir=None, extra_plugins=())``: a finished real run's engine."""

    def run(sections: dict[str, dict[str, Any]] | None = None, *, run_dir: Path | None = None,
            extra_plugins: Iterable[Any] = (), config_name: str = "darwin.toml") -> Engine:
        path = write_learning_config(quickstart, sections or {}, config_name)
        engine = Engine.create(load_config(path), run_dir or quickstart / "runs" / config_name.split(".")[0],
                               extra_plugins=extra_plugins)
        engine.run_loop()
        return engine

    return run
