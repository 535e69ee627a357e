"""Options of the LLM backends, and building a :class:`CallPath` from them (the client is
imported when one is built: registering the backends imports only the options)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from darwin_hookspecs import LEDGER, BuildContext, SpendLedger, UserError

from ..evolve_blocks import RegionSpec

if TYPE_CHECKING:
    from .client import CallPath

DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "litellm": None}


class ModelSpec(BaseModel):
    """One model of a multi-model setup; unset keys fall back to the backend's."""

    model_config = ConfigDict(extra="forbid")
    model: str
    weight: float = Field(1.0, ge=0.0)
    base_url: str | None = None
    api_key_env: str | None = None
    temperature: float | None = None
    max_tokens: int | None = Field(None, ge=1)
    price_per_mtok_in: float | None = Field(None, ge=0.0)
    price_per_mtok_out: float | None = Field(None, ge=0.0)


class CallOptions(BaseModel):
    """How models are reached: shared by the ``openai``/``anthropic``/``litellm`` generators and
    by the ``self`` generator's gateway."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    """One model; or list several in ``models``."""
    models: list[ModelSpec] = Field(default_factory=list)
    model_choice: Literal["weighted", "bandit"] = "weighted"
    base_url: str | None = None
    """Any compatible server (vLLM, Ollama, a proxy); default: the provider's own."""
    api_key_env: str | None = None
    """The *name* of the environment variable holding the key (default OPENAI_API_KEY /
    ANTHROPIC_API_KEY; LiteLLM reads its providers' usual variables when unset)."""
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(4096, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    backoff_s: float = Field(1.0, ge=0.0)
    backoff_max_s: float = Field(30.0, ge=0.0)
    max_retry_after_s: float = Field(120.0, ge=0.0)
    max_pause_s: float = Field(300.0, ge=0.0)
    breaker_threshold: int = Field(5, ge=1)
    breaker_reset_s: float = Field(30.0, ge=0.0)
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    price_per_mtok_in: float | None = Field(None, ge=0.0)
    price_per_mtok_out: float | None = Field(None, ge=0.0)
    cache: bool = True

    @model_validator(mode="after")
    def _one_model(self) -> "CallOptions":
        if not self.model and not self.models:
            raise ValueError("set `model` (or a list of `models`)")
        return self

    def specs(self) -> list[ModelSpec]:
        return self.models or [ModelSpec(model=self.model or "")]


def resolve_key(provider: str, env_name: str | None, backend: str) -> str:
    """The key from the environment variable ``env_name`` (never from config)."""
    name = env_name if env_name is not None else DEFAULT_KEY_ENV.get(provider)
    if not name:
        return ""
    value = os.environ.get(name)
    if not value:
        raise UserError(
            f"generator {backend!r}: environment variable {name} (api_key_env) is not set; "
            f"fix: export {name}=YOUR_KEY, or set api_key_env to the variable that holds it"
        )
    return value


def run_ledger(context: BuildContext, backend: str) -> SpendLedger:
    """The run's spend ledger (the engine's ``ledger`` service): budgets and the record of spend."""
    ledger = context.services.get(LEDGER)
    if ledger is None:
        raise UserError(
            f"generator {backend!r} needs the run's spend ledger (BuildContext.services[{LEDGER!r}]), "
            "which the engine provides; fix: build it through a run (darwin run, or Engine)"
        )
    return ledger


def build_call_path(provider: str, options: CallOptions, context: BuildContext, ledger: SpendLedger,
                    backend: str) -> "CallPath":
    """Endpoints (one per model) with their own breaker and rate limiter, one cache, one ledger."""
    from .client import CallPath, Endpoint, ResponseCache, RetryPolicy
    from .pricing import price_per_token
    from .providers import PROVIDERS
    from .resilience import CircuitBreaker, RateLimiter

    cls = PROVIDERS[provider]
    endpoints = []
    for spec in options.specs():
        env = spec.api_key_env if spec.api_key_env is not None else options.api_key_env
        key = resolve_key(provider, env, backend)
        client = cls(key, spec.base_url or options.base_url, options.timeout_s)
        price_in, price_out = price_per_token(
            spec.model, provider,
            spec.price_per_mtok_in if spec.price_per_mtok_in is not None else options.price_per_mtok_in,
            spec.price_per_mtok_out if spec.price_per_mtok_out is not None else options.price_per_mtok_out,
        )
        endpoints.append(Endpoint(
            provider=client, model=spec.model, weight=spec.weight, price_in=price_in, price_out=price_out,
            breaker=CircuitBreaker(f"{provider}:{spec.model}", options.breaker_threshold, options.breaker_reset_s),
            limiter=RateLimiter(options.requests_per_minute, options.tokens_per_minute),
            temperature=spec.temperature, max_tokens=spec.max_tokens, key_fix=key_fix(provider, env, spec.model, client),
        ))
    policy = RetryPolicy(max_attempts=options.max_attempts, backoff_s=options.backoff_s,
                         backoff_max_s=options.backoff_max_s, max_retry_after_s=options.max_retry_after_s,
                         timeout_s=options.timeout_s, max_pause_s=options.max_pause_s)
    cache = ResponseCache(ledger.storage, ledger) if options.cache else None
    return CallPath(endpoints, ledger, cache, policy)


def key_fix(provider: str, env_name: str | None, model: str, client: object) -> str:
    """How to fix a missing or refused key of ``model``: the variable(s) to set."""
    name = env_name if env_name is not None else DEFAULT_KEY_ENV.get(provider)
    names = [name] if name else list(getattr(client, "key_variables", lambda m: [])(model))
    if not names:
        return ("set the key variable of the model's provider (see LiteLLM's provider list), or name the "
                "variable that holds it with api_key_env")
    variable = names[0] if len(names) == 1 else " or ".join(names)
    where = "the variable api_key_env names" if name else "LiteLLM reads it; or name another with api_key_env"
    return f"export {variable}=YOUR_KEY ({where})"


class LLMOptions(CallOptions):
    edit_format: Literal["search_replace", "diff", "whole"] = "search_replace"
    diagnose: bool = True
    max_repairs: int = Field(2, ge=0)
    max_edit_retries: int = Field(2, ge=0)
    include: list[str] = Field(default_factory=lambda: ["*.py", "*.md", "*.txt", "*.toml", "*.json", "*.cfg"])
    exclude: list[str] = Field(default_factory=lambda: ["test_*.py", "tests/*", "*_test.py", "conftest.py"])
    max_context_chars: int = Field(120_000, ge=1000)
    fuzzy_threshold: float = Field(0.9, ge=0.5, le=1.0)
    system_prompt_file: str | None = None
    """A file holding the system message (relative to the config file's directory)."""
    prompt_template_file: str | None = None
    """A file holding the prompt template of both steps, relative to the config file's directory
    ($files, $target, $evaluation, ... and the required $instructions: see docs/llm.md)."""
    max_inspirations: int = Field(4, ge=0)
    """How many inspirations (other good variants of the archive, with their diffs) the prompt shows."""
    regions: list[str | RegionSpec] = Field(default_factory=list)
    """Editable regions on top of the files' EVOLVE-BLOCK-START/END markers: "path:first-last" (as
    the mutation generator's), or tables {path, symbol} (a function or class) or {path} (a whole
    file, a glob); edits elsewhere are refused."""

    @field_validator("regions")
    @classmethod
    def _parse_regions(cls, value: list[str | RegionSpec]) -> list[str | RegionSpec]:
        return [RegionSpec.parse(v) for v in value]
