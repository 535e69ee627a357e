"""The plugin manager: registration, errors that name the plugin, entry points, `darwin plugins`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from darwin_core import PluginManager
from darwin_hookspecs import (
    BuildContext,
    MissingDependencyError,
    PluginError,
    UnknownBackendError,
    hookimpl,
)

from darwin_core.plugins import DEFAULT_PLUGINS

from support import REPO, quick_config

BUILTINS = {
    ("generator", "mutation"),
    ("sandbox", "local"),
    ("benchmark", "custom"),
    ("storage", "file"),
    ("executor", "local"),
    ("selection", "score_child_prop"),
    ("selection", "score_child_prop_mad"),
    ("selection", "score_prop"),
    ("selection", "best"),
    ("selection", "random"),
    ("selection", "latest"),
    ("memory", "reasoning-bank"),
}


def test_plugins_json_lists_builtin_backends_by_kind(darwin_cli) -> None:
    result = darwin_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    backends = {(b["kind"], b["name"]) for p in data for b in p["backends"]}
    assert BUILTINS <= backends
    builtin = {p["name"]: p for p in data if p["distribution"] == "darwin"}
    assert all(p["version"] for p in builtin.values())  # entry points carry their version
    human = darwin_cli("plugins")
    assert "darwin-mutation" in human.stdout and "generator:mutation" in human.stdout


class Throwaway:
    @hookimpl
    def darwin_register_generators(self, registry):
        registry.add("noop", lambda options, context: object(), description="does nothing")

    @hookimpl
    def darwin_register_sandboxes(self, registry):
        registry.add("needs-missing", lambda o, c: object(), requires=("darwin_no_such_module",),
                     extra="imaginary")


def test_throwaway_plugin_registers_backends() -> None:
    manager = PluginManager(extra_plugins=[Throwaway()])
    assert "noop" in manager.registries["generator"]
    spec = manager.spec("generator", "noop")
    assert spec.description == "does nothing" and spec.kind == "generator"


def test_missing_optional_dependency_names_the_extra() -> None:
    manager = PluginManager(extra_plugins=[Throwaway()])
    with pytest.raises(MissingDependencyError) as info:
        manager.create("sandbox", "needs-missing", {}, BuildContext())
    assert "pip install 'darwin[imaginary]'" in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_backend_lists_known_ones() -> None:
    manager = PluginManager()
    with pytest.raises(UnknownBackendError) as info:
        manager.create("generator", "gpt-17", {}, BuildContext())
    message = str(info.value)
    assert "not available (plugin may not be installed)" in message and "mutation" in message


class Misspelled:
    @hookimpl
    def darwin_register_generator(self, registry):  # missing "s"
        pass


def test_misspelled_hook_fails_check_pending() -> None:
    with pytest.raises(PluginError) as info:
        PluginManager(extra_plugins=[Misspelled()])
    assert "darwin_register_generator" in str(info.value)


class Raising:
    @hookimpl
    def darwin_register_benchmarks(self, registry):
        raise RuntimeError("kaboom")


def test_plugin_raising_while_registering_is_named() -> None:
    with pytest.raises(PluginError) as info:
        PluginManager(extra_plugins=[Raising()])
    assert "raised in darwin_register_benchmarks" in str(info.value) and "kaboom" in str(info.value)


def test_duplicate_backend_name_is_an_error() -> None:
    class Twin:
        @hookimpl
        def darwin_register_generators(self, registry):
            registry.add("mutation", lambda o, c: object())

    with pytest.raises(PluginError) as info:
        PluginManager(extra_plugins=[Twin()])
    assert "registered twice" in str(info.value)


def test_nothing_happens_at_import_time() -> None:
    code = (
        "import sys, darwin_core, darwin_hookspecs;"
        "print(any(m.startswith('darwin_plugins') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- entry points, for real


def _install_dist(target: Path, name: str, module_source: str, entry_name: str) -> None:
    """Lay out an installed distribution (dist-info with an entry point) under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.py").write_text(module_source)
    dist = target / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[darwin]\n{entry_name} = {name}\n")


def test_broken_plugin_is_named_and_can_be_disabled(tmp_path: Path, darwin_cli) -> None:
    _install_dist(tmp_path / "site", "broken_plugin", "raise ImportError('needs libfoo 9')\n", "broken")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    result = darwin_cli("plugins", env=env)
    assert result.returncode == 3
    assert "plugin 'broken'" in result.stderr and "needs libfoo 9" in result.stderr
    assert "DARWIN_DISABLE_PLUGINS=broken" in result.stderr
    ok = darwin_cli("plugins", "--json", env={**env, "DARWIN_DISABLE_PLUGINS": "broken"})
    assert ok.returncode == 0
    assert "broken" not in {p["name"] for p in json.loads(ok.stdout)}


