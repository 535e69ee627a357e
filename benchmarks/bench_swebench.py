"""Speed of SWE-bench grading through Docker, measured side by side in one run.

    DARWIN_DOCKER_HOST=unix:///var/run/docker.sock .venv/bin/python benchmarks/bench_swebench.py

Grades the gold patch of every instance of the project's tiny dataset (4 instances):
  cold      images built offline first (a fresh recipe forces the builds)
  warm      images already built (the usual case inside a run)
  warm x2   the same with workers = 2
and, for comparison, one bare `docker run --rm` of the base image. Prints seconds and ratios.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from darwin_hookspecs import BuildContext

from darwin_core.plugins import PluginManager

REPO = Path(__file__).resolve().parents[1]
BASE_IMAGE = "darwin-sandbox-pytest:latest"


def dataset(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_dataset", REPO / "examples" / "swebench_agent" / "make_dataset.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.build(out)


def benchmark(path: Path, out: Path, marker: str, workers: int):
    options = {"dataset": str(path), "repos_dir": str(path.parent / "repos"), "base_image": BASE_IMAGE,
               "output_dir": str(out), "setup_commands": [f"echo {marker} > /tmp/recipe"],
               "memory_mb": 512, "workers": workers}
    return PluginManager().create("benchmark", "swebench", options, BuildContext(run_id="bench"))


def grade_all(bench, workers: int) -> float:
    rows = [json.loads(x) for x in Path(bench.options.dataset).read_text().splitlines()]
    preds = [{"instance_id": r["instance_id"], "model_name_or_path": "gold", "model_patch": r["patch"]}
             for r in rows]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(lambda p: bench.grade_prediction(p).status, preds))
    elapsed = time.perf_counter() - started
    assert statuses.count("resolved") >= 3, statuses  # clock-1 is flaky by design
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = dataset(Path(tmp) / "ds")
        marker = uuid.uuid4().hex
        from darwin_plugins.swebench.harness import official

        official()  # import the official harness once, outside the timings
        first = benchmark(path, Path(tmp) / "o1", marker, 1)
        cold = grade_all(first, 1)
        warm = grade_all(benchmark(path, Path(tmp) / "o2", marker, 1), 1)
        warm2 = grade_all(benchmark(path, Path(tmp) / "o3", marker, 2), 2)
        t0 = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", "--network", "none", BASE_IMAGE, "true"], check=True)
        bare = time.perf_counter() - t0
        for iid in first.by_id:  # the images built for this measurement only
            first.client().images.remove(first.image_for(iid), force=True)
    n = 4
    print(f"instances: {n}")
    print(f"cold (build images + grade): {cold:6.2f} s  ({cold / n:.2f} s/instance)")
    print(f"warm (grade only)          : {warm:6.2f} s  ({warm / n:.2f} s/instance)")
    print(f"warm, workers=2            : {warm2:6.2f} s  ({warm2 / n:.2f} s/instance)")
    print(f"bare docker run --rm       : {bare:6.2f} s")
    print(f"ratio cold / warm          : {cold / warm:.2f}x")
    print(f"ratio warm / warm x2       : {warm / warm2:.2f}x")
    print(f"ratio warm per instance / bare docker run: {warm / n / bare:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
