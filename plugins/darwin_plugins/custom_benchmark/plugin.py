"""Registers the ``custom`` benchmark."""

from typing import Any

from darwin_hookspecs import hookimpl

from .benchmark import register


@hookimpl
def darwin_register_benchmarks(registry: Any) -> None:
    register(registry)
