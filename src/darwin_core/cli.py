"""The ``darwin`` command line: ``run``, ``resume``, ``status`` and ``archive`` here, the other
commands in :mod:`darwin_core.commands` (registered on the same application).

Exit codes (README.md, "Exit codes"): 0 success; 1 failure; 2 bad input (config, unknown
backend, missing dependency, refused API key); 3 broken plugin; 4 storage (unreachable, corrupt,
missing, full or read-only; another process holds the run's writer lease); 5 budget spent or
provider outage (resumable); 6 sandbox unusable; 130 interrupted (Ctrl-C); 143 terminated
(SIGTERM). The run is resumable after 4, 5, 6, 130 and 143.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from .commands import export as _export  # noqa: F401  (registers `darwin export`)
from .commands import new_plugin as _new_plugin  # noqa: F401  (registers `darwin new-plugin`)
from .commands import plugins as _plugins  # noqa: F401  (registers `darwin plugins`)
from .commands import report as _report  # noqa: F401  (registers `darwin report`)
from .commands import show as _show  # noqa: F401  (registers `darwin show`)
from .commands import validate as _validate  # noqa: F401  (registers `darwin validate`)
from .commands import verify as _verify  # noqa: F401  (registers `darwin verify`)
from .commands.app import _fail, app, console, guard, out, set_label, styled  # noqa: F401
from .gc_pause import paused_gc
from .signals import install_sigterm, terminated
from .signals import exit_code as signals_exit

if TYPE_CHECKING:
    from .engine import Engine

EXIT_CODES = (
    "Exit codes: 0 done; 1 other failure; 2 bad input (config, backend, dependency, API key); "
    "3 broken plugin; 4 storage (unreachable, corrupt, missing, full, read-only, or another "
    "process holds the run's writer lease); 5 budget spent or provider outage (resumable); "
    "6 sandbox unusable; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM)."
)
app.info.epilog = EXIT_CODES


def _run(engine: "Engine", quiet: bool) -> None:
    from .progress import ProgressDisplay
    from .signals import GuaranteesNotice

    if not quiet:
        cfg = engine.config.run
        total = cfg.max_attempts or cfg.generations * cfg.children_per_generation
        engine.plugins.register(ProgressDisplay(console, total, engine.archive), name="darwin-progress")
    engine.plugins.register(GuaranteesNotice(console), name="darwin-guarantees")
    _report_end(engine.run_loop(), engine.run_dir)
    if engine.exit_code:
        raise typer.Exit(engine.exit_code)


def _report_end(summary: Any, run_dir: Path) -> None:
    out.print(
        f"run {summary.run_id}: {summary.status} ({summary.stop_reason})\n"
        f"  attempts {summary.attempts}, variants {summary.variants}, accepted {summary.accepted}\n"
        f"  initial score {summary.initial_score:.4f} -> best {summary.best_score:.4f} ({summary.best_id})\n"
        f"  run dir: {run_dir}",
    )
    if summary.status not in ("completed", "stopped"):
        raise typer.Exit(1)


@app.command()
def run(
    config: Path = typer.Argument(..., help="The run's TOML config file."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Where to keep the run (default ./runs/NAME-TIME)."),
    settings: list[str] = typer.Option([], "--set", help="Override a config value, KEY=VALUE (TOML value; repeatable), e.g. run.generations=3."),
    seed: Optional[int] = typer.Option(None, "--seed", help="The run's seed (same as --set run.seed=N)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    warm_start: Optional[str] = typer.Option(None, "--warm-start", help="Seed the archive with the best variants of an earlier run (run dir or storage URL)."),
    warm_start_k: int = typer.Option(5, "--warm-start-k", help="How many of its best variants to seed (re-evaluated)."),
    warm_start_option: list[str] = typer.Option([], "--warm-start-option", help="Storage option KEY=VALUE of the earlier run's store (repeatable)."),
) -> None:
    """Start a run (the config is checked and every backend built before anything is recorded)."""
    with guard():
        from .commands.preflight import check_options, preflight
        from .commands.settings import load_with_settings
        from .plugins import PluginManager
        from .warmstart import open_warm_start

        install_sigterm()
        if seed is not None:
            settings = [*settings, f"run.seed={seed}"]
        cfg, base = load_with_settings(config, settings)
        manager = PluginManager(disable=cfg.plugins.disable, enable=cfg.plugins.enable)  # all installed
        if settings:
            check_options(base, manager)  # errors in the file name the file ...
        preflight(cfg, manager, source=set_label(settings))  # ... the others name --set
        warm = open_warm_start(warm_start, warm_start_k, warm_start_option) if warm_start else None
        from .engine import Engine

        _run(Engine.create(cfg, run_dir, warm_start=warm, plugins=manager), quiet)


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="The run directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    settings: list[str] = typer.Option([], "--set", help="Override a config value, KEY=VALUE (e.g. budget.usd=5)."),
    new_config: Optional[Path] = typer.Option(None, "--config", help="Replace the run's config by this file."),
) -> None:
    """Continue a stopped, interrupted or crashed run (a finished one: its summary, exit 0)."""
    with guard():
        install_sigterm()
        if settings or new_config:
            from .commands.preflight import check_options
            from .plugins import PluginManager
            from .rundir import override_config

            label = set_label(settings) if settings else None

            def check(config: Any) -> None:
                check_options(config, PluginManager(disable=config.plugins.disable,
                                                    enable=config.plugins.enable), label)

            override_config(run_dir, settings, new_config, check=check)
        from .resume_check import finished_run

        if (done := finished_run(run_dir)) is not None:  # nothing left: no backend built, nothing written
            _report_end(done, run_dir.resolve())
            return
        from .engine import Engine

        _run(Engine.open(run_dir, entry_points=True), quiet)


@app.command()
def status(
    run_dir: Path = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Summarise a run: progress, best variant, spend."""
    with guard(), paused_gc():  # a short read: its imports and records make no cyclic garbage
        from .reader import open_run

        data = open_run(run_dir).status_dict()
    if as_json:
        out.print_json(json.dumps(data))
        return
    from rich.table import Table
    from rich.text import Text

    from .population import population_line

    table = Table(show_header=False, box=None)
    for key, value in data.items():
        table.add_row(Text(key), Text(population_line(value) if key == "population" else str(value)))
    out.print(table)


