"""Shared guards of the call path: a circuit breaker and a client-side rate limiter.

Both are thread-safe and shared by every concurrent attempt that uses the same provider/model.
"""

from __future__ import annotations

import threading
import time


class CircuitOpenError(Exception):
    """The breaker of a provider/model is open: calls are refused until it half-opens."""

    def __init__(self, key: str, retry_in_s: float) -> None:
        super().__init__(f"circuit for {key} is open (retry in {retry_in_s:.1f}s)")
        self.key = key
        self.retry_in_s = retry_in_s


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``reset_after_s`` lets one trial
    call through (half-open): its success closes the circuit, its failure opens it again."""

    def __init__(self, key: str, threshold: int = 5, reset_after_s: float = 30.0,
                 clock: "callable" = time.monotonic) -> None:  # type: ignore[valid-type]
        self.key = key
        self.threshold = threshold
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_in_flight = False
        self.lock = threading.Lock()

    @property
    def state(self) -> str:
        with self.lock:
            return self._state()

    def _state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_after_s:
            return "half_open"
        return "open"

    def retry_in(self) -> float:
        with self.lock:
            if self.opened_at is None:
                return 0.0
            return max(0.0, self.opened_at + self.reset_after_s - self.clock())

    def before_call(self) -> None:
        with self.lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half_open" and not self.trial_in_flight:
                self.trial_in_flight = True
                return
            wait = max(0.0, (self.opened_at or 0.0) + self.reset_after_s - self.clock())
        raise CircuitOpenError(self.key, wait)

    def success(self) -> None:
        with self.lock:
            self.failures = 0
            self.opened_at = None
            self.trial_in_flight = False

    def failure(self) -> None:
        with self.lock:
            self.failures += 1
            if self.trial_in_flight or self.failures >= self.threshold:
                self.opened_at = self.clock()
            self.trial_in_flight = False


class RateLimiter:
    """Token buckets for requests and tokens per minute (``None``: unlimited).

    ``acquire`` blocks until a request and its estimated tokens fit; ``settle`` corrects the
    token bucket with the real count once the reply is in (debt is allowed).
    """

    def __init__(self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None) -> None:
        self.rpm = requests_per_minute
        self.tpm = tokens_per_minute
        self.requests = float(requests_per_minute or 0)
        self.tokens = float(tokens_per_minute or 0)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = now - self.updated
        self.updated = now
        if self.rpm:
            self.requests = min(self.rpm, self.requests + elapsed * self.rpm / 60.0)
        if self.tpm:
            self.tokens = min(self.tpm, self.tokens + elapsed * self.tpm / 60.0)

    def acquire(self, tokens: int = 0) -> float:
        """Wait for room; return the seconds waited."""
        if not self.rpm and not self.tpm:
            return 0.0
        waited = 0.0
        while True:
            with self.lock:
                self._refill(time.monotonic())
                need_r = 1.0 - self.requests if self.rpm else 0.0
                want_t = min(float(tokens), float(self.tpm)) if self.tpm else 0.0
                need_t = want_t - self.tokens if self.tpm else 0.0
                if need_r <= 0 and need_t <= 0:
                    if self.rpm:
                        self.requests -= 1.0
                    if self.tpm:
                        self.tokens -= float(tokens)
                    return waited
                delay = max(need_r * 60.0 / self.rpm if self.rpm and need_r > 0 else 0.0,
                            need_t * 60.0 / self.tpm if self.tpm and need_t > 0 else 0.0)
            delay = min(max(delay, 0.01), 5.0)
            time.sleep(delay)
            waited += delay

    def settle(self, estimated: int, actual: int) -> None:
        if self.tpm:
            with self.lock:
                self.tokens -= float(actual - estimated)
