"""``--set KEY=VALUE``: override config values from the command line (``run`` and ``resume``).

The config is validated first as it is (errors name its file), then with the overrides applied
(errors name ``--set``), so a bad key is always blamed on where it came from.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from darwin_hookspecs import UserError

from ..config import ConfigError, DarwinConfig, config_from_dict, format_validation_error, tomllib

SOURCE = "--set"


def parse_setting(setting: str) -> tuple[list[str], Any]:
    """``"budget.usd=5"`` -> ``(["budget", "usd"], 5)``: a dotted key and a TOML value (a bare
    word is a string)."""
    key, sep, raw = setting.partition("=")
    parts = [p.strip() for p in key.split(".")]
    if not sep or not all(parts):
        raise UserError(f"--set {setting!r}: expected KEY=VALUE; fix: e.g. --set budget.usd=5")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_settings(data: dict[str, Any], settings: list[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``KEY=VALUE`` of ``settings`` applied, in order."""
    result = copy.deepcopy(data)
    for setting in settings:
        parts, value = parse_setting(setting)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"--set {setting!r}: {part!r} is not a section; fix: check the key")
        node[parts[-1]] = value
    return result


def validate_settings(data: dict[str, Any], settings: list[str], source: Path | None) -> DarwinConfig:
    """Validate ``data`` (from ``source``), then ``data`` with ``settings``; the second
    validation's errors name ``--set`` and the settings given."""
    config_from_dict(copy.deepcopy(data), source=source)
    merged = apply_settings(data, settings)
    if "source" in merged:
        raise ConfigError(f"{SOURCE}: unknown key 'source' at top level; fix: remove it")
    try:
        config = DarwinConfig.model_validate(merged)
    except ValidationError as exc:
        given = " ".join(settings)
        raise ConfigError(format_validation_error(exc, f"{SOURCE} ({given})", DarwinConfig)) from None
    config.source = source
    return config


def config_data(config: DarwinConfig) -> dict[str, Any]:
    """The JSON form of a config (what a run records)."""
    return json.loads(json.dumps(config.model_dump(mode="json", exclude={"source"})))


def load_with_settings(path: Path, settings: list[str]) -> tuple[DarwinConfig, DarwinConfig]:
    """``(config, base)``: the config file at ``path`` with ``settings`` applied, and as written
    (``darwin run --set``; the base lets backend options be blamed on the right source)."""
    from ..config import load_config

    base = load_config(path)
    if not settings:
        return base, base
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return validate_settings(raw, settings, base.source), base
