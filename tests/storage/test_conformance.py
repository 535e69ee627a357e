"""The conformance suite (darwin_plugins.storage_conformance) on file://, mongodb:// and s3://,
each against a real server (see conftest.py)."""

from darwin_plugins.storage_conformance import StorageConformance


class TestStorageConformance(StorageConformance):
    """Every test of the suite, once per backend (the ``backend`` fixture's params)."""
