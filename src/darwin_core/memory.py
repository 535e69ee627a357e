"""The run's ``[memory]`` backend, attached to the memory hooks.

The engine calls only the hooks ``darwin_memory_retrieve`` (before an attempt is shipped) and
``darwin_memory_record`` (after its child is recorded). The configured memory backend is one
more implementation of them, registered for the length of the run: its hints come first, then
those of plugins implementing the hooks directly. One path, whichever way a plugin remembers.
"""

from __future__ import annotations

from darwin_hookspecs import Attempt, BuildContext, Memory, RunInfo, Target, Variant, hookimpl

from .config import DarwinConfig
from .plugins import PluginManager

PLUGIN_NAME = "darwin-memory"
"""The name the attached backend has in the run's plugin manager."""


class MemoryHooks:
    """The memory hooks, answered by one :class:`~darwin_hookspecs.Memory` backend."""

    def __init__(self, backend: Memory) -> None:
        self.backend = backend

    @hookimpl
    def darwin_memory_retrieve(self, run: RunInfo, parent: Variant, target: Target) -> list[str] | None:
        return list(self.backend.retrieve(run, parent, target)) or None

    @hookimpl
    def darwin_memory_record(self, run: RunInfo, attempt: Attempt, parent: Variant, child: Variant) -> None:
        self.backend.record(run, attempt, parent, child)


def attach_memory(plugins: PluginManager, config: DarwinConfig, context: BuildContext) -> Memory | None:
    """Build the ``[memory]`` backend (none when the section is absent) and attach it to the
    memory hooks until :func:`detach_memory`."""
    if config.memory is None:
        return None
    backend = plugins.create("memory", config.memory.name, config.memory.options, context)
    plugins.register(MemoryHooks(backend), name=PLUGIN_NAME)
    return backend


def detach_memory(plugins: PluginManager) -> None:
    """Undo :func:`attach_memory` (nothing when no backend is attached)."""
    if plugins.pm.has_plugin(PLUGIN_NAME):
        plugins.pm.unregister(name=PLUGIN_NAME)
        plugins.infos.pop(PLUGIN_NAME, None)
