"""Registers the ``custom`` benchmark."""


from darwin_hookspecs import BenchmarkRegistry, hookimpl

from .benchmark import register


@hookimpl
def darwin_register_benchmarks(registry: BenchmarkRegistry) -> None:
    register(registry)