def test_disabling_a_builtin_removes_its_backends(darwin_cli) -> None:
    result = darwin_cli("plugins", "--json", env={"DARWIN_DISABLE_PLUGINS": "darwin-mutation"})
    backends = {(b["kind"], b["name"]) for p in json.loads(result.stdout) for b in p["backends"]}
    assert ("generator", "mutation") not in backends and ("sandbox", "local") in backends


def test_example_third_party_plugin_is_installed_and_used(tmp_path: Path, darwin_cli) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(REPO / "examples" / "plugin-wordcount")],
        check=True, capture_output=True, text=True,
    )
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listing = json.loads(darwin_cli("plugins", "--json", env=env).stdout)
    wordcount = next(p for p in listing if p["name"] == "wordcount")
    assert wordcount["distribution"] == "darwin-wordcount"
    backend = {k: v for k, v in wordcount["backends"][0].items() if k != "options"}
    assert len(wordcount["backends"]) == 1 and backend == {
        "kind": "benchmark", "name": "wordcount", "description": "Count words.", "extra": None,
        "available": True}
    assert wordcount["backends"][0]["options"]["additionalProperties"] is True  # a dict, unchecked
    assert wordcount["hooks"] == ["darwin_register_benchmarks"] and wordcount["roles"] == ["backends"]
    example = tmp_path / "example"
    import shutil

    shutil.copytree(REPO / "examples" / "plugin-wordcount", example)
    run = darwin_cli("run", str(example / "darwin.toml"), "--run-dir", str(tmp_path / "run"), "-q", env=env)
    assert run.returncode == 0, run.stderr
    status = json.loads(darwin_cli("status", str(tmp_path / "run"), "--json", env=env).stdout)
    # wc.py splits on " " only: "darwin" and "a b\nc\td\n"... pass, the empty and spaced texts fail
    assert status["initial_score"] == pytest.approx(0.25)
    assert status["variants"] == 7


def test_embedding_script_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "embed" / "embed.py"), str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout and "lineage: v0000root" in result.stdout


def test_builtins_come_from_the_default_plugins_not_from_entry_points() -> None:
    """A checkout that is not installed has every built-in backend: none is an entry point."""
    manager = PluginManager(load_entry_points=False)
    backends = {(kind, name) for kind, registry in manager.registries.items() for name in registry.names()}
    assert BUILTINS <= backends
    assert {info.name for info in manager.plugin_infos()} == {name for name, _ in DEFAULT_PLUGINS}
    from darwin_core.config import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project.get("entry-points", {}).get("darwin", {})
    assert not [v for v in declared.values() if v.startswith("darwin_plugins")]
    bare = PluginManager(load_entry_points=False, defaults=(), disable=["x"])
    assert all(not registry.names() for registry in bare.registries.values())


class Incomplete:
    @hookimpl
    def darwin_register_sandboxes(self, registry):
        class HalfSandbox:  # no guarantees(); close is not callable
            close = None

            def run(self, request):
                raise AssertionError("never run")

        registry.add("half", lambda o, c: HalfSandbox())


def test_a_backend_missing_part_of_its_protocol_is_a_plugin_error() -> None:
    manager = PluginManager(extra_plugins=[Incomplete()])
    with pytest.raises(PluginError) as info:
        manager.create("sandbox", "half", {}, BuildContext())
    message = str(info.value)
    assert info.value.exit_code == 3
    assert "sandbox backend 'half'" in message and "close, guarantees" in message
    assert "Sandbox protocol" in message and "DARWIN_DISABLE_PLUGINS=" in message
    plugin = manager.spec("sandbox", "half").plugin
    assert plugin and f"plugin {plugin!r}" in message


def test_memory_is_a_kind_listed_with_its_options_model() -> None:
    from darwin_hookspecs import MemoryRegistry

    manager = PluginManager()
    assert isinstance(manager.registries["memory"], MemoryRegistry)
    spec = manager.spec("memory", "reasoning-bank")
    assert spec.plugin == "darwin-reasoning-bank" and spec.options is not None
    with pytest.raises(UnknownBackendError) as info:
        manager.spec("memory", "reasoning-bnak")
    assert "available: reasoning-bank" in str(info.value)


def test_config_disable_list_is_honoured(quickstart: Path) -> None:
    from darwin_core import Engine, load_config

    text = quick_config(quickstart).read_text() + '[plugins]\ndisable = ["darwin-mutation"]\n'
    (quickstart / "darwin.toml").write_text(text)
    with pytest.raises(UnknownBackendError):
        Engine.create(load_config(quickstart / "darwin.toml"), quickstart / "run").run_loop()