@app.command()
def archive(
    run_dir: Path = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of every variant."),
) -> None:
    """List every variant of a run."""
    with guard(), paused_gc():
        from .reader import open_run, variant_row

        view = open_run(run_dir)
    with paused_gc():
        rows = [variant_row(v) for v in view.archive.summaries()]
    best = view.archive.best_id
    holdout = view.holdout
    for row in rows:
        record = holdout.get(row["id"])
        row["holdout_score"] = record.get("score") if record else None
        row["holdout_warning"] = record.get("warning", "") if record else ""
    if as_json:
        # one variant per line: json's C encoder (indent= falls back to its Python one, ~3x slower)
        sys.stdout.write("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")
        return
    from rich.table import Table
    from rich.text import Text

    columns = ["id", "parent", "gen", "status", "score", *(["held-out"] if holdout else []), "passed", "change"]
    table = Table(*columns)
    for row in rows:
        mark = " *" if row["id"] == best else ""
        held = [] if not holdout else ["-" if row["holdout_score"] is None else
                                       f"{row['holdout_score']:.3f}" + (" !" if row["holdout_warning"] else "")]
        cells = [row["id"] + mark, row["parent_id"] or "-", str(row["generation"]), row["status"],
                 f"{row['score']:.3f}", *held, f"{row['passed']}/{row['evaluated']}", row["description"][:60]]
        table.add_row(*(Text(c) for c in cells))
    out.print(table)
    out.print(f"* best variant: {best} ({view.archive.objective.describe()})")
    for row in rows:
        if row["holdout_warning"]:
            out.print(f"! {row['holdout_warning']}", highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt as exc:
        console.print(f"{'terminated' if terminated(exc) else 'interrupted'}; "
                      "`darwin resume RUN_DIR` continues the run")
        sys.exit(signals_exit(exc))
    except SystemExit as exc:  # typer turns an interrupt into exit 130, SIGTERM included
        if exc.code == 130 and terminated():
            console.print("terminated; `darwin resume RUN_DIR` continues the run")
            sys.exit(signals_exit())
        raise
