"""Darwin's built-in backends. Each module is a plugin registered through the ``darwin``
entry-point group, exactly as a third-party plugin would be."""
