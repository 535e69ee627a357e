"""The deployment files: the KubeRay RayJob manifest (structure, and its entrypoint's Darwin
settings) and the docs that show it."""

from __future__ import annotations

import re
import shlex

import yaml

from darwin_core.commands.preflight import check_options
from darwin_core.commands.settings import load_with_settings
from darwin_core.plugins import PluginManager

from support import REPO

MANIFEST = REPO / "ci" / "k8s" / "darwin-rayjob.yaml"


def test_rayjob_manifest_has_what_kuberay_requires() -> None:
    docs = list(yaml.safe_load_all(MANIFEST.read_text()))
    job = next(d for d in docs if d["kind"] == "RayJob")
    assert job["apiVersion"] == "ray.io/v1" and job["metadata"]["name"]
    spec = job["spec"]
    assert spec["entrypoint"].startswith("darwin run ") and spec["shutdownAfterJobFinishes"] is True
    cluster = spec["rayClusterSpec"]
    head = cluster["headGroupSpec"]
    assert isinstance(head["rayStartParams"], dict)
    assert all(isinstance(v, str) for v in head["rayStartParams"].values())  # KubeRay wants strings
    head_container = head["template"]["spec"]["containers"][0]
    assert head_container["image"].endswith("/darwin:latest")
    assert {p["containerPort"] for p in head_container["ports"]} >= {6379, 8265, 10001}
    for group in cluster["workerGroupSpecs"]:
        assert group["groupName"] and group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        assert isinstance(group["rayStartParams"], dict)
        assert group["template"]["spec"]["containers"][0]["image"] == head_container["image"]
    mounts = {m["name"] for m in head_container["volumeMounts"]}
    claims = {v["persistentVolumeClaim"]["claimName"] for v in head["template"]["spec"]["volumes"] if v["name"] in mounts}
    assert claims <= {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}


def test_rayjob_entrypoint_settings_validate() -> None:
    job = next(d for d in yaml.safe_load_all(MANIFEST.read_text()) if d["kind"] == "RayJob")
    argv = shlex.split(job["spec"]["entrypoint"])
    assert argv[:2] == ["darwin", "run"]
    config = REPO / argv[2].replace("/opt/darwin/", "")
    settings = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    cfg, base = load_with_settings(config, settings)
    assert cfg.executor.name == "ray" and cfg.executor.options["address"] == "auto"
    check_options(cfg, PluginManager())  # the ray executor accepts every option given


def test_scale_docs_show_the_shipped_manifest() -> None:
    text = (REPO / "docs" / "scale.md").read_text()
    block = re.search(r"<!-- file: ci/k8s/darwin-rayjob.yaml -->\n```yaml\n(.*?)```", text, re.S)
    assert block and block.group(1) == MANIFEST.read_text()
