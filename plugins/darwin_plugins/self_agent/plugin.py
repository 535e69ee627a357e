"""Registers the ``self`` generator."""

from __future__ import annotations


from darwin_hookspecs import GeneratorRegistry, hookimpl


@hookimpl
def darwin_register_generators(registry: GeneratorRegistry) -> None:
    from .generator import SelfOptions, create

    registry.add("self", create, options=SelfOptions, requires=("tenacity",),
                 description="The variant is a coding agent: it edits its own code in the sandbox, "
                 "reaching the model through a key-adding, token-counting gateway.")
