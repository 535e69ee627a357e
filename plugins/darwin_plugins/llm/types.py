"""Records of the LLM call path: a provider-neutral request and reply, and the error kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import BudgetExceededError, UserError


@dataclass
class ChatRequest:
    """A chat request in the OpenAI shape; providers translate it to their wire format.

    :param messages: ``[{"role": "system"|"user"|"assistant", "content": str}]``.
    :param seed: Sent to providers that take one; always part of the cache key, so two attempts
        asking the same thing get independent answers while a resumed attempt gets its own.
    """

    model: str
    messages: list[dict[str, str]]
    temperature: float = 0.7
    max_tokens: int = 4096
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str = ""
    model: str = ""
    cached: bool = False
    cost_usd: float = 0.0


class TransientError(Exception):
    """Worth retrying: 429, 5xx, 529, timeouts, connection errors, unparseable replies.

    :param retry_after: Seconds the provider asked us to wait (``Retry-After``), if it did.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class FatalLLMError(Exception):
    """Not worth retrying: the provider refused this request (400, 413, 422...). The attempt
    fails (its child is recorded ``error``); the run goes on."""


class LLMConfigError(FatalLLMError, UserError):
    """Not worth retrying, and no other attempt would fare better: an unknown model or endpoint.
    A :class:`UserError`, so the run stops at once (exit code 2) with the cause and the fix."""


class AuthenticationFailedError(LLMConfigError):
    """No key, or the provider refused it (401/403): the run stops at once (exit code 2) with the
    environment variable to set."""


class ProviderUnavailableError(BudgetExceededError):
    """Every configured model is failing (retries exhausted or circuits open).

    A subclass of :class:`BudgetExceededError` on purpose: the engine then stops the run cleanly
    with the attempt back to ``planned``, instead of recording failed children; ``darwin resume``
    continues once the provider is back.
    """
