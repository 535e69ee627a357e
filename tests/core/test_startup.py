"""Start-up of the read-only commands: ``darwin status`` / ``archive`` import only what they
need (no sandbox, LLM SDK, Ray, boto3 or pymongo; no other plugin), the table of which built-in
provides which backend matches what the built-ins register, and the archive's bulk index
(opening a run) leaves the state that indexing one variant at a time leaves."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
from pathlib import Path

from darwin_core import Engine, PluginManager, load_config
from darwin_core.archive import Archive
from darwin_core.plugin_subset import BUILTIN_BACKENDS, reader_plugins
from darwin_core.summary import VariantSummary
from darwin_hookspecs import Objective

from support import quick_config

HEAVY = ("darwin_plugins.local_sandbox.sandbox", "darwin_plugins.llm.generator", "darwin_plugins.containers",
         "darwin_plugins.ray_executor", "darwin_plugins.mongo_storage", "darwin_plugins.s3_storage",
         "darwin_core.engine", "darwin_core.session", "openai", "anthropic", "litellm", "ray", "boto3",
         "pymongo", "docker")

PROBE = """
import json, sys
from darwin_core.cli import main
sys.argv = ["darwin", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(m for m in sys.modules if m.startswith("darwin_plugins") or m in {heavy!r})),
      file=sys.stderr)
sys.exit(code)
"""


def _modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
                          capture_output=True, text=True, timeout=120)
    return done, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_status_and_archive_import_only_the_storage_and_selection_plugins(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=2)
    Engine.create(load_config(config), quickstart / "run").run_loop()
    for args in (["status", "--json"], ["archive", "--json"], ["status"]):
        done, modules = _modules(args[0], str(quickstart / "run"), *args[1:])
        assert done.returncode == 0, done.stderr
        assert not modules & set(HEAVY), (args, sorted(modules & set(HEAVY)))
        plugin_packages = {m.split(".")[1] for m in modules if m.count(".") >= 1}
        assert plugin_packages <= {"file_storage", "selection", "selection_index", "island_index",
                                   "islands", "map_elites", "qd_population", "exhaustion", "fitness", "mad_selection"}, args
        assert "file_storage" in plugin_packages
    status = json.loads(subprocess.run([sys.executable, "-m", "darwin_core", "status", str(quickstart / "run"),
                                        "--json"], capture_output=True, text=True, timeout=120).stdout)
    assert status["attempts"] == 2 and status["variants"] >= 1


def test_help_imports_no_plugin() -> None:
    done, modules = _modules("--help")
    assert done.returncode == 0 and "status" in done.stdout
    assert not {m for m in modules if m.startswith("darwin_plugins")}, sorted(modules)


def test_builtin_backends_table_matches_what_the_builtins_register() -> None:
    manager = PluginManager(load_entry_points=False)
    registered = {(kind, name): info.name for info in manager.plugin_infos()
                  for kind, name in info.backends if kind in ("storage", "selection")}
    assert registered == BUILTIN_BACKENDS


def test_reader_plugins_fall_back_to_every_plugin_when_a_builtin_cannot_serve(quickstart: Path,
                                                                               monkeypatch) -> None:
    config = load_config(quick_config(quickstart, generations=1))
    small = reader_plugins(config, "file:///tmp/x")
    assert set(small.infos) == {"darwin-file-storage", "darwin-selection"}
    assert "s3" not in small.registries["storage"] and "file" in small.registries["storage"]
    everything = set(PluginManager().infos)
    assert set(reader_plugins(config, "weird://bucket").infos) == everything  # a third-party scheme
    monkeypatch.setenv("DARWIN_DISABLE_PLUGINS", "darwin-selection")
    assert set(reader_plugins(config, "file:///tmp/x").infos) == everything - {"darwin-selection"}


def _state(archive: Archive) -> tuple:
    return (dict(archive._summaries), list(archive._order), {k: list(v) for k, v in archive._children.items() if v},
            list(archive._added), archive.best_id, list(archive._ranked), dict(archive._branch),
            {k: v for k, v in archive._per_branch.items() if v},
            {k: list(v) for k, v in archive._ranked_in.items() if v})


def test_bulk_index_leaves_the_state_of_one_at_a_time() -> None:
    rng = random.Random(3)
    for objective in (Objective(), Objective(direction="minimise")):
        summaries = [VariantSummary("v0000root", None, 0, "accepted", 0.5, 1)]
        for g in range(1, 40):
            for i in range(4):
                parent = rng.choice(summaries).id if rng.random() < 0.9 else f"v{g + 5:04d}a000"  # some orphans
                summaries.append(VariantSummary(f"v{g:04d}a{i:03d}", parent, g, rng.choice(["accepted", "rejected"]),
                                                rng.choice([0.25, 0.5, 0.75, rng.random()]), rng.choice([0, 1])))
        order = summaries[:1] + rng.sample(summaries[1:], len(summaries) - 1)  # children before parents too
        tied = {s.id: dataclasses.replace(s, score=min(round(s.score * 4) / 4, 0.75),  # many at the top
                                          behaviour={"t": " ".join(rng.choice("ab") for _ in range(3))})
                for s in summaries}  # with probe fingerprints, for the runs that break ties by them
        for given, ties in ((summaries, False), (order, False), ([tied[s.id] for s in summaries], True),
                            ([tied[s.id] for s in order], True)):
            one = Archive(last_stage=1, objective=objective, behaviour_ties=ties)
            bulk = Archive(last_stage=1, objective=objective, behaviour_ties=ties)
            for summary in given:
                one.add_summary(summary)
            bulk.add_summaries(given)
            assert _state(bulk) == _state(one)
            assert bulk.best_id is not None


def test_resume_of_a_finished_run_builds_no_backend_and_writes_nothing(quickstart: Path) -> None:
    """Noticed from the records: the summary the engine's resume prints, exit 0, no sandbox or
    engine imported, no record rewritten; a config asking for more still resumes through the engine."""
    config = quick_config(quickstart, generations=1, children_per_generation=2)
    Engine.create(load_config(config), quickstart / "run").run_loop()
    run_dir = quickstart / "run"
    from darwin_core.reader import open_run

    def records() -> tuple[object, ...]:  # the store's files may change (a reader checkpoints SQLite's WAL)
        view = open_run(run_dir)
        return (view.run, (run_dir / "run.json").read_bytes(), list(view.handle.attempts.summaries()),
                view.handle.generations)

    before = records()
    done, modules = _modules("resume", str(run_dir), "-q")
    assert done.returncode == 0, done.stderr
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert records() == before
    engine = Engine.open(run_dir)
    full = engine.run_loop()  # the engine's resume of the same run, for comparison
    printed = " ".join(done.stdout.split())  # as rich wraps it
    assert f"run {full.run_id}: {full.status} ({full.stop_reason})" in printed
    assert f"attempts {full.attempts}, variants {full.variants}, accepted {full.accepted}" in printed
    assert f"best {full.best_score:.4f} ({full.best_id}) run dir: {run_dir.resolve()}" in printed
    more, modules = _modules("resume", str(run_dir), "-q", "--set", "run.generations=2")
    assert more.returncode == 0, more.stderr
    assert "darwin_core.engine" in modules and "attempts 4," in " ".join(more.stdout.split())
