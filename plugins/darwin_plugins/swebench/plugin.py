"""Registers the ``swebench`` benchmark (needs ``darwin[swebench]``: the swebench and docker
packages, imported only when the benchmark is built)."""

from typing import Any

from darwin_hookspecs import BenchmarkRegistry, hookimpl

from .options import SWEBenchOptions


@hookimpl
def darwin_register_benchmarks(registry: BenchmarkRegistry) -> None:
    registry.add(
        "swebench",
        _create,
        options=SWEBenchOptions,
        extra="swebench",
        requires=("swebench", "docker"),
        description="SWE-bench instances in agent mode: the variant is a coding agent run in "
        "each instance's container; its diff is graded like the official harness.",
    )


def _create(options: SWEBenchOptions, context: Any) -> Any:
    from .benchmark import create

    return create(options, context)
