"""Embed Darwin in research code through the Python API.

Runs a short search over the quickstart program with a custom observer plugin that records
every accepted child, then prints the lineage of the best variant and its diff.

    python examples/embed/embed.py [RUN_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from darwin_core import Engine, config_from_dict
from darwin_hookspecs import RunInfo, Variant, hookimpl

QUICKSTART = Path(__file__).resolve().parents[1] / "quickstart"


class AcceptedLog:
    """A throwaway observer: any object with @hookimpl methods is a plugin."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, float]] = []

    @hookimpl
    def darwin_variant_accepted(self, run: RunInfo, variant: Variant) -> None:
        self.accepted.append((variant.id, variant.score))


def main(run_dir: Path) -> int:
    config = config_from_dict(
        {
            "run": {"name": "embedded", "seed": 3, "initial": "program", "generations": 5,
                    "children_per_generation": 4},
            "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
            "executor": {"name": "local", "max_workers": 2},
        },
        source=QUICKSTART / "darwin.toml",  # relative paths resolve against the example
    )
    observer = AcceptedLog()
    engine = Engine.create(config, run_dir, extra_plugins=[observer])
    summary = engine.run_loop()
    best = engine.archive.best
    print(f"accepted {len(observer.accepted)} children; score {summary.initial_score:.3f} -> {summary.best_score:.3f}")
    if best is not None:
        print("lineage:", " -> ".join(engine.archive.lineage(best.id)))
        if best.patch_ref:
            print(engine.store.get_blob(best.patch_ref).decode())
    return 0


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="darwin-embed-")) / "run"
    sys.exit(main(target))
