"""The plugins of Darwin's plugin-author tutorial (docs/plugins.md): one of each kind."""
