"""The command line as a user meets it: --version, -h, run --set/--seed, validate, show, and
messages that print literally (no Rich markup) with the documented exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from darwin_core import __version__
from darwin_core.reader import open_run

from support import quick_config

FACTORIES = '''
from darwin_hookspecs import hookimpl

def picky(options, context):
    if options.get("level", 0) > 3:
        raise ValueError("level must be at most 3")
    raise RuntimeError("cannot reach the widget service")

@hookimpl
def darwin_register_generators(registry):
    registry.add("picky", picky, description="rejects its options")
'''


def _site(tmp_path: Path) -> dict[str, str]:
    """A throwaway plugin distribution on the path (with the worktree's own path kept)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "picky_plugin.py").write_text(FACTORIES)
    dist = site / "picky_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: picky-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[darwin]\npicky = picky_plugin\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_version_and_short_help(darwin_cli) -> None:
    version = darwin_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"darwin {__version__}"
    short = darwin_cli("-h")
    assert short.returncode == 0 and "validate" in short.stdout and "show" in short.stdout
    assert darwin_cli("run", "-h").stdout.count("--set") >= 1


def test_run_set_and_seed_override_the_file(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=5)
    run_dir = quickstart / "run"
    result = darwin_cli("run", str(config), "--set", "run.generations=1", "--set",
                        "run.children_per_generation=1", "--seed", "7", "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    recorded = json.loads((run_dir / "run.json").read_text())["config"]["run"]
    assert (recorded["generations"], recorded["children_per_generation"], recorded["seed"]) == (1, 1, 7)
    assert json.loads(darwin_cli("status", str(run_dir), "--json").stdout)["attempts"] == 1


def test_a_bad_set_key_is_blamed_on_set_not_the_file(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=1)
    run_dir = quickstart / "run"
    bad = darwin_cli("run", str(config), "--set", "run.generatons=3", "--run-dir", str(run_dir))
    assert bad.returncode == 2
    assert "--set (run.generatons=3): unknown key 'run.generatons'" in bad.stderr
    assert str(config) not in bad.stderr and not run_dir.exists()
    option = darwin_cli("run", str(config), "--set", "generator.familes=[1]", "--run-dir", str(run_dir))
    assert option.returncode == 2 and "--set (generator.familes=[1])" in option.stderr
    assert "[generator].familes" in option.stderr and not run_dir.exists()
    # a mistake in the file itself is still blamed on the file
    broken = quick_config(quickstart, generatons=1)
    in_file = darwin_cli("run", str(broken), "--set", "run.seed=2", "--run-dir", str(run_dir))
    assert in_file.returncode == 2 and str(broken) in in_file.stderr and "--set" not in in_file.stderr

    config = quick_config(quickstart, generations=1, children_per_generation=1)
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    before = (run_dir / "run.json").read_bytes()
    resumed = darwin_cli("resume", str(run_dir), "--set", "budget.dollars=5")
    assert resumed.returncode == 2 and "--set (budget.dollars=5): unknown key 'budget.dollars'" in resumed.stderr
    assert str(config) not in resumed.stderr
    resumed = darwin_cli("resume", str(run_dir), "--set", "generator.familes=[1]")
    assert resumed.returncode == 2 and "--set (generator.familes=[1])" in resumed.stderr
    assert (run_dir / "run.json").read_bytes() == before  # nothing written before it is checked
    ok = darwin_cli("resume", str(run_dir), "--set", "run.generations=2", "-q")
    assert ok.returncode == 0, ok.stderr
    assert json.loads((run_dir / "run.json").read_text())["config"]["run"]["generations"] == 2


def test_validate_builds_everything_and_records_nothing(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart)
    result = darwin_cli("validate", str(config), "--json", cwd=quickstart)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tasks"] == 16 and report["initial_files"] == 1
    assert ["sandbox", "local"] in report["backends"] and ["generator", "mutation"] in report["backends"]
    assert not (quickstart / "runs").exists() and not list(quickstart.rglob("run.json"))
    text = darwin_cli("validate", str(config))
    assert text.returncode == 0 and "ok" in text.stdout and "16 tasks" in text.stdout

    stored = quick_config(quickstart, storage__url=(quickstart / "stores" / "{run_id}").as_uri())
    assert darwin_cli("validate", str(stored)).returncode == 0 and not (quickstart / "stores").exists()
    bad_store = quick_config(quickstart, storage__url=(quickstart / "stores").as_uri(), storage__bogus=1)
    result = darwin_cli("validate", str(bad_store))
    assert result.returncode == 2 and "[storage].bogus" in result.stderr
    assert darwin_cli("validate", str(quick_config(quickstart, sandbox__name="nope"))).returncode == 2
    empty = quickstart / "empty"
    empty.mkdir()
    no_code = darwin_cli("validate", str(quick_config(quickstart, initial="empty")))
    assert no_code.returncode == 2 and "holds no file" in no_code.stderr and "[run] initial" in no_code.stderr
    missing = darwin_cli("validate", str(quick_config(quickstart, initial="elsewhere")))
    assert missing.returncode == 2 and "no directory" in missing.stderr


def test_a_backend_rejecting_its_options_creates_no_run(quickstart: Path, darwin_cli, tmp_path: Path) -> None:
    env = _site(tmp_path)
    run_dir = quickstart / "run"
    rejected = quick_config(quickstart, generator__name="picky", generator__level=5)
    for command in (["validate", str(rejected)], ["run", str(rejected), "--run-dir", str(run_dir)]):
        result = darwin_cli(*command, env=env)
        assert result.returncode == 2, result.stderr
        assert "generator backend 'picky' (plugin picky) rejected its options" in result.stderr
        assert "level must be at most 3" in result.stderr and "[generator]" in result.stderr
        assert "unexpected error" not in result.stderr and "resume" not in result.stderr
    assert not run_dir.exists()
    broken = quick_config(quickstart, generator__name="picky")
    result = darwin_cli("run", str(broken), "--run-dir", str(run_dir), env=env)
    assert result.returncode == 3
    assert "generator backend 'picky' (plugin picky) failed to start" in result.stderr
    assert "cannot reach the widget service" in result.stderr and not run_dir.exists()


def test_show_writes_code_diff_and_failing_logs(quickstart: Path, darwin_cli, tmp_path: Path) -> None:
    run_dir = quickstart / "run"
    config = quick_config(quickstart, generations=2, children_per_generation=2)
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    view = open_run(run_dir)
    root = view.archive.root
    assert root is not None and root.failing_tasks
    result = darwin_cli("show", str(run_dir), "root", "--files", str(tmp_path / "root"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "root" / "textstats.py").read_bytes() == (quickstart / "program" / "textstats.py").read_bytes()
    for task in root.failing_tasks:
        assert f"--- {task} (" in result.stdout
    assert root.task_results[root.failing_tasks[0]].log.strip().splitlines()[-1] in result.stdout

    child = next(v for v in view.variants if v.patch_ref)
    shown = json.loads(darwin_cli("show", str(run_dir), child.id, "--diff", "--json",
                                  "--files", str(tmp_path / "child")).stdout)
    assert shown["diff"] == view.store.get_blob(child.patch_ref).decode()
    assert set(shown["failing"]) == set(child.failing_tasks)
    assert {p: (tmp_path / "child" / p).read_bytes() for p in shown["files_written"]} == view.code(child.id)
    assert view.code(child.id) != view.code(root.id)
    unknown = darwin_cli("show", str(run_dir), "v9999")
    assert unknown.returncode == 2 and "not a variant of this run" in unknown.stderr


def test_messages_print_brackets_literally(quickstart: Path, darwin_cli) -> None:
    run_dir = quickstart / "run"
    empty = quickstart / "empty"
    empty.mkdir()
    result = darwin_cli("run", str(quick_config(quickstart, initial="empty")), "--run-dir", str(run_dir))
    assert result.returncode == 2 and "fix: [run] initial" in result.stderr
    config = quick_config(quickstart, generations=1, children_per_generation=1)
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    view = open_run(run_dir)
    assert view.run is not None
    view.run.metadata["stop_reason"] = "stopped: [run] time_budget_s and [bold]x[/bold]"
    view.store.save_run(view.run)
    status = darwin_cli("status", str(run_dir))
    assert "[run] time_budget_s and [bold]x[/bold]" in status.stdout


def test_packaging_is_quiet_and_quickstart_prints_the_whole_archive() -> None:
    import subprocess
    import sys

    from support import REPO

    check = ("import warnings; warnings.simplefilter('error');"
             "from setuptools.config.pyprojecttoml import apply_configuration;"
             "from setuptools.dist import Distribution;"
             "apply_configuration(Distribution(), 'pyproject.toml')")
    for project in (REPO, REPO / "hookspecs"):
        result = subprocess.run([sys.executable, "-c", check], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr  # e.g. `project.license` as a table warns
    script = (REPO / "scripts" / "quickstart.sh").read_text()
    assert "darwin archive" in script and "| tail" not in script and "| head" not in script
