"""Registers the ``mutation`` generator (libcst is imported only when one is built)."""

from typing import Any

from darwin_hookspecs import BuildContext, hookimpl

from .options import MutationOptions


def create(options: MutationOptions, context: BuildContext) -> Any:
    from .generator import create as build

    return build(options, context)


@hookimpl
def darwin_register_generators(registry: Any) -> None:
    registry.add(
        "mutation",
        create,
        options=MutationOptions,
        description="Offline genetic-improvement edits of Python source (libcst, seeded).",
    )
