"""The hardened call path every LLM backend (and the gateway) goes through.

One :meth:`CallPath.complete`:

1. looks the full request up in the response cache (run storage): a hit costs nothing;
2. checks the budgets (ledger) and the circuit breaker of the chosen model, failing over to
   the next model when its circuit is open, pausing (bounded) when every circuit is open;
3. waits for the shared rate limiter;
4. calls the provider with tenacity: exponential backoff with jitter on 429/5xx/529, timeouts,
   connection errors and unparseable replies, honouring ``Retry-After`` (the SDKs' own retries
   are off, so attempts are not multiplied);
5. records tokens and dollars in the run's ledger (the engine's ``SpendLedger`` service) and stores the reply in the cache.

When every model keeps failing, :class:`ProviderUnavailableError` stops the run cleanly and
resumably instead of turning the outage into failed children.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import tenacity

from darwin_hookspecs import ConflictError, NotFoundError, SpendLedger, Storage, StorageError, Usage

from .providers import Provider
from .resilience import CircuitBreaker, CircuitOpenError, RateLimiter
from .types import (AuthenticationFailedError, ChatRequest, Completion, FatalLLMError, ProviderUnavailableError,
                    TransientError)

log = logging.getLogger("darwin.llm")
CACHE_COLLECTION = "llm_cache"


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    """Tries per call on one model (the first included)."""
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    """A longer ``Retry-After`` is capped to this."""
    timeout_s: float = 120.0
    """Per request."""
    max_pause_s: float = 300.0
    """How long to wait for an open circuit to half-open before giving up the call."""


@dataclass
class Endpoint:
    """One model reachable through one provider, with its guards and prices."""

    provider: Provider
    model: str
    weight: float = 1.0
    price_in: float = 0.0
    """Dollars per input token."""
    price_out: float = 0.0
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker("?"))
    limiter: RateLimiter = field(default_factory=RateLimiter)
    temperature: float | None = None
    max_tokens: int | None = None
    key_fix: str = "set the environment variable named by api_key_env to a valid key"
    """How to fix a missing or refused key (names the variable), for the authentication error."""

    @property
    def key(self) -> str:
        return f"{self.provider.name}:{self.model}"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens * self.price_in + output_tokens * self.price_out


class ResponseCache:
    """Replies by the hash of the full request, kept in the run's storage (so they survive a
    crash and a resume) and in memory."""

    def __init__(self, storage: Storage | None, ledger: SpendLedger | None = None) -> None:
        self.storage = storage
        self.ledger = ledger
        """Writes go behind through the ledger's writer (flushed with the attempt's entries)."""
        self.memory: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    @staticmethod
    def key(endpoint: Endpoint, request: ChatRequest) -> str:
        data = {"provider": endpoint.provider.name, "base_url": endpoint.provider.base_url,
                "model": request.model, "messages": request.messages, "temperature": request.temperature,
                "max_tokens": request.max_tokens, "seed": request.seed, "extra": request.extra}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        with self.lock:
            value = self.memory.get(key)
        if value is None and self.storage is not None:
            try:
                value, _ = self.storage.get_record(CACHE_COLLECTION, key)
            except (NotFoundError, KeyError):
                value = None
            except StorageError as exc:
                log.warning("response cache unreadable (%s); calling the model", exc)
                value = None
        if value is None:
            return None
        names = set(Completion.__dataclass_fields__)
        return Completion(**{k: v for k, v in value.items() if k in names})

    def put(self, key: str, completion: Completion, attempt_id: str = "") -> None:
        value = dict(completion.__dict__)
        with self.lock:
            self.memory[key] = value
        if self.ledger is not None and self.ledger.storage is not None:
            self.ledger.defer_record(attempt_id, CACHE_COLLECTION, key, value)
        elif self.storage is not None:
            try:
                self.storage.put_record(CACHE_COLLECTION, key, value)
            except ConflictError:
                pass  # another attempt stored the same reply first


class CallPath:
    """Calls models through providers, safely. Thread-safe; one per backend instance."""

    def __init__(self, endpoints: list[Endpoint], ledger: SpendLedger, cache: ResponseCache | None = None,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint")
        self.endpoints = endpoints
        self.ledger = ledger
        self.cache = cache
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    # ---------------------------------------------------------------- public

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        role: str,
        attempt_id: str,
        seed: int | None = None,
        endpoint: Endpoint | None = None,
        temperature: float = 0.7,
        max_tokens: int = 4096,
        record_usage: Callable[[Usage], None] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Completion, Endpoint]:
        """Answer ``messages`` with ``endpoint`` (default: the first), failing over to the
        others in order when it is unavailable. Return the completion and who answered."""
        order = [endpoint] if endpoint else []
        order += [e for e in self.endpoints if e is not endpoint]
        pause_until = time.monotonic() + self.policy.max_pause_s
        last_error: Exception | None = None
        while True:
            soonest = None
            for ep in order:
                request = ChatRequest(
                    model=ep.model, messages=messages,
                    temperature=ep.temperature if ep.temperature is not None else temperature,
                    max_tokens=ep.max_tokens or max_tokens, seed=seed, extra=dict(extra or {}),
                )
                try:
                    return self._complete_on(ep, request, role, attempt_id, record_usage), ep
                except CircuitOpenError as exc:
                    soonest = exc.retry_in_s if soonest is None else min(soonest, exc.retry_in_s)
                    last_error = exc
                except TransientError as exc:
                    last_error = exc
                    log.warning("giving up on %s after retries: %s", ep.key, exc)
            if soonest is None or time.monotonic() + soonest > pause_until:
                raise ProviderUnavailableError(
                    f"no model could answer ({last_error}); every configured model is failing or its "
                    "circuit is open; the run stopped cleanly; fix: check the provider's status, "
                    "network and quotas, then `darwin resume RUN_DIR`"
                )
            log.warning("every circuit is open; pausing %.1fs", soonest)
            self.sleep(max(soonest, 0.05))

    # ------------------------------------------------------------- internals

    def _complete_on(self, ep: Endpoint, request: ChatRequest, role: str, attempt_id: str,
                     record_usage: Callable[[Usage], None] | None) -> Completion:
        key = ResponseCache.key(ep, request) if self.cache else ""
        if self.cache:
            hit = self.cache.get(key)
            if hit is not None:
                usage = Usage(role=role, model=ep.model, provider=ep.provider.name,
                              input_tokens=hit.input_tokens, output_tokens=hit.output_tokens,
                              cost_usd=0.0, cached=True)
                self.ledger.spend(attempt_id, usage)
                if record_usage:
                    record_usage(usage)
                hit.cached, hit.cost_usd = True, 0.0
                return hit
        self.ledger.check()
        completion = self._call_with_retries(ep, request)
        completion.cost_usd = ep.cost(completion.input_tokens, completion.output_tokens)
        usage = Usage(role=role, model=ep.model, provider=ep.provider.name,
                      input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                      cost_usd=completion.cost_usd)
        self.ledger.spend(attempt_id, usage)
        if record_usage:
            record_usage(usage)
        if self.cache:
            self.cache.put(key, completion, attempt_id)
        return completion

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.policy.max_retry_after_s)
        base = min(self.policy.backoff_max_s, self.policy.backoff_s * 2 ** (state.attempt_number - 1))
        return base * (0.5 + random.random() / 2)

    def _call_with_retries(self, ep: Endpoint, request: ChatRequest) -> Completion:
        estimate = sum(len(m.get("content", "")) for m in request.messages) // 4 + request.max_tokens // 4

        def once() -> Completion:
            ep.breaker.before_call()
            ep.limiter.acquire(estimate)
            try:
                completion = ep.provider.call(request, self.policy.timeout_s)
            except TransientError as exc:
                ep.breaker.failure()
                ep.limiter.settle(estimate, 0)
                log.info("transient failure on %s: %s", ep.key, exc)
                raise
            except AuthenticationFailedError as exc:  # never retried: the run stops with the fix
                ep.breaker.success()
                raise AuthenticationFailedError(f"{exc}; fix: {ep.key_fix}, then `darwin resume RUN_DIR`") from None
            except FatalLLMError:
                ep.breaker.success()  # the provider answered: it is up
                raise
            ep.breaker.success()
            ep.limiter.settle(estimate, completion.input_tokens + completion.output_tokens)
            return completion

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(once)
