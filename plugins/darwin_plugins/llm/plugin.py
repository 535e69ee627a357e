"""Registers the generators ``openai``, ``anthropic`` and ``litellm``, and feeds finished
attempts to the model bandit."""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import GeneratorRegistry, hookimpl

from .choice import chooser_for
from .options import LLMOptions


def factory(provider: str) -> Any:
    """The backend's factory; the generator (and its model client) is imported when one is built."""
    def create(options: LLMOptions, context: Any) -> Any:
        from .generator import factory as build

        return build(provider)(options, context)

    return create


@hookimpl
def darwin_register_generators(registry: GeneratorRegistry) -> None:
    registry.add("openai", factory("openai"), options=LLMOptions, extra="openai",
                 requires=("openai", "tenacity"),
                 description="OpenAI chat completions (or any compatible server): diagnose, then edit.")
    registry.add("anthropic", factory("anthropic"), options=LLMOptions, extra="anthropic",
                 requires=("anthropic", "tenacity"),
                 description="Anthropic messages API: diagnose, then edit.")
    registry.add("litellm", factory("litellm"), options=LLMOptions, extra="litellm",
                 requires=("litellm", "tenacity"),
                 description="Any model LiteLLM reaches: diagnose, then edit.")


@hookimpl
def darwin_attempt_finished(run: Any, attempt: Any, child: Any) -> None:
    chooser = chooser_for(run.run_id)
    if chooser is not None and child is not None:
        chooser.observe_variant(child)
