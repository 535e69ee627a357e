"""The plugins a read-only command needs: ``darwin status``, ``archive``, ``show`` and
:func:`darwin_core.open_run` build only the run's storage backend and its selection strategy
(for the population line), so they import only the built-in plugins that provide those two.

Which built-in provides which backend is written down in :data:`BUILTIN_BACKENDS` (a test keeps
it equal to what the built-ins register). A backend no built-in provides (a third-party plugin),
or a providing built-in that is disabled, falls back to every installed plugin, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import DarwinConfig
    from .plugins import PluginManager

BUILTIN_BACKENDS: dict[tuple[str, str], str] = {
    ("storage", "file"): "darwin-file-storage",
    ("storage", "mongodb"): "darwin-mongo-storage",
    ("storage", "mongodb+srv"): "darwin-mongo-storage",
    ("storage", "s3"): "darwin-s3-storage",
    ("selection", "best"): "darwin-selection",
    ("selection", "islands"): "darwin-selection",
    ("selection", "latest"): "darwin-selection",
    ("selection", "map_elites"): "darwin-selection",
    ("selection", "random"): "darwin-selection",
    ("selection", "score_child_prop"): "darwin-selection",
    ("selection", "score_child_prop_mad"): "darwin-selection",
    ("selection", "score_prop"): "darwin-selection",
    ("selection", "cmp"): "darwin-cmp-selection",
}
"""``(kind, name) -> built-in plugin`` for the kinds a reader builds (storage by URL scheme)."""


def reader_plugins(config: "DarwinConfig", storage_url: str) -> "PluginManager":
    """A plugin manager with the built-ins providing the run's storage and selection backends
    only (no entry-point scan), or every installed plugin when a built-in does not provide them."""
    from darwin_hookspecs.registry import StorageRegistry

    from .plugins import DEFAULT_PLUGINS, PluginManager, disabled_names

    wanted = [("storage", StorageRegistry.scheme_of(storage_url)),
              ("selection", config.selection.name.strip().lower())]
    names = {BUILTIN_BACKENDS.get(key) for key in wanted}
    if None in names or names & disabled_names(config.plugins.disable):
        return PluginManager(disable=config.plugins.disable)
    return PluginManager(defaults=[(n, m) for n, m in DEFAULT_PLUGINS if n in names], load_entry_points=False)
