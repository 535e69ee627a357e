"""Providers: one chat call through a vendor SDK, with the SDK's own retries off.

Each provider turns a :class:`ChatRequest` into one HTTP request and a :class:`Completion`, and
maps the SDK's exceptions to :class:`TransientError` (retry) or :class:`FatalLLMError` (stop).
Retrying is the call path's job (:mod:`.client`), so every SDK is built with ``max_retries=0``.
SDKs are imported when a provider is built, never at import time.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any, Protocol

from .types import AuthenticationFailedError, ChatRequest, Completion, FatalLLMError, LLMConfigError, TransientError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
NO_KEY = re.compile(r"missing (credentials|[\w ]{0,30}api[ _-]?key)|api[_ ]?key (client option )?must be set|"
                    r"no (api )?key (is )?(set|provided|found)|api[_ ]?key[\w ]{0,20}not (set|provided|found)",
                    re.IGNORECASE)
"""What SDKs say when they found no key (LiteLLM wraps it in a 500 InternalServerError)."""
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
                 "mistral": "MISTRAL_API_KEY", "groq": "GROQ_API_KEY", "cohere": "COHERE_API_KEY",
                 "deepseek": "DEEPSEEK_API_KEY", "openrouter": "OPENROUTER_API_KEY",
                 "together_ai": "TOGETHERAI_API_KEY", "azure": "AZURE_API_KEY", "xai": "XAI_API_KEY"}
"""The variable LiteLLM reads for a model prefix, to name in an authentication error."""


class Provider(Protocol):
    name: str
    base_url: str

    def call(self, request: ChatRequest, timeout_s: float) -> Completion: ...


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except Exception:  # noqa: BLE001 - odd header containers
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def classify(exc: BaseException, provider: str, model: str, secret: str = "") -> Exception:
    """Map any SDK exception to :class:`TransientError` or :class:`FatalLLMError`; ``secret``
    (the key) is masked wherever the SDK's message would repeat it."""
    error = _classify(exc, provider, model)
    if secret and len(secret) >= 8 and secret in str(error):
        masked = str(error).replace(secret, "***")
        if isinstance(error, TransientError):
            return TransientError(masked, status=error.status, retry_after=error.retry_after)
        return type(error)(masked)
    return error


def _classify(exc: BaseException, provider: str, model: str) -> Exception:
    if isinstance(exc, (TransientError, FatalLLMError)):
        return exc
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) if response is not None else None
    what = f"{provider} model {model!r}"
    if (isinstance(status, int) and status in (401, 403)) or "Authentication" in name or "PermissionDenied" in name:
        return AuthenticationFailedError(f"{what}: HTTP {status} (the provider refused the key: {_short(exc)})")
    if status in (None, 400, 500) and NO_KEY.search(str(exc)):
        return AuthenticationFailedError(f"{what}: no API key found ({name}: {_short(exc)})")
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or "ResponseValidation" in name \
            or "JSONDecode" in name:
        return TransientError(f"{what}: unparseable reply ({name})", status=status)
    if any(word in name for word in ("Timeout", "Connection", "ServiceUnavailable", "InternalServer",
                                     "Overloaded", "RateLimit")) or isinstance(exc, (TimeoutError, ConnectionError)):
        return TransientError(f"{what}: {name}: {_short(exc)}", status=status,
                              retry_after=parse_retry_after(headers))
    if isinstance(status, int) and status in RETRYABLE_STATUS | {s for s in range(500, 600)}:
        return TransientError(f"{what}: HTTP {status}: {_short(exc)}", status=status,
                              retry_after=parse_retry_after(headers))
    if isinstance(status, int) and status == 404:
        return LLMConfigError(f"{what}: HTTP 404 (unknown model or endpoint); fix: check model and base_url")
    if isinstance(status, int):
        return FatalLLMError(f"{what}: HTTP {status}: {_short(exc)}; fix: check the request options")
    if "APIError" in name or "APIStatus" in name:
        return TransientError(f"{what}: {name}: {_short(exc)}", status=status)
    return FatalLLMError(f"{what}: {name}: {_short(exc)}; fix: check the provider configuration")


def _short(exc: BaseException) -> str:
    return str(exc).replace("\n", " ")[:300]


