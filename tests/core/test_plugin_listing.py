"""`darwin plugins`: option schemas with defaults and descriptions, hooks, observer roles."""

from __future__ import annotations

import json
import os
from pathlib import Path

OBSERVER = '''
from darwin_hookspecs import hookimpl

@hookimpl
def darwin_run_started(run, resumed, services):
    pass

@hookimpl
def darwin_variant_accepted(run, variant):
    pass
'''


def test_json_has_option_schemas_with_defaults_and_descriptions(darwin_cli) -> None:
    data = json.loads(darwin_cli("plugins", "--json").stdout)
    backends = {(b["kind"], b["name"]): b for p in data for b in p["backends"]}
    mutation = backends[("generator", "mutation")]["options"]
    assert mutation["additionalProperties"] is False
    families = mutation["properties"]["families"]
    assert "comparison" in families["default"] and "families" in families["description"].lower()
    sandbox = backends[("sandbox", "local")]["options"]["properties"]
    assert sandbox["isolation"]["default"] == "auto" and sandbox["isolation"]["enum"] == ["auto", "bwrap", "none"]
    assert "bubblewrap" in sandbox["isolation"]["description"]
    executor = backends[("executor", "local")]["options"]["properties"]["max_workers"]
    assert executor["default"] == 2 and executor["minimum"] == 1 and executor["description"]
    storage = backends[("storage", "file")]["options"]
    assert storage["additionalProperties"] is False  # the file store validates its options too
    assert storage["properties"]["fsync"]["default"] is True and storage["properties"]["fsync"]["description"]
    for plugin in data:
        assert plugin["hooks"] and all(h.startswith("darwin_") for h in plugin["hooks"])
        if plugin["backends"]:
            assert "backends" in plugin["roles"]
    tracing = next(p for p in data if p["name"] == "darwin-tracing")
    assert tracing["roles"] == ["observer"] and "darwin_task_evaluated" in tracing["hooks"]


def test_options_in_text_and_observers_shown(darwin_cli, tmp_path: Path) -> None:
    text = darwin_cli("plugins", "--options", "generator:mutation")
    assert text.returncode == 0, text.stderr
    for key in ("include", "exclude", "families", "uncovered_weight", "max_tries"):
        assert key in text.stdout
    assert "0.01" in text.stdout and "Glob patterns of the" in text.stdout  # defaults and descriptions
    both = darwin_cli("plugins", "--options", "local")  # a sandbox and an executor
    assert "sandbox backend local" in both.stdout and "executor backend local" in both.stdout
    unknown = darwin_cli("plugins", "--options", "nope")
    assert unknown.returncode == 2 and "generator:mutation" in unknown.stderr

    site = tmp_path / "site"
    site.mkdir()
    (site / "watcher_plugin.py").write_text(OBSERVER)
    dist = site / "watcher_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: watcher-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[darwin]\nwatcher = watcher_plugin\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listing = json.loads(darwin_cli("plugins", "--json", env=env).stdout)
    watcher = next(p for p in listing if p["name"] == "watcher")
    assert watcher["roles"] == ["observer"] and watcher["backends"] == []
    assert watcher["hooks"] == ["darwin_run_started", "darwin_variant_accepted"]
    human = darwin_cli("plugins", env=env).stdout
    row = next(line for line in human.splitlines() if "watcher" in line)
    assert "observer" in row and "run_started" in row and "variant_accepted" in row
