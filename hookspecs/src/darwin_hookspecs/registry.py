"""Typed registries handed to the ``darwin_register_*`` hooks.

A plugin adds backends by name; the engine later looks them up by the name the config gives
(storage: by URL scheme). Factories should import heavy or optional dependencies lazily, inside
the factory, and declare them in ``requires`` so a missing one gives an install hint. Each
registry names the protocol its backends implement; the engine checks every backend it creates
against it (:func:`missing_members`) and names the plugin and what is missing.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Protocol, TypeVar

from .errors import MissingDependencyError, PluginError, UnknownBackendError
from .protocols import (
    Benchmark,
    BuildContext,
    Executor,
    Generator,
    Memory,
    Predictor,
    Sandbox,
    SelectionStrategy,
    Storage,
)

B = TypeVar("B")


@dataclass(frozen=True)
class BackendSpec(Generic[B]):
    """One registered backend.

    :param factory: ``factory(options, context: BuildContext) -> backend``.
    :param options: A pydantic model class (``extra="forbid"``) validating the backend's config
        keys, or ``None`` to receive them as a ``dict``.
    :param extra: The ``darwin[...]`` extra that installs the backend's dependencies.
    :param requires: Importable module names the backend needs (checked before the factory).
    """

    kind: str
    name: str
    factory: Callable[[Any, BuildContext], B]
    description: str = ""
    options: type | None = None
    extra: str | None = None
    requires: tuple[str, ...] = ()
    plugin: str = ""

    def missing_requirement(self) -> str | None:
        """The first required module that is not importable, or ``None``."""
        for module in self.requires:
            try:
                if importlib.util.find_spec(module) is None:
                    return module
            except (ImportError, ValueError):
                return module
        return None

    def check_available(self) -> None:
        missing = self.missing_requirement()
        if missing:
            raise MissingDependencyError(self.kind, self.name, missing, self.extra)


def protocol_members(protocol: type) -> list[str]:
    """The methods and attributes a :class:`typing.Protocol` class declares (its bases too)."""
    names: set[str] = set()
    for cls in protocol.__mro__:
        if cls in (Protocol, Generic, object) or not getattr(cls, "_is_protocol", False):
            continue
        names |= set(getattr(cls, "__annotations__", {}))
        names |= {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
    return sorted(n for n in names if not n.startswith("_"))


def missing_members(protocol: type, backend: object) -> list[str]:
    """What ``backend`` lacks of ``protocol``: absent attributes, and methods not callable."""
    missing = []
    for name in protocol_members(protocol):
        declared = getattr(protocol, name, None)  # a method; ``None`` for a declared attribute
        value = getattr(backend, name, _ABSENT)
        if value is _ABSENT or (callable(declared) and not callable(value)):
            missing.append(name)
    return missing


_ABSENT = object()


class Registry(Generic[B]):
    """Backends of one kind, by name."""

    kind: str = "backend"
    protocol: type | None = None
    """The protocol every backend of this kind implements."""

    def __init__(self) -> None:
        self._specs: dict[str, BackendSpec[B]] = {}
        self.current_plugin = ""  # set by the plugin manager while a plugin registers

    def add(
        self,
        name: str,
        factory: Callable[[Any, BuildContext], B],
        *,
        description: str = "",
        options: type | None = None,
        extra: str | None = None,
        requires: tuple[str, ...] | list[str] = (),
    ) -> None:
        """Register ``factory`` under ``name``. Registering a taken name is an error."""
        key = self._normalise(name)
        if key in self._specs:
            other = self._specs[key].plugin
            raise PluginError(
                f"{self.kind} backend {name!r} registered twice (by {other!r} and "
                f"{self.current_plugin!r}); fix: uninstall or disable one of them "
                "(DARWIN_DISABLE_PLUGINS)"
            )
        self._specs[key] = BackendSpec(
            kind=self.kind,
            name=key,
            factory=factory,
            description=description,
            options=options,
            extra=extra,
            requires=tuple(requires),
            plugin=self.current_plugin,
        )

    def get(self, name: str) -> BackendSpec[B]:
        """The spec registered under ``name``; :class:`UnknownBackendError` lists the others."""
        try:
            return self._specs[self._normalise(name)]
        except KeyError:
            raise UnknownBackendError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> list[BackendSpec[B]]:
        return [self._specs[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalise(name) in self._specs

    @staticmethod
    def _normalise(name: str) -> str:
        return name.strip().lower()


class GeneratorRegistry(Registry[Generator]):
    kind = "generator"
    protocol = Generator


class SandboxRegistry(Registry[Sandbox]):
    kind = "sandbox"
    protocol = Sandbox


class BenchmarkRegistry(Registry[Benchmark]):
    kind = "benchmark"
    protocol = Benchmark


class StorageRegistry(Registry[Storage]):
    """Storage backends, registered by URL scheme (``file``, ``mongodb``, ``s3``).

    The factory is called like any other, ``factory(options, context)``; the options always
    carry the ``url`` (a ``url`` field of the options model, or the ``"url"`` key of the dict).
    """

    kind = "storage"
    protocol = Storage

    @staticmethod
    def scheme_of(url: str) -> str:
        """The backend name ``url`` selects: its scheme (``file`` when it has none), normalised."""
        return Registry._normalise(url.split("://", 1)[0] if "://" in url else "file")

    def for_url(self, url: str) -> BackendSpec[Storage]:
        return self.get(self.scheme_of(url))


class PredictorRegistry(Registry[Predictor]):
    kind = "predictor"
    protocol = Predictor


class ExecutorRegistry(Registry[Executor]):
    kind = "executor"
    protocol = Executor


class SelectorRegistry(Registry[SelectionStrategy]):
    kind = "selection"
    protocol = SelectionStrategy


class MemoryRegistry(Registry[Memory]):
    """Memory backends, picked by ``[memory] name`` (at most one per run)."""

    kind = "memory"
    protocol = Memory


REGISTRY_TYPES: dict[str, type[Registry[Any]]] = {
    cls.kind: cls
    for cls in (
        GeneratorRegistry,
        SandboxRegistry,
        BenchmarkRegistry,
        StorageRegistry,
        PredictorRegistry,
        ExecutorRegistry,
        SelectorRegistry,
        MemoryRegistry,
    )
}
"""Every backend kind and its registry class."""