class OpenAIProvider:
    """The OpenAI chat-completions API, or any compatible server (vLLM, Ollama...)."""

    name = "openai"

    def __init__(self, api_key: str, base_url: str | None, timeout_s: float) -> None:
        import openai

        self.base_url = base_url or ""
        self.secret = api_key
        self.timeout_s = timeout_s
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url or None, max_retries=0,
                                    timeout=timeout_s)

    def call(self, request: ChatRequest, timeout_s: float) -> Completion:
        kwargs: dict[str, Any] = {"model": request.model, "messages": request.messages,
                                  "temperature": request.temperature, "max_tokens": request.max_tokens}
        if request.seed is not None:
            kwargs["seed"] = request.seed
        kwargs.update(request.extra)
        try:
            if timeout_s != self.timeout_s:  # the client already carries the usual timeout
                kwargs["timeout"] = timeout_s
            resp = self.client.chat.completions.create(**kwargs)
            choice = resp.choices[0]
            usage = resp.usage
            return Completion(text=choice.message.content or "", finish_reason=choice.finish_reason or "",
                              input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                              output_tokens=getattr(usage, "completion_tokens", 0) or 0,
                              model=resp.model or request.model)
        except Exception as exc:  # noqa: BLE001 - classified
            raise classify(exc, self.name, request.model, self.secret) from None


class AnthropicProvider:
    """The Anthropic messages API."""

    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None, timeout_s: float) -> None:
        import anthropic

        import inspect

        self.base_url = base_url or ""
        self.secret = api_key
        self.timeout_s = timeout_s
        self.client = anthropic.Anthropic(api_key=api_key, base_url=base_url or None, max_retries=0,
                                          timeout=timeout_s)
        # recent SDKs dropped ``temperature`` from messages.create: send it only where accepted
        self.takes_temperature = "temperature" in inspect.signature(self.client.messages.create).parameters

    def call(self, request: ChatRequest, timeout_s: float) -> Completion:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [{"role": m["role"], "content": m["content"]} for m in request.messages if m["role"] != "system"]
        kwargs: dict[str, Any] = {"model": request.model, "messages": messages,
                                  "max_tokens": request.max_tokens}
        if self.takes_temperature:
            kwargs["temperature"] = request.temperature
        if system:
            kwargs["system"] = system
        kwargs.update(request.extra)
        try:
            if timeout_s != self.timeout_s:
                kwargs["timeout"] = timeout_s
            resp = self.client.messages.create(**kwargs)
            text = "".join(getattr(b, "text", "") for b in resp.content or [] if getattr(b, "type", "") == "text")
            return Completion(text=text, finish_reason=resp.stop_reason or "",
                              input_tokens=resp.usage.input_tokens or 0,
                              output_tokens=resp.usage.output_tokens or 0, model=resp.model or request.model)
        except Exception as exc:  # noqa: BLE001 - classified
            raise classify(exc, self.name, request.model, self.secret) from None


class LiteLLMProvider:
    """Anything LiteLLM reaches (``model = "openai/NAME"``, ``"anthropic/NAME"``, ``"ollama/NAME"``...).

    LiteLLM is imported on first use (it is slow to import) with its bundled price map, offline.
    """

    name = "litellm"

    def __init__(self, api_key: str, base_url: str | None, timeout_s: float) -> None:
        import os

        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        litellm.num_retries = 0
        litellm.suppress_debug_info = True
        self.litellm = litellm
        self.api_key = self.secret = api_key
        self.base_url = base_url or ""

    def call(self, request: ChatRequest, timeout_s: float) -> Completion:
        kwargs: dict[str, Any] = {"model": request.model, "messages": request.messages,
                                  "temperature": request.temperature, "max_tokens": request.max_tokens,
                                  "timeout": timeout_s, "num_retries": 0, "max_retries": 0}
        if self.api_key:
            kwargs["api_key"] = self.api_key
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if request.seed is not None and request.model.split("/", 1)[0] in ("openai", "gpt"):
            kwargs["seed"] = request.seed
        kwargs.update(request.extra)
        try:
            resp = self.litellm.completion(**kwargs)
            choice = resp.choices[0]
            usage = getattr(resp, "usage", None)
            return Completion(text=choice.message.content or "", finish_reason=choice.finish_reason or "",
                              input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                              output_tokens=getattr(usage, "completion_tokens", 0) or 0,
                              model=request.model)
        except Exception as exc:  # noqa: BLE001 - classified
            raise classify(exc, self.name, request.model, self.secret) from None

    def key_variables(self, model: str) -> list[str]:
        """The environment variables LiteLLM reads the key of ``model`` from (for messages)."""
        try:
            missing = self.litellm.validate_environment(model).get("missing_keys") or []
        except Exception:  # noqa: BLE001 - only for a message
            missing = []
        names = [n for n in missing if n.endswith(("_KEY", "_TOKEN"))]
        known = KEY_VARIABLES.get(model.split("/", 1)[0]) if "/" in model else None
        return names or ([known] if known else [])


PROVIDERS: dict[str, type] = {"openai": OpenAIProvider, "anthropic": AnthropicProvider, "litellm": LiteLLMProvider}
