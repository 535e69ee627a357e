"""The testing kit's conformance suites, run against Darwin's built-in backends (a third
party runs the same classes against its own; see docs/plugins.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from darwin_hookspecs import Sandbox, UserError
from darwin_plugins.testing import build_backend, collect_registry
from darwin_plugins.testing.benchmark_conformance import BenchmarkConformance
from darwin_plugins.testing.generator_conformance import GeneratorConformance
from darwin_plugins.testing.sandbox_conformance import SandboxConformance
from darwin_plugins.testing.selection_conformance import SelectionConformance

from support import QUICKSTART

SELECTORS = sorted(collect_registry("selection", entry_points=False).names())  # built-ins alone


def test_every_builtin_selector_is_covered() -> None:
    assert {"score_child_prop", "score_child_prop_mad", "score_prop", "best", "random", "latest",
            "cmp"} <= set(SELECTORS)


def test_the_kit_knows_the_engines_builtin_plugins() -> None:
    from darwin_core.plugins import DEFAULT_PLUGINS
    from darwin_plugins.builtin import PLUGINS

    assert tuple(PLUGINS) == tuple(DEFAULT_PLUGINS)


def test_build_backend_validates_options_like_a_run() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="familes"):
        build_backend("generator", "mutation", {"familes": ["comparison"]})
    with pytest.raises(UserError, match="not available"):
        build_backend("sandbox", "firecracker")
    executor = build_backend("executor", "local", {"max_workers": 3})
    try:
        assert executor.max_workers == 3
    finally:
        executor.shutdown()


class TestCustomBenchmark(BenchmarkConformance):
    @pytest.fixture
    def darwin_benchmark(self) -> Any:
        return build_backend("benchmark", "custom", {"path": "benchmark/tasks.toml"}, config_dir=QUICKSTART)

    @pytest.fixture
    def darwin_variant(self) -> Path:
        return QUICKSTART / "program"


class TestMutationGenerator(GeneratorConformance):
    @pytest.fixture
    def darwin_generator(self) -> Any:
        return build_backend("generator", "mutation")


class TestBuiltinSelection(SelectionConformance):
    @pytest.fixture(params=SELECTORS)
    def darwin_selection(self, request: pytest.FixtureRequest) -> Any:
        return build_backend("selection", request.param)


class TestLocalSandbox(SandboxConformance):
    @pytest.fixture
    def darwin_sandbox(self) -> Iterator[Sandbox]:
        sandbox = build_backend("sandbox", "local")
        yield sandbox
        sandbox.close()
