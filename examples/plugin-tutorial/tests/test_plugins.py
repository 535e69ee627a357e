"""Each tutorial plugin passes Darwin's conformance suite for its kind."""

from pathlib import Path

import pytest

from darwin_plugins.storage_conformance import StorageConformance
from darwin_plugins.testing import build_backend
from darwin_plugins.testing.benchmark_conformance import BenchmarkConformance
from darwin_plugins.testing.generator_conformance import GeneratorConformance
from darwin_plugins.testing.sandbox_conformance import SandboxConformance
from darwin_plugins.testing.selection_conformance import SelectionConformance

from darwin_tutorial import benchmark, generator, sandbox, selection

HERE = Path(__file__).resolve().parents[1]


class TestCalls(BenchmarkConformance):
    @pytest.fixture
    def darwin_benchmark(self):
        return build_backend("benchmark", "calls", plugins=[benchmark], config_dir=HERE)

    @pytest.fixture
    def darwin_variant(self):
        return HERE / "program"


class TestFlip(GeneratorConformance):
    @pytest.fixture
    def darwin_generator(self):
        return build_backend("generator", "flip", plugins=[generator])


class TestTournament(SelectionConformance):
    @pytest.fixture
    def darwin_selection(self):
        return build_backend("selection", "tournament", {"size": 2}, plugins=[selection])


class TestSubprocess(SandboxConformance):
    @pytest.fixture
    def darwin_sandbox(self):
        return build_backend("sandbox", "subprocess", plugins=[sandbox])


class TestSqlite(StorageConformance):
    pass
