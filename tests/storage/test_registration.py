"""The storage backends register by URL scheme, declare their extras, import lazily and
validate their options."""

from __future__ import annotations

import subprocess
import sys

import pytest

from darwin_core.config import ConfigError
from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage


def test_backends_are_registered_with_their_extras(plugin_manager: PluginManager) -> None:
    registry = plugin_manager.registries["storage"]
    for url, name, extra, module in [("mongodb://h/db", "mongodb", "mongodb", "pymongo"),
                                     ("mongodb+srv://h/db", "mongodb+srv", "mongodb", "pymongo"),
                                     ("s3://bucket/p", "s3", "s3", "boto3")]:
        spec = registry.for_url(url)
        assert (spec.name, spec.extra, spec.requires) == (name, extra, (module,))


def test_plugin_modules_import_no_client_library() -> None:
    code = ("import sys, darwin_plugins.mongo_storage, darwin_plugins.s3_storage, "
            "darwin_plugins.storage_conformance; "
            "print(sorted(m for m in ('pymongo', 'boto3', 'botocore') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("url", ["mongodb://127.0.0.1:1/db", "s3://bucket/prefix"])
def test_unknown_option_is_a_config_error(plugin_manager: PluginManager, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_storage(plugin_manager, url, {"endpoint": "x"})
    assert "endpoint" in str(info.value) and "timeout_s" in str(info.value)


def test_bad_urls_are_user_errors(plugin_manager: PluginManager) -> None:
    from darwin_hookspecs import UserError

    with pytest.raises(UserError, match="bucket"):
        open_storage(plugin_manager, "s3://x/prefix", {})
    with pytest.raises(UserError, match="database"):
        open_storage(plugin_manager, "mongodb://127.0.0.1:1/a.b", {"timeout_s": 0.5})
