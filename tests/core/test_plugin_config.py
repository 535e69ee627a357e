"""[plugins.NAME] sections reach their plugin (validated by its own model), observers get the
run directory, and entry-point plugins load per run: all for the CLI, opt-in when embedded."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from darwin_core import ConfigError, Engine, load_config
from darwin_hookspecs import RunInfo, UserError, Variant, hookimpl

from support import quick_config


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = "accepted.csv"
    min_score: float = 0.0


class CsvLog:
    """An observer writing every accepted variant to a CSV file in the run directory."""

    darwin_name = "csvlog"
    darwin_options = CsvOptions

    def __init__(self) -> None:
        self.file: Path | None = None
        self.options: CsvOptions | None = None
        self.services_run_dir: Any = None

    @hookimpl
    def darwin_configure(self, options: CsvOptions, run_dir: Path | None) -> None:
        assert run_dir is not None
        self.options, self.file = options, run_dir / options.path
        self.file.write_text("id,score\n")

    @hookimpl
    def darwin_run_started(self, run: RunInfo, resumed: bool, services: dict[str, Any]) -> None:
        self.services_run_dir = services["run_dir"]

    @hookimpl
    def darwin_variant_accepted(self, run: RunInfo, variant: Variant) -> None:
        assert self.file is not None and self.options is not None
        if variant.score >= self.options.min_score:
            with self.file.open("a") as fh:
                fh.write(f"{variant.id},{variant.score}\n")


def _config(quickstart: Path, extra: str) -> Path:
    path = quick_config(quickstart, generations=2, children_per_generation=2)
    path.write_text(path.read_text() + extra)
    return path


def test_plugin_section_reaches_its_plugin_with_the_run_dir(quickstart: Path) -> None:
    config = _config(quickstart, '[plugins.csvlog]\npath = "log.csv"\nmin_score = 0.6\n')
    observer = CsvLog()
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[observer])
    engine.run_loop()
    assert observer.options == CsvOptions(path="log.csv", min_score=0.6)
    assert observer.services_run_dir == engine.run_dir == (quickstart / "run").resolve()
    rows = list(csv.DictReader((quickstart / "run" / "log.csv").open()))
    expected = [v.id for v in engine.archive.variants()[1:] if v.status == "accepted" and v.score >= 0.6]
    ids = [r["id"] for r in rows]  # in the order children were recorded (their evaluations' end)
    assert sorted(ids) == sorted(expected) and len(set(ids)) == len(ids) and expected


def test_defaults_without_a_section_and_errors_that_name_the_section(quickstart: Path) -> None:
    observer = CsvLog()
    engine = Engine.create(load_config(_config(quickstart, "")), quickstart / "run", extra_plugins=[observer])
    engine.run_loop()
    assert observer.options == CsvOptions() and (quickstart / "run" / "accepted.csv").is_file()

    bad = _config(quickstart, "[plugins.csvlog]\npth = 1\n")
    with pytest.raises(ConfigError, match=r"\[plugins.csvlog\].pth.*allowed keys: min_score, path"):
        Engine.create(load_config(bad), quickstart / "run2", extra_plugins=[CsvLog()]).run_loop()
    nobody = _config(quickstart, "[plugins.nobody]\nx = 1\n")
    with pytest.raises(ConfigError, match=r"\[plugins.nobody\]: no plugin 'nobody' is loaded"):
        Engine.create(load_config(nobody), quickstart / "run3").run_loop()
    not_a_table = _config(quickstart, "[plugins]\ncsvlog = 3\n")
    with pytest.raises(ConfigError, match=r"must be a table \[plugins.csvlog\]"):
        load_config(not_a_table)


WATCHER = '''
from pathlib import Path
from darwin_hookspecs import hookimpl

@hookimpl
def darwin_configure(run, options, run_dir):
    (Path(run_dir) / "watcher.json").write_text(__import__("json").dumps(options))
'''

EMBED = '''
import sys
from pathlib import Path
from darwin_core import Engine, load_config
engine = Engine.create(load_config(sys.argv[1]), Path(sys.argv[2]), entry_points=sys.argv[3] == "yes")
engine.run_loop()
'''


def test_entry_point_observers_per_run(quickstart: Path, tmp_path: Path, darwin_cli) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "watcher_plugin.py").write_text(WATCHER)
    dist = site / "watcher_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: watcher-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[darwin]\nwatcher = watcher_plugin\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    configured = _config(quickstart, '[plugins.watcher]\ncolour = "blue"\n')
    configured = configured.rename(quickstart / "configured.toml")
    plain = quick_config(quickstart, generations=1, children_per_generation=1)
    enabled = quickstart / "enabled.toml"
    enabled.write_text(plain.read_text() + '[plugins]\nenable = ["watcher"]\n')
    disabled = quickstart / "disabled.toml"
    disabled.write_text(plain.read_text() + '[plugins]\ndisable = ["watcher"]\n')
    script = tmp_path / "embed.py"
    script.write_text(EMBED)

    def embedded(config: Path, run: str, entry_points: str) -> Path:
        result = subprocess.run([sys.executable, str(script), str(config), str(tmp_path / run), entry_points],
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return tmp_path / run / "watcher.json"

    assert darwin_cli("run", str(configured), "--run-dir", str(tmp_path / "cli"), "-q", env=env).returncode == 0
    assert json.loads((tmp_path / "cli" / "watcher.json").read_text()) == {"colour": "blue"}
    assert darwin_cli("run", str(disabled), "--run-dir", str(tmp_path / "off"), "-q", env=env).returncode == 0
    assert not (tmp_path / "off" / "watcher.json").exists()
    assert not embedded(plain, "embedded", "no").exists()  # embedded: only what it passes
    assert embedded(enabled, "enabled", "no").exists()    # ... unless the config enables it
    assert embedded(plain, "all", "yes").exists()         # ... or it asks for entry points
    missing = quickstart / "missing.toml"
    missing.write_text(plain.read_text() + '[plugins]\nenable = ["ghost"]\n')
    result = darwin_cli("validate", str(missing), env=env)
    assert result.returncode == 2 and "'ghost', which no installed distribution provides" in result.stderr


def test_enable_of_a_missing_plugin_is_a_user_error() -> None:
    from darwin_core import PluginManager

    with pytest.raises(UserError, match="no installed distribution provides"):
        PluginManager(enable=["ghost"], third_party=False)
