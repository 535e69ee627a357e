"""Registers the ``mutation`` and ``crossover`` generators (libcst is imported only when one is built)."""

from typing import Any

from darwin_hookspecs import BuildContext, hookimpl

from .options import CrossoverOptions, MutationOptions


def create(options: MutationOptions, context: BuildContext) -> Any:
    from .generator import create as build

    return build(options, context)


def create_crossover(options: CrossoverOptions, context: BuildContext) -> Any:
    from .crossover import create as build

    return build(options, context)


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
