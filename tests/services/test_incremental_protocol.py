"""The saved-source watermark protocol step by step, without an engine: import jobs answered by botocore's
Stubber on a real boto3 client (so every request and answer is checked against AWS's shapes), MongoDB
by mongomock, files in a temporary folder. `test_incremental.py` drives the same protocol end to end
against the engine; these tests pin each step's edge cases. Written from the survivors of
`python -m bench.mutation --module incremental` and `--module saved_sources`."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import mongomock
import pytest
from botocore.stub import Stubber

from services.data import imports
from services.data.sources import incremental, saved

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"
JOB = "arn:aws:personalize:us-east-1:123456789012:dataset-import-job/{}"


def personalize() -> tuple[object, Stubber]:
    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def answer_job(stub: Stubber, name: str, status: str, reason: str | None = None) -> None:
    job = {"datasetImportJobArn": JOB.format(name), "jobName": name, "status": status}
    if reason:
        job["failureReason"] = reason
    stub.add_response("describe_dataset_import_job", {"datasetImportJob": job},
                      {"datasetImportJobArn": JOB.format(name)})


def answer_gone(stub: Stubber, name: str) -> None:
    stub.add_client_error("describe_dataset_import_job", "ResourceNotFoundException", "gone",
                          expected_params={"datasetImportJobArn": JOB.format(name)})


def import_job(name: str, status: str) -> imports.ImportJob:
    return imports.ImportJob("INTERACTIONS", name, JOB.format(name), status, "INCREMENTAL",
                             datetime(2026, 1, 1, tzinfo=UTC), None, None)


def export(watermark: int | None, rows: int = 3, ids: list[str] | None = None) -> incremental.Export:
    import pandas as pd

    return incremental.Export(pd.DataFrame({"USER_ID": ["u"] * rows}), watermark, ids)


# -- settling ------------------------------------------------------------------------------------------
def test_a_listed_job_list_settles_only_the_jobs_that_ended(tmp_path):
    saved.save_source(tmp_path, "shop", {"kind": "file"})
    incremental.record_import("shop", JOB.format("done"), export(100, ids=["a"]), "s3://b/done.csv", tmp_path)
    incremental.record_import("shop", JOB.format("failed"), export(300), None, tmp_path)
    incremental.record_import("shop", JOB.format("running"), export(500), None, tmp_path)
    incremental.settle_ended([import_job("done", "ACTIVE"), import_job("failed", "CREATE FAILED"),
                              import_job("running", "CREATE IN_PROGRESS")], tmp_path)
    assert saved.watermark_state(tmp_path, "shop") == (100, ["a"])
    assert list(saved.pending_imports(tmp_path, "shop")) == [JOB.format("running")]
    state = saved.load_source(tmp_path, "shop")["state"]
    assert state["last_export_rows"] == 3 and state["last_export_output"] == "s3://b/done.csv"


def test_the_state_settles_ended_imports_and_names_the_running_ones(tmp_path):
    client, stub = personalize()
    saved.save_source(tmp_path, "shop", {"kind": "file"})
    incremental.record_import("shop", JOB.format("night-1"), export(100), None, tmp_path)
    incremental.record_import("shop", JOB.format("night-2"), export(200), None, tmp_path)
    answer_job(stub, "night-1", "ACTIVE")
    answer_job(stub, "night-2", "CREATE IN_PROGRESS")
    with stub:
        state = incremental.source_state(client, "shop", tmp_path)
    stub.assert_no_pending_responses()
    assert state == incremental.SourceState(100, None, ("night-2",))
    with pytest.raises(incremental.EarlierImportRunning) as refused:
        incremental.refuse_while_running("shop", state)
    assert refused.value.jobs == ["night-2"]
    assert str(refused.value) == ("The import of shop's previous export is still running (night-2); export again "
                                  "once it has finished: exported now, its events would be sent twice.")
    incremental.refuse_while_running("shop", incremental.SourceState(100))  # nothing running: no refusal


def test_a_source_with_nothing_pending_asks_aws_nothing(tmp_path):
    client, stub = personalize()
    saved.save_source(tmp_path, "shop", {"kind": "file"})
    saved.record_export(tmp_path, "shop", 100, 5, watermark_ids=["x"])
    with stub:  # no response queued: any call would fail the test
        assert incremental.source_state(client, "shop", tmp_path) == incremental.SourceState(100, ["x"], ())


def test_settling_one_source_settles_every_source_in_the_folder(tmp_path):
    client, stub = personalize()
    for name in ("a", "b"):
        saved.save_source(tmp_path, name, {"kind": "file"})
    incremental.record_import("a", JOB.format("ja"), export(10), None, tmp_path)
    incremental.record_import("b", JOB.format("jb"), export(20), None, tmp_path)
    answer_job(stub, "ja", "ACTIVE")
    answer_job(stub, "jb", "ACTIVE")
    with stub:
        settled = incremental.settle(client, tmp_path)
    assert sorted(settled) == [("a", JOB.format("ja"), "ACTIVE"), ("b", JOB.format("jb"), "ACTIVE")]
    assert (saved.watermark(tmp_path, "a"), saved.watermark(tmp_path, "b")) == (10, 20)


def test_waiting_for_earlier_imports_drops_failed_and_deleted_ones(tmp_path):
    client, stub = personalize()
    saved.save_source(tmp_path, "shop", {"kind": "file"})
    saved.record_export(tmp_path, "shop", 50, 1)
    incremental.record_import("shop", JOB.format("failed"), export(100), None, tmp_path)
    incremental.record_import("shop", JOB.format("deleted"), export(200), None, tmp_path)
    # Asked in ARN order (the file keeps its keys sorted): the wait sees each end, settling asks again.
    for _ in range(2):
        answer_gone(stub, "deleted")
        answer_job(stub, "failed", "CREATE FAILED", "bad rows")
    with stub:
        incremental.wait_for_earlier_imports(client, "shop", tmp_path)
    stub.assert_no_pending_responses()
    assert saved.pending_imports(tmp_path, "shop") == {}
    assert saved.watermark(tmp_path, "shop") == 50  # nothing moved: their events are exported again


# -- exporting a file source ---------------------------------------------------------------------------
def write(tmp_path, text: str) -> str:
    path = tmp_path / "events.csv"
    path.write_text(text)
    return str(path)


def test_a_file_exports_strictly_after_the_watermark(tmp_path):
    path = write(tmp_path, "USER_ID,ITEM_ID,TIMESTAMP\na,1,100\nb,2,200\nc,3,200\nd,4,300\n")
    config = {"kind": "CSV", "path": path}
    after = incremental.export_new(config, incremental.SourceState(200))
    assert after.frame["USER_ID"].tolist() == ["d"] and after.watermark == 300 and after.rows == 1
    assert after.skipped_rows == 0 and after.watermark_ids is None
    everything = incremental.export_new({"kind": "File", "path": path}, incremental.SourceState())
    assert everything.rows == 4 and everything.watermark == 300
    nothing = incremental.export_new(config, incremental.SourceState(300))
    assert nothing.frame.empty and nothing.watermark is None


def test_a_file_without_readable_times_exports_everything_without_a_watermark(tmp_path):
    no_column = incremental.export_new({"kind": "file", "path": write(tmp_path, "USER_ID,ITEM_ID\na,1\n")},
                                       incremental.SourceState(100))
    assert no_column.rows == 1 and no_column.watermark is None
    unreadable = incremental.export_new(
        {"kind": "file", "path": write(tmp_path, "USER_ID,TIMESTAMP\na,yesterday\nb,\n")}, incremental.SourceState())
    assert unreadable.rows == 2 and unreadable.watermark is None


def test_a_source_without_a_path_or_kind_is_explained():
    with pytest.raises(ValueError, match=r"^The saved source's file None does not exist\.$"):
        incremental.export_new({"kind": "file"}, incremental.SourceState())
    with pytest.raises(ValueError) as unknown:
        incremental.export_new({}, incremental.SourceState())
    assert str(unknown.value) == ("A saved source of kind 'unknown' cannot be imported by the retrain pipeline "
                                  "(it reads 'mongodb' and 'file' sources).")


# -- exporting a MongoDB source ------------------------------------------------------------------------
@pytest.fixture
def mongo(monkeypatch):
    from services.data.sources import mongo as mongo_module

    client = mongomock.MongoClient()
    events = client["shop"]["events"]
    events.insert_many([
        {"_id": "e1", "u": "ana", "i": "shoe", "ts": 100, "t": "view"},
        {"_id": "e2", "u": "bo", "i": "hat", "ts": 200, "t": "view"},
        {"_id": "e3", "u": "cy", "i": "sock", "ts": 200, "t": "buy"},
        {"_id": "e4", "u": None, "i": "sock", "ts": 250, "t": "buy"},
    ])
    # Only the driver is replaced: the source connects by its URI as it would to a server.
    monkeypatch.setattr(mongo_module, "MongoClient", lambda *args, **kwargs: client)
    return events


MONGO = {"kind": "mongodb", "uri": "mongodb://db.example", "database": "shop", "collection": "events",
         "mapping": {"USER_ID": "u", "ITEM_ID": "i", "TIMESTAMP": "ts", "EVENT_TYPE": "t"},
         "timestamp_storage": "seconds"}


def test_a_mongodb_source_exports_everything_then_only_what_is_new_at_or_after_its_second(mongo):
    first = incremental.export_new(MONGO, incremental.SourceState())
    assert first.frame["USER_ID"].tolist() == ["ana", "bo", "cy"] and first.rows == 3
    assert first.skipped_rows == 1  # a document without a user
    assert (first.watermark, first.watermark_ids) == (200, ["str:e2", "str:e3"])
    mongo.insert_one({"_id": "e5", "u": "di", "i": "hat", "ts": 200, "t": "view"})  # stored late, same second
    later = incremental.export_new(MONGO, incremental.SourceState(first.watermark, first.watermark_ids))
    assert later.frame["USER_ID"].tolist() == ["di"]
    assert (later.watermark, later.watermark_ids) == (200, ["str:e2", "str:e3", "str:e5"])
    # Without the ids (a watermark stored before they were kept) the export starts a second later.
    assert incremental.export_new(MONGO, incremental.SourceState(200)).frame.empty


def test_the_data_pages_full_export_ignores_any_watermark(mongo):
    from services.data.sources.mongo import MongoSource

    full = incremental.export_mongo(MongoSource.from_dict(MONGO), None)  # "export everything" on the Data page
    assert full.frame["USER_ID"].tolist() == ["ana", "bo", "cy"] and full.watermark == 200


# -- where sources live, and refusals in words --------------------------------------------------------------
def test_without_a_folder_the_sources_live_in_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    saved.save_source(tmp_path / "sources", "shop", {"kind": "file"})
    incremental.record_import("shop", JOB.format("night"), export(100), None)
    incremental.settle_ended([import_job("night", "ACTIVE")])
    client, stub = personalize()
    with stub:
        assert incremental.source_state(client, "shop") == incremental.SourceState(100, None, ())


def test_every_running_import_is_named():
    with pytest.raises(incremental.EarlierImportRunning, match=r"still running \(night-1, night-2\); export"):
        incremental.refuse_while_running("shop", incremental.SourceState(running=("night-1", "night-2")))
