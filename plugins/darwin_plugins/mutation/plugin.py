"""Registers the ``mutation`` generator."""

from typing import Any

from darwin_hookspecs import hookimpl

from .generator import MutationOptions, create


@hookimpl
def darwin_register_generators(registry: Any) -> None:
    registry.add(
        "mutation",
        create,
        options=MutationOptions,
        description="Offline genetic-improvement edits of Python source (libcst, seeded).",
    )
