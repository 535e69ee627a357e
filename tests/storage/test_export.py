"""`darwin export`: a run copied file -> mongodb -> s3 -> file stays the same run."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Callable

from support import quick_config


def test_export_round_trips_across_backends(
    quickstart: Path, darwin_app: Callable[..., Any], storage_url: Callable[..., Any],
) -> None:
    config = quick_config(quickstart, generations=2, children_per_generation=2)
    original = quickstart / "run"
    assert darwin_app("run", str(config), "--run-dir", str(original), "-q").returncode == 0

    mongo_url, _ = storage_url("mongodb", f"exp-{uuid.uuid4().hex[:6]}")
    s3_url, s3_options = storage_url("s3", f"exp-{uuid.uuid4().hex[:6]}")
    endpoint = f"endpoint_url={s3_options['endpoint_url']}"
    file_url = (quickstart / "copy-store").as_uri()

    hops = [
        (str(original), mongo_url, [], "in-mongo"),
        (str(quickstart / "in-mongo"), s3_url, ["--to-option", endpoint], "in-s3"),
        (s3_url, file_url, ["--from-option", endpoint], "back-on-disk"),  # a URL as the source
    ]
    for source, dest, extra, run_dir in hops:
        done = darwin_app("export", source, "--to", dest, *extra, "--run-dir", str(quickstart / run_dir))
        assert done.returncode == 0, done.stderr
        assert "verified identical" in done.stdout and "0 already there" in done.stdout

    def archive(run_dir: Path) -> Any:
        done = darwin_app("archive", str(run_dir), "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    rows = archive(original)
    assert len(rows) == 5
    assert archive(quickstart / "back-on-disk") == rows
    status = json.loads(darwin_app("status", str(quickstart / "in-s3"), "--json").stdout)
    assert status["storage"] == s3_url and status["variants"] == 5 and status["status"] == "completed"

    # exporting again is idempotent; exporting over another run is refused, changing nothing
    again = darwin_app("export", str(original), "--to", mongo_url)
    assert again.returncode == 0 and "0 records" in again.stdout, again.stderr
    other = quick_config(quickstart, generations=1, children_per_generation=1, name="other")
    assert darwin_app("run", str(other), "--run-dir", str(quickstart / "other"), "-q").returncode == 0
    refused = darwin_app("export", str(quickstart / "other"), "--to", mongo_url)
    assert refused.returncode == 2 and "already holds run" in refused.stderr, refused.stderr
    assert archive(quickstart / "in-mongo") == rows
