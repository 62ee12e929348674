"""MongoDB export against mongomock, and the same tests against a real server when MONGODB_URI is set."""

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

import mongomock
import pandas as pd
import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from services.data.file_profile import profile_file
from services.data.schemas import ecommerce_schema
from services.data.sources.files import read_upload
from services.data.sources.mongo import (
    MongoSource,
    MongoSourceError,
    _explain,
    _projection,
    build_filter,
    check_connection,
    discover_fields,
    documents_to_frame,
    export,
    preview,
    redact,
)
from services.data.sources.saved import load_source, record_export, save_source
from services.data.validation import validate

BASE = datetime(2025, 3, 1, tzinfo=UTC)
BASE_S = int(BASE.timestamp())
N_DOCS = 120
MAPPING = {
    "USER_ID": "user.id",
    "ITEM_ID": "item_id",
    "TIMESTAMP": "ts",
    "EVENT_TYPE": "type",
    "EVENT_VALUE": "price",
    "DEVICE": "ctx.device",
}


@pytest.fixture(params=["mongomock", "real"])
def client(request):
    if request.param == "real":
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            pytest.skip("MONGODB_URI is not set: no real MongoDB server to test against")
        real = MongoClient(uri, serverSelectionTimeoutMS=3_000)
        yield real
        real.close()
    else:
        yield mongomock.MongoClient()


@pytest.fixture
def events(client):
    """A collection of N_DOCS shop events, one hour apart, with the awkward types shops really have."""
    db_name = f"test_personalize_{uuid.uuid4().hex[:8]}"
    coll = client[db_name]["events"]
    docs = []
    for i in range(N_DOCS):
        docs.append(
            {
                "user": {"id": ObjectId() if i % 10 == 0 else f"u{i % 7}"},
                "item_id": (i % 5) if i % 2 else f"i{i % 5}",  # numbers and text mixed
                "ts": BASE + timedelta(hours=i),  # BSON date
                "type": ["view", "click", "purchase"][i % 3],
                "price": str(9.5 + i) if i % 3 == 2 else None,  # a number stored as text
                "ctx": {"device": "mobile" if i % 2 else "web"},
                "noise": "x" * 200,  # not projected
            }
        )
    coll.insert_many(docs)
    source = MongoSource(
        uri=os.environ.get("MONGODB_URI", "mongodb://mock"),
        database=db_name,
        collection="events",
        mapping=dict(MAPPING),
    )
    yield source, coll
    client.drop_database(db_name)


def test_export_to_csv_is_a_valid_interactions_file(events, client, tmp_path):
    source, _ = events
    out = tmp_path / "events.csv"
    result = export(source, out, batch_size=16, client=client)
    assert result.rows == N_DOCS and result.skipped_rows == 0
    assert result.batches == -(-N_DOCS // 16)
    assert result.watermark == BASE_S + (N_DOCS - 1) * 3600
    assert not (tmp_path / "events.csv.part").exists()
    df = read_upload(out)
    assert list(df.columns) == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "DEVICE"]
    assert sorted(df["TIMESTAMP"]) == [BASE_S + i * 3600 for i in range(N_DOCS)]
    schema = ecommerce_schema("Interactions")
    report = validate(df[schema.names], schema, "Interactions", now=BASE_S + 10**7)
    assert report.ok and not report.warnings, report.summary()
    assert profile_file(out).readiness.interactions == N_DOCS


def test_conversions(events, client):
    source, _ = events
    df = export(source, None, batch_size=50, client=client).frame.sort_values("TIMESTAMP", ignore_index=True)
    assert len(df.loc[0, "USER_ID"]) == 24  # ObjectId -> 24 hex characters
    assert df.loc[1, "USER_ID"] == "u1"
    assert df.loc[1, "ITEM_ID"] == "1" and df.loc[2, "ITEM_ID"] == "i2"  # numbers become id text
    assert df.loc[2, "EVENT_VALUE"] == pytest.approx(11.5)  # "11.5" stored as text
    assert pd.isna(df.loc[0, "EVENT_VALUE"])
    assert df.loc[1, "DEVICE"] == "mobile"


