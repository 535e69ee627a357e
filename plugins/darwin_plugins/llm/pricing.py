"""Dollar prices per token: from config, else from LiteLLM's bundled price map (offline).

The map is read as the JSON file LiteLLM ships, without importing LiteLLM (which is slow and
would fetch the map from the internet unless ``LITELLM_LOCAL_MODEL_COST_MAP=True``).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

MAP_FILE = "model_prices_and_context_window_backup.json"


@functools.lru_cache(maxsize=1)
def bundled_price_map() -> dict[str, Any]:
    """LiteLLM's bundled map, or ``{}`` when LiteLLM is not installed."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return {}
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / MAP_FILE
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
    return {}


def price_per_token(model: str, provider: str, price_in_mtok: float | None = None,
                    price_out_mtok: float | None = None) -> tuple[float, float]:
    """``(input, output)`` dollars per token; config prices (per million tokens) win."""
    if price_in_mtok is not None or price_out_mtok is not None:
        return (price_in_mtok or 0.0) / 1e6, (price_out_mtok or 0.0) / 1e6
    table = bundled_price_map()
    names = [model, model.split("/", 1)[-1], f"{provider}/{model}"]
    for name in names:
        row = table.get(name)
        if isinstance(row, dict) and "input_cost_per_token" in row:
            return float(row.get("input_cost_per_token") or 0.0), float(row.get("output_cost_per_token") or 0.0)
    return 0.0, 0.0
