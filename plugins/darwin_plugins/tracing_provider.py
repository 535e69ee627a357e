"""Which OpenTelemetry tracer provider the tracing plugin (:mod:`darwin_plugins.tracing`) uses:
the one an application installed, or one built as the standard OTel environment asks
(``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT``, ``OTEL_SDK_DISABLED``), or
none. OpenTelemetry is imported only when one of those can apply.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from darwin_hookspecs import UserError

_ASKING = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def _export_asked() -> bool:
    return any(os.environ.get(name, "").strip() for name in _ASKING)


def provider_from_environment() -> Any:
    """A tracer provider as the standard OTel environment asks, or ``None`` (no tracing)."""
    if "opentelemetry.trace" not in sys.modules and not _export_asked():
        return None  # no application installed a provider, none is asked for: OTel is not even imported
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    current = trace.get_tracer_provider()
    if type(current).__name__ not in ("ProxyTracerProvider", "NoOpTracerProvider"):
        return current  # installed by the application (or opentelemetry-instrument)
    names = [n.strip().lower() for n in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not names and (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        names = ["otlp"]
    names = [n for n in names if n != "none"]
    if not names:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        raise UserError(
            "OTEL_TRACES_EXPORTER is set but the OpenTelemetry SDK is missing; "
            "fix: pip install 'darwin[otel]' or unset OTEL_TRACES_EXPORTER"
        ) from None
    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "darwin")}))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, ConsoleSpanExporter)))
    return provider


def _exporter(name: str, console: Any) -> Any:
    if name == "console":
        return console()
    if name == "otlp":
        protocol = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                    or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf")
        try:
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            package = "opentelemetry-exporter-otlp-proto-" + ("grpc" if protocol == "grpc" else "http")
            raise UserError(
                f"OTLP export ({protocol}) needs {package}; fix: pip install 'darwin[otel]' "
                f"(http) or pip install {package}"
            ) from None
        return OTLPSpanExporter()
    raise UserError(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported by darwin's tracing plugin; "
        "fix: use otlp, console or none"
    )
