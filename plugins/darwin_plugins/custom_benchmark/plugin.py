"""Registers the ``custom`` benchmark and the ``evaluator`` benchmark."""


from darwin_hookspecs import BenchmarkRegistry, hookimpl

from ..evaluator_benchmark.benchmark import register as register_evaluator
from .benchmark import register


@hookimpl
def darwin_register_benchmarks(registry: BenchmarkRegistry) -> None:
    register(registry)
    register_evaluator(registry)
