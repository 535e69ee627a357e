"""The pluggy markers of the ``darwin`` project."""

import pluggy

PROJECT_NAME = "darwin"
"""The pluggy project name, also the entry-point group plugins are published under."""

ENTRY_POINT_GROUP = PROJECT_NAME

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (for the contract only)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a hook implementation: decorate your plugin's ``darwin_*`` functions with it."""
