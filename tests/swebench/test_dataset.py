"""Loading SWE-bench instances: files, subsets, bad input, the lazy Hugging Face path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from darwin_hookspecs import UserError

from darwin_plugins.swebench.dataset import load_instances

ALL = ["darwin-examples__calc-1", "darwin-examples__textkit-1", "darwin-examples__shapes-1",
       "darwin-examples__clock-1"]


def test_jsonl_and_json_load_alike(swe_dataset: Path, tmp_path: Path) -> None:
    rows = load_instances("instances.jsonl", base_dir=swe_dataset)
    assert [r["instance_id"] for r in rows] == ALL
    assert rows[0]["FAIL_TO_PASS"] == ["tests/test_ops.py::test_add"]  # JSON-encoded in the file
    as_json = tmp_path / "instances.json"
    raw = [json.loads(x) for x in (swe_dataset / "instances.jsonl").read_text().splitlines()]
    as_json.write_text(json.dumps(raw))
    assert load_instances(str(as_json), base_dir=tmp_path) == rows


def test_subsets_by_ids_and_by_file(swe_dataset: Path, tmp_path: Path) -> None:
    ids = load_instances("instances.jsonl", base_dir=swe_dataset,
                         instance_ids=["darwin-examples__shapes-1", "darwin-examples__calc-1"])
    assert [r["instance_id"] for r in ids] == ["darwin-examples__calc-1", "darwin-examples__shapes-1"]
    text = tmp_path / "small.txt"
    text.write_text("# DGM-style subset\ndarwin-examples__clock-1\n\n darwin-examples__textkit-1 # x\n")
    rows = load_instances(str(swe_dataset / "instances.jsonl"), base_dir=tmp_path,
                          instance_ids_file=Path("small.txt"))
    assert [r["instance_id"] for r in rows] == ["darwin-examples__textkit-1", "darwin-examples__clock-1"]
    as_list = tmp_path / "small.json"
    as_list.write_text(json.dumps(["darwin-examples__calc-1"]))
    rows = load_instances(str(swe_dataset / "instances.jsonl"), base_dir=tmp_path,
                          instance_ids_file=as_list)
    assert [r["instance_id"] for r in rows] == ["darwin-examples__calc-1"]


def test_bad_input_names_cause_and_fix(swe_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no instance 'nope'.*fix"):
        load_instances("instances.jsonl", base_dir=swe_dataset, instance_ids=["nope"])
    broken = tmp_path / "broken.jsonl"
    lines = (swe_dataset / "instances.jsonl").read_text().splitlines()
    broken.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(UserError, match=r"broken.jsonl:2: not valid JSON"):
        load_instances(str(broken), base_dir=tmp_path)
    row = json.loads(lines[0])
    del row["test_patch"]
    missing = tmp_path / "missing.jsonl"
    missing.write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"'darwin-examples__calc-1' lacks test_patch"):
        load_instances(str(missing), base_dir=tmp_path)
    with pytest.raises(UserError, match="dataset file not found"):
        load_instances("absent.jsonl", base_dir=tmp_path)
    twice = tmp_path / "twice.jsonl"
    twice.write_text(lines[0] + "\n" + lines[0] + "\n")
    with pytest.raises(UserError, match="appears twice"):
        load_instances(str(twice), base_dir=tmp_path)


HUB = """
import sys
from darwin_hookspecs import UserError
from darwin_plugins.swebench.dataset import load_instances
if sys.argv[1] == "no-datasets":
    sys.modules["datasets"] = None  # as if the package were not installed
try:
    load_instances("SWE-bench/SWE-bench_Lite", base_dir=__import__("pathlib").Path("."))
except UserError as exc:
    print(exc)
    sys.exit(2)
"""


@pytest.mark.parametrize("case, message", [
    ("no-datasets", "needs the `datasets` package"),
    ("offline", "could not be loaded from Hugging Face"),
])
def test_hugging_face_name_is_lazy_with_a_clear_error(tmp_path: Path, case: str, message: str) -> None:
    """A dataset name is fetched only when asked for; offline (never reaching the internet
    here) or without `datasets` the error says how to fix it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", HUB, case], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stdout and "fix:" in proc.stdout


def test_swebench_plugin_is_listed(darwin_cli) -> None:
    proc = darwin_cli("plugins")
    assert proc.returncode == 0
    assert "swebench" in proc.stdout


def test_run_with_a_missing_dataset_fails_clearly(tmp_path: Path, darwin_cli) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "agent.py").write_text("print('hi')\n")
    config = tmp_path / "darwin.toml"
    config.write_text('[run]\ninitial = "agent"\ngenerations = 1\n'
                      '[benchmark]\nname = "swebench"\ndataset = "nowhere.jsonl"\n')
    proc = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2
    assert "nowhere.jsonl: dataset file not found" in proc.stderr


def test_missing_image_without_repos_names_what_was_looked_for(make_benchmark) -> None:
    bench = make_benchmark(repos_dir=None)
    with pytest.raises(UserError) as exc:
        bench.image_for("darwin-examples__calc-1")
    text = str(exc.value)
    assert "swebench/sweb.eval.x86_64.darwin-examples_1776_calc-1:latest" in text
    assert "repos_dir" in text


PARQUET = """
import json, sys
from pathlib import Path
import datasets
rows = [json.loads(line) for line in open(sys.argv[1])]
datasets.Dataset.from_list(rows).to_parquet("test.parquet")
from darwin_plugins.swebench.dataset import load_instances
loaded = load_instances("test.parquet", base_dir=Path("."))
print(json.dumps({"ids": [r["instance_id"] for r in loaded], "f2p": loaded[0]["FAIL_TO_PASS"]}))
"""


def test_parquet_export_loads(swe_dataset: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", PARQUET, str(swe_dataset / "instances.jsonl")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == {"ids": ALL, "f2p": ["tests/test_ops.py::test_add"]}


def test_unreachable_docker_fails_the_run_clearly(tmp_path: Path, darwin_cli, swe_dataset) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "agent.py").write_text("print('hi')\n")
    config = tmp_path / "darwin.toml"
    config.write_text(
        '[run]\ninitial = "agent"\ngenerations = 1\n[benchmark]\nname = "swebench"\n'
        f'dataset = "{swe_dataset / "instances.jsonl"}"\n'
        'docker_host = "unix:///nonexistent/docker.sock"\n')
    proc = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q")
    assert proc.returncode == 6, proc.stderr[-2000:]
    assert "no Docker daemon answers at unix:///nonexistent/docker.sock" in proc.stderr
    assert "fix:" in proc.stderr
