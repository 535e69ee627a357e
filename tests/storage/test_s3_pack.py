"""S3 scans read packed copies of records when they are current, and their own objects otherwise."""

from __future__ import annotations

import json
from typing import Any

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage


def _get_counter(storage: Any) -> list[str]:
    calls: list[str] = []
    storage._client.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: calls.append(params.get("url_path", "")))
    return calls


def test_packed_scan_is_a_few_gets_and_never_stale(s3_server: Any, s3_bucket: str,
                                                   plugin_manager: PluginManager) -> None:
    url, options = f"s3://{s3_bucket}/packed", {"endpoint_url": s3_server.endpoint}
    storage = open_storage(plugin_manager, url, options)
    truth = {f"v{i:04d}": {"i": i, "text": "x" * (i % 50)} for i in range(120)}
    versions = {k: storage.put_record("variants", k, v) for k, v in truth.items()}
    gets = _get_counter(storage)
    assert {k: v for k, v, _ in storage.scan("variants")} == truth
    assert len(gets) == 120  # the first scan reads every record, then packs them

    reader = open_storage(plugin_manager, url, options)  # another process, as `darwin status`
    gets = _get_counter(reader)
    scanned = list(reader.scan("variants"))
    assert [(k, v, ver) for k, v, ver in scanned] == [(k, truth[k], versions[k]) for k in sorted(truth)]
    assert len(gets) <= 2, gets  # the pack (and nothing per record)

    for k in ("v0003", "v0050"):  # replaced, added and damaged records are read from their objects
        truth[k] = {"i": -1, "replaced": True}
        versions[k] = storage.put_record("variants", k, truth[k], if_version=versions[k])
    truth["v9999"] = {"new": True}
    storage.put_record("variants", "v9999", truth["v9999"])
    gets.clear()
    assert {k: v for k, v, _ in reader.scan("variants")} == truth
    assert len(gets) <= 1 + 3, gets

    # a pack whose copy does not match the object's ETag is ignored
    client = s3_server.client()
    pack = next(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket, Prefix="packed/packs/")["Contents"])
    entries = json.loads(client.get_object(Bucket=s3_bucket, Key=pack)["Body"].read())["records"]
    entries["v0007"][1] = json.dumps({"i": 7000, "forged": True})
    client.put_object(Bucket=s3_bucket, Key=pack, Body=json.dumps({"records": entries}).encode())
    assert dict((k, v) for k, v, _ in reader.scan("variants"))["v0007"] == truth["v0007"]
    storage.close()
    reader.close()


def test_the_writer_packs_its_records_so_a_first_scan_reads_packs(s3_server: Any, s3_bucket: str,
                                                                  plugin_manager: PluginManager) -> None:
    from darwin_plugins.s3_pack import WRITE_PACK

    url, options = f"s3://{s3_bucket}/written", {"endpoint_url": s3_server.endpoint}
    writer = open_storage(plugin_manager, url, options)
    truth = {f"a{i:04d}": {"i": i} for i in range(WRITE_PACK + 40)}
    versions = {k: writer.put_record("attempts", k, v) for k, v in truth.items()}
    truth["a0001"] = {"i": 1, "status": "finished"}  # replaced after it was packed
    versions["a0001"] = writer.put_record("attempts", "a0001", truth["a0001"], if_version=versions["a0001"])
    writer.close()  # the last ones are packed at close
    reader = open_storage(plugin_manager, url, options)
    gets = _get_counter(reader)
    scanned = list(reader.scan("attempts"))
    assert scanned == [(k, truth[k], versions[k]) for k in sorted(truth)]
    assert len(gets) <= 2 + 1, gets  # two packs, and a0001 whose first copy is stale (or none)
    reader.close()
