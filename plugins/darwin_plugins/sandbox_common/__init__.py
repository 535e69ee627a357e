"""What the sandboxes (``local``, ``docker``, ``podman``) share: moving a working copy out of
untrusted hands (:mod:`.transfer`) and reaping what a dead orchestrator left (:mod:`.reaping`).
Standard library only."""
