"""Registers the ``mutation`` and ``crossover`` generators."""

from typing import Any

from darwin_hookspecs import hookimpl

from .crossover import CrossoverOptions
from .crossover import create as create_crossover
from .generator import MutationOptions, create


@hookimpl
def darwin_register_generators(registry: Any) -> None:
    registry.add(
        "mutation",
        create,
        options=MutationOptions,
        description="Offline genetic-improvement edits of Python source (libcst), each parent's neighbourhood without repeats.",
    )
    registry.add(
        "crossover",
        create_crossover,
        options=CrossoverOptions,
        description="Merges two variants' changes since their common ancestor (GenerationContext.inspirations); else mutation.",
    )
