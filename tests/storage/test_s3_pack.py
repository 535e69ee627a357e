"""S3 scans read packed copies of records when they are current, and their own objects otherwise."""

from __future__ import annotations

import json
from typing import Any

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage


def _get_counter(storage: Any) -> list[str]:
    """GETs of records and packs (a scan's one GET of ``sessions/<collection>.json`` left out)."""
    calls: list[str] = []
    storage._client.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: calls.append(params.get("url_path", ""))
        if "/sessions/" not in params.get("url_path", "") else None)
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
    # the complete pack of this seal (none yet), two packs, and a0001 whose first copy is stale (or none)
    assert len(gets) <= 1 + 2 + 1, gets
    reader.close()


def _list_counter(storage: Any) -> list[str]:
    calls: list[str] = []
    storage._client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda params, **_: calls.append(params["query_string"].get("prefix", "")))
    return calls


def test_a_scan_lists_no_record_while_no_writer_came_since_a_complete_scan(
        s3_server: Any, s3_bucket: str, plugin_manager: PluginManager) -> None:
    url, options = f"s3://{s3_bucket}/sealed", {"endpoint_url": s3_server.endpoint}
    writer = open_storage(plugin_manager, url, options)
    truth = {f"v{i:04d}": {"i": i} for i in range(80)}
    versions = {k: writer.put_record("variants", k, v) for k, v in truth.items()}
    open_reader = open_storage(plugin_manager, url, options)
    lists = _list_counter(open_reader)
    assert [(k, v) for k, v, _ in open_reader.scan("variants")] == sorted(truth.items())
    assert any("records/" in p for p in lists)  # a writer is open: the records are listed
    writer.close()

    first = open_storage(plugin_manager, url, options)  # lists once, writes the complete pack
    assert [(k, v, ver) for k, v, ver in first.scan("variants")] == [(k, truth[k], versions[k]) for k in sorted(truth)]
    lists = _list_counter(first)
    assert [(k, v, ver) for k, v, ver in first.scan("variants")] == [(k, truth[k], versions[k]) for k in sorted(truth)]
    assert not any("records/" in p for p in lists), lists  # the complete pack alone

    later = open_storage(plugin_manager, url, options)  # a new writer: its session changes the seal
    truth["v0003"] = {"i": -3}
    later.put_record("variants", "v0003", truth["v0003"], if_version=versions["v0003"])
    truth["v0003a"] = {"late": True}  # a key inside the packed range
    later.put_record("variants", "v0003a", truth["v0003a"])
    assert {k: v for k, v, _ in first.scan("variants")} == truth
    later.close()
    assert {k: v for k, v, _ in first.scan("variants")} == truth
    lists.clear()
    assert {k: v for k, v, _ in first.scan("variants")} == truth
    assert not any("records/" in p for p in lists), lists
    first.close()
    open_reader.close()


def test_a_session_a_dead_writer_left_open_is_sealed_by_the_next_lease_holder(
        s3_server: Any, s3_bucket: str, plugin_manager: PluginManager) -> None:
    url, options = f"s3://{s3_bucket}/crashed", {"endpoint_url": s3_server.endpoint}
    dead = open_storage(plugin_manager, url, options)
    dead.put_record("attempts", "a1", {"status": "running"})  # never closed: its session stays open
    resumed = open_storage(plugin_manager, url, options)
    resumed.acquire_lease("resume", ttl_s=30)
    _, version = resumed.get_record("attempts", "a1")
    resumed.put_record("attempts", "a1", {"status": "finished"}, if_version=version)
    resumed.close()
    reader = open_storage(plugin_manager, url, options)
    assert [(k, v) for k, v, _ in reader.scan("attempts")] == [("a1", {"status": "finished"})]
    lists = _list_counter(reader)
    assert [(k, v) for k, v, _ in reader.scan("attempts")] == [("a1", {"status": "finished"})]
    assert not any("records/" in p for p in lists), lists
    reader.close()
