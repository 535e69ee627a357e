"""Container sandboxes (``docker``, ``podman``) over a Docker-compatible engine API."""