def test_date_range_and_query_filter(events, client):
    source, _ = events
    source.start = BASE + timedelta(hours=10)
    source.end = BASE_S + 20 * 3600  # seconds work as well as datetimes
    source.query = '{"type": "view"}'
    df = export(source, None, client=client).frame
    hours = sorted((df["TIMESTAMP"] - BASE_S) // 3600)
    assert hours == [h for h in range(10, 20) if h % 3 == 0]
    assert set(df["EVENT_TYPE"]) == {"view"}


def test_incremental_export_from_watermark(events, client, tmp_path):
    source, coll = events
    first = export(source, tmp_path / "a.csv", client=client)
    later = [
        {"user": {"id": "new"}, "item_id": "i9", "ts": BASE + timedelta(hours=N_DOCS + k), "type": "view"}
        for k in range(3)
    ]
    coll.insert_many(later)
    second = export(source, tmp_path / "b.csv", since_watermark=first.watermark, client=client)
    assert second.rows == 3 and second.watermark == BASE_S + (N_DOCS + 2) * 3600
    third = export(source, tmp_path / "c.csv", since_watermark=second.watermark, client=client)
    assert third.rows == 0 and third.watermark == second.watermark
    assert (tmp_path / "c.csv").read_text().splitlines() == [",".join(source.columns())]  # header only


def test_events_stored_late_for_the_watermarks_second_are_exported_once(events, client, tmp_path):
    """An event written after an export but stamped with its last second is exported next time; the
    events already sent for that second are not sent again (several of them, over several batches)."""
    source, coll = events
    last = BASE + timedelta(hours=N_DOCS - 1)
    coll.insert_many([{"user": {"id": f"same{k}"}, "item_id": "i1", "ts": last, "type": "view"} for k in range(4)])
    first = export(source, None, client=client, batch_size=2)  # the five of the last second span three batches
    assert first.watermark == int(last.timestamp()) and len(first.watermark_ids) == 5  # 1 + 4 at that second
    assert all(key.startswith("ObjectId:") for key in first.watermark_ids)
    coll.insert_many([
        {"user": {"id": "late"}, "item_id": "i2", "ts": last, "type": "view"},  # stamped before the export ended
        {"user": {"id": "next"}, "item_id": "i3", "ts": last + timedelta(seconds=1), "type": "view"},
    ])
    second = export(source, None, since_watermark=first.watermark, exported_at_watermark=first.watermark_ids,
                    client=client, batch_size=2)
    assert sorted(second.frame["USER_ID"]) == ["late", "next"]
    assert second.watermark == first.watermark + 1 and len(second.watermark_ids) == 1
    third = export(source, None, since_watermark=second.watermark, exported_at_watermark=second.watermark_ids,
                   client=client)
    assert third.rows == 0 and (third.watermark, third.watermark_ids) == (second.watermark, second.watermark_ids)
    # Only late events of the watermark's own second: the watermark stays, its ids add up.
    coll.insert_one({"user": {"id": "later"}, "item_id": "i4", "ts": last + timedelta(seconds=1), "type": "view"})
    fourth = export(source, None, since_watermark=third.watermark, exported_at_watermark=third.watermark_ids,
                    client=client)
    assert list(fourth.frame["USER_ID"]) == ["later"] and fourth.watermark == third.watermark
    assert len(fourth.watermark_ids) == 2 and set(third.watermark_ids) < set(fourth.watermark_ids)


def test_a_watermark_without_ids_resumes_after_its_second(events, client):
    """Watermarks saved before ids were kept cannot tell sent from late: the export starts a second
    later, as it always did, rather than sending that second twice."""
    source, coll = events
    first = export(source, None, client=client)
    coll.insert_one({"user": {"id": "late"}, "item_id": "i2", "ts": BASE + timedelta(hours=N_DOCS - 1), "type": "view"})
    again = export(source, None, since_watermark=first.watermark, client=client)
    assert again.rows == 0 and again.watermark == first.watermark and again.watermark_ids is None


def test_saved_source_round_trip_drives_incremental_export(events, client, tmp_path):
    source, _ = events
    source.query = {"type": {"$in": ["view", "purchase"]}}
    save_source(tmp_path, "shop", source)
    restored = MongoSource.from_dict(load_source(tmp_path, "shop"))
    assert restored.mapping == MAPPING and restored.filter() == source.filter()
    result = export(restored, tmp_path / "out.csv", client=client)
    record_export(tmp_path, "shop", result.watermark, result.rows)
    again = export(restored, None, since_watermark=load_source(tmp_path, "shop")["state"]["watermark"], client=client)
    assert result.rows == 80 and again.rows == 0


def test_timestamps_stored_as_epoch_millis_and_text(client):
    db = client[f"test_personalize_{uuid.uuid4().hex[:8]}"]
    try:
        db.ms.insert_many([{"u": "a", "i": "b", "t": (BASE_S + k) * 1000} for k in range(5)])
        db.txt.insert_many([{"u": "a", "i": "b", "t": str(BASE_S + k)} for k in range(5)])
        db.iso.insert_many([{"u": "a", "i": "b", "t": f"2025-03-01T00:00:0{k}Z"} for k in range(5)])
        for name in ("ms", "txt", "iso"):
            src = MongoSource(
                database=db.name,
                collection=name,
                mapping={"USER_ID": "u", "ITEM_ID": "i", "TIMESTAMP": "t"},
                start=BASE_S + 2,
            )
            got = export(src, None, client=client).frame["TIMESTAMP"].tolist()
            assert sorted(got) == [BASE_S + 2, BASE_S + 3, BASE_S + 4], name
    finally:
        client.drop_database(db.name)


def test_documents_without_required_fields_are_skipped(events, client):
    source, coll = events
    coll.insert_many(
        [
            {"item_id": "i1", "ts": BASE, "type": "view"},  # no user
            {"user": {"id": " "}, "item_id": "i1", "ts": BASE, "type": "view"},  # blank user
            {"user": {"id": "u"}, "item_id": "i1", "type": "view"},
        ]
    )  # no time
    result = export(source, None, client=client)
    assert result.rows == N_DOCS and result.skipped_rows == 3


def test_preview_and_discover_fields(events, client):
    source, _ = events
    head = preview(source, 5, client=client)
    assert len(head) == 5 and list(head.columns) == source.columns()
    fields = discover_fields(source, client=client)
    assert {"user.id", "ctx.device", "ts", "noise"} <= set(fields)


def test_projection_only_fetches_mapped_fields(events, client):
    source, coll = events
    projection = _projection({**source.mapping, "USER_PARENT": "user"})
    assert projection == {"user": 1, "item_id": 1, "ts": 1, "type": 1, "price": 1, "ctx.device": 1}
    doc = coll.find_one({}, projection)  # _id comes too: the watermark keeps the ids of its second
    assert set(doc) == {"_id", "user", "item_id", "ts", "type", "price", "ctx"}
    assert doc["ctx"] == {"device": doc["ctx"]["device"]}
    frame = documents_to_frame([doc], {"ITEM_ID": "item_id"})
    assert list(frame.columns) == ["ITEM_ID"]
    assert build_filter(source, coll) == {}
    source.start = BASE
    assert build_filter(source, coll) == {"ts": {"$gte": BASE}}  # a BSON date field gets a date bound


def test_check_connection_ok_and_unknown_names(events, client):
    source, _ = events
    ok = check_connection(source, client=client)
    assert ok.ok and ok.documents == N_DOCS
    missing_db = check_connection(MongoSource(database="no_such_db_x", collection="events"), client=client)
    assert not missing_db.ok and "no database 'no_such_db_x'" in missing_db.message
    missing_coll = check_connection(MongoSource(database=source.database, collection="nope"), client=client)
    assert not missing_coll.ok and "no collection 'nope'" in missing_coll.message and "events" in missing_coll.message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_explained_without_the_password():
    source = MongoSource(uri=f"mongodb://shop:s3cret@127.0.0.1:{_closed_port()}/", database="a", collection="b")
    result = check_connection(source, timeout_ms=300)
    assert not result.ok and "Cannot reach" in result.message and "s3cret" not in result.message
    with pytest.raises(MongoSourceError, match="Cannot reach"):
        export(MongoSource(uri=source.uri, database="a", collection="b", server_selection_timeout_ms=300), None)


def test_invalid_uri_and_bad_query_text():
    assert "not valid" in check_connection(MongoSource(uri="mongodb://a:b:c@@", database="x", collection="y")).message
    with pytest.raises(MongoSourceError, match="not valid JSON"):
        MongoSource(query="{type: view").filter()
    assert MongoSource(query='{"ts": {"$gte": {"$date": "2025-01-01T00:00:00Z"}}}').filter()["ts"]["$gte"].year == 2025


def test_auth_failure_message_and_redaction():
    source = MongoSource(uri="mongodb://shop:pw@db.example:27017/")
    assert "user name or password" in _explain(OperationFailure("Authentication failed.", code=18), source)
    assert redact("mongodb://shop:pw@db.example:27017/") == "mongodb://shop:***@db.example:27017/"


def test_date_range_needs_a_timestamp_mapping():
    with pytest.raises(MongoSourceError, match="TIMESTAMP"):
        export(MongoSource(mapping={"USER_ID": "u"}, start=BASE), None, client=mongomock.MongoClient())


def test_a_collection_maps_to_a_valid_import(events, client, engine, tmp_path, monkeypatch):
    """MongoDB → export with the field mapping → validation → staged → import job ACTIVE in the engine."""
    from services.core.waiting import wait_until
    from services.data import imports
    from tests.support.shops import clients_for, interactions_dataset

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    source, _ = events
    result = export(source, tmp_path / "events.csv", client=client)
    frame = read_upload(result.path)
    schema = ecommerce_schema("Interactions")
    assert validate(frame[schema.names], schema, "Interactions", now=BASE_S + 10**7).ok
    clients = clients_for(engine.url)
    _, dataset = interactions_dataset(clients, f"mongo-{uuid.uuid4().hex[:6]}")
    launched = imports.stage_and_import(clients, dataset, frame)  # the extra DEVICE column is left out
    job = wait_until(lambda: clients.personalize.describe_dataset_import_job(
        datasetImportJobArn=launched.job_arn)["datasetImportJob"], "import", timeout=60)
    assert job["status"] == "ACTIVE", job.get("failureReason")
