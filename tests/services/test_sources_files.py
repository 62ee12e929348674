"""Upload reading with clear errors, and saved source configurations."""

import io
import json
import threading

import pandas as pd
import pytest

from services.data.sources.files import FileReadError, read_upload
from services.data.sources.saved import (
    SavedSourceError,
    add_pending_import,
    delete_source,
    list_sources,
    load_source,
    record_export,
    save_source,
    settle_pending_imports,
    watermark,
    watermark_state,
)

CSV = b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n007,i1,1700000000,view\nu2,i2,1700000100,purchase\n"


def test_reads_csv_bytes_path_and_file_object(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(CSV)
    for source in (CSV, path, str(path), io.BytesIO(CSV)):
        df = read_upload(source)
        assert df["USER_ID"].tolist() == ["007", "u2"]  # ids stay text
        assert df["TIMESTAMP"].tolist() == [1_700_000_000, 1_700_000_100]


def test_reads_parquet_by_content(tmp_path):
    df = pd.DataFrame({"USER_ID": ["a"], "ITEM_ID": ["b"], "TIMESTAMP": [1]})
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    got = read_upload(buffer.getvalue(), filename="misnamed.csv")
    assert got.to_dict("list") == df.to_dict("list")


def test_utf8_bom_is_not_part_of_the_header():
    assert read_upload(b"\xef\xbb\xbf" + CSV).columns[0] == "USER_ID"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"USER_ID,ITEM_ID\n", "no rows"),
        (b"PK\x03\x04rest", "Excel"),
        (b"%PDF-1.4", "PDF"),
        (b'[{"USER_ID": 1}]', "JSON"),
        (b"USER_ID;ITEM_ID\n1;2\n", "semicolons"),
        (b"USER_ID\tITEM_ID\n1\t2\n", "tabs"),
        (b"A,B\x00\x00\n", "binary"),
        (b"PAR1broken", "Parquet"),
    ],
)
def test_errors_in_plain_words(data, fragment):
    with pytest.raises(FileReadError) as info:
        read_upload(data, filename="up.csv")
    assert fragment in str(info.value)


def test_wrong_encoding_names_the_line_and_can_be_overridden():
    data = "USER_ID,NAME\nu1,Cafe\nu2,Caf\u00e9\n".encode("cp1252")
    with pytest.raises(FileReadError) as info:
        read_upload(data)
    assert "line 3" in str(info.value) and "UTF-8" in str(info.value)
    assert read_upload(data, encoding="cp1252")["NAME"].tolist() == ["Cafe", "Caf\u00e9"]


def test_truncated_rows_name_their_lines():
    data = CSV + b"u3,i3\nu4,i4,1700000200,view\nu5\n"
    with pytest.raises(FileReadError) as info:
        read_upload(data)
    message = str(info.value)
    assert "line 4 has 2 fields instead of 4" in message and "line 6 has 1 field instead of 4" in message


def test_quoted_commas_and_newlines_are_values():
    df = read_upload(b'ITEM_ID,NAME\ni1,"Shoe, red"\ni2,"two\nlines"\n')
    assert df["NAME"].tolist() == ["Shoe, red", "two\nlines"]


def test_missing_path():
    with pytest.raises(FileReadError, match="no file"):
        read_upload("/nonexistent/x.csv")


# ----------------------------------------------------------------------------- saved sources


def test_save_load_list_and_watermark(tmp_path):
    config = {"kind": "mongodb", "database": "shop", "collection": "events", "mapping": {"USER_ID": "u"}}
    save_source(tmp_path, "shop events", config)
    save_source(tmp_path, "other", {"kind": "file"})
    assert list_sources(tmp_path) == ["other", "shop events"]
    loaded = load_source(tmp_path, "shop events")
    assert loaded["mapping"] == {"USER_ID": "u"} and loaded["state"] == {}
    assert watermark(tmp_path, "shop events") is None
    record_export(tmp_path, "shop events", 1_700_000_000, rows=10, output="/tmp/x.csv")
    record_export(tmp_path, "shop events", 1_600_000_000, rows=0)  # an older value never moves it back
    assert watermark(tmp_path, "shop events") == 1_700_000_000
    assert load_source(tmp_path, "shop events")["state"]["last_export_rows"] == 0
    save_source(tmp_path, "shop events", {**config, "collection": "events2"})  # editing keeps the watermark
    assert watermark(tmp_path, "shop events") == 1_700_000_000
    delete_source(tmp_path, "other")
    assert list_sources(tmp_path) == ["shop events"]


def test_watermark_ids_move_with_the_watermark_and_add_up_at_its_second(tmp_path):
    save_source(tmp_path, "shop", {"kind": "mongodb"})
    record_export(tmp_path, "shop", 100, rows=3, watermark_ids=["ObjectId:b", "ObjectId:a"])
    assert watermark_state(tmp_path, "shop") == (100, ["ObjectId:a", "ObjectId:b"])
    record_export(tmp_path, "shop", 100, rows=1, watermark_ids=["ObjectId:c"])  # late ones of the same second
    assert watermark_state(tmp_path, "shop") == (100, ["ObjectId:a", "ObjectId:b", "ObjectId:c"])
    record_export(tmp_path, "shop", 90, rows=1, watermark_ids=["ObjectId:z"])  # older: nothing moves
    assert watermark_state(tmp_path, "shop") == (100, ["ObjectId:a", "ObjectId:b", "ObjectId:c"])
    record_export(tmp_path, "shop", 200, rows=1)  # a file source knows no ids: none are claimed
    assert watermark_state(tmp_path, "shop") == (200, None)


def test_pending_imports_settle_by_their_jobs_status(tmp_path):
    save_source(tmp_path, "a", {"kind": "mongodb"})
    save_source(tmp_path, "b", {"kind": "file"})
    add_pending_import(tmp_path, "a", "job-ok", 100, 5, "file:///x.csv", ["ObjectId:1"])
    add_pending_import(tmp_path, "a", "job-failed", 300, 7)
    add_pending_import(tmp_path, "b", "job-running", 50, 2)
    statuses = {"job-ok": "ACTIVE", "job-failed": "CREATE FAILED", "job-running": None}
    settled = settle_pending_imports(tmp_path, statuses.get)
    assert sorted(settled) == [("a", "job-failed", "CREATE FAILED"), ("a", "job-ok", "ACTIVE")]
    state = load_source(tmp_path, "a")["state"]
    assert (state["watermark"], state["watermark_ids"], state["pending_imports"]) == (100, ["ObjectId:1"], {})
    assert state["last_export_rows"] == 5 and state["last_export_output"] == "file:///x.csv"
    assert watermark(tmp_path, "b") is None and list(load_source(tmp_path, "b")["state"]["pending_imports"]) == [
        "job-running"]
    assert settle_pending_imports(tmp_path, {"job-running": "ACTIVE"}.get) == [("b", "job-running", "ACTIVE")]
    assert watermark(tmp_path, "b") == 50


def test_stray_and_damaged_files_do_not_stop_settling(tmp_path):
    save_source(tmp_path, "shop", {"kind": "mongodb"})
    add_pending_import(tmp_path, "shop", "job-ok", 100, 5)
    (tmp_path / "shop (copy).json").write_text("{}")  # not a valid source name
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "nulls.json").write_text('{"state": null}')
    (tmp_path / "latin.json").write_bytes(b"{\"name\": \"\xff\"}")
    (tmp_path / "torn.json").write_text('{"state": {"pending_imports": {"job-ok"')
    assert settle_pending_imports(tmp_path, {"job-ok": "ACTIVE"}.get) == [("shop", "job-ok", "ACTIVE")]
    assert watermark(tmp_path, "shop") == 100
    for damaged in ("list", "nulls", "latin", "torn"):
        with pytest.raises(SavedSourceError, match="damaged"):
            load_source(tmp_path, damaged)


def test_concurrent_updates_of_one_source_are_all_kept(tmp_path):
    save_source(tmp_path, "shop", {"kind": "mongodb"})

    def add(k: int) -> None:
        add_pending_import(tmp_path, "shop", f"job-{k}", k, 1)

    threads = [threading.Thread(target=add, args=(k,)) for k in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_source(tmp_path, "shop")["state"]["pending_imports"]) == 24


def test_saves_objects_with_to_dict(tmp_path):
    class Config:
        def to_dict(self):
            return {"kind": "x", "n": 1}

    save_source(tmp_path, "obj", Config())
    assert load_source(tmp_path, "obj")["n"] == 1


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 101])
def test_unsafe_names_rejected(tmp_path, name):
    with pytest.raises(SavedSourceError):
        save_source(tmp_path, name, {})


def test_unknown_and_damaged_sources(tmp_path):
    with pytest.raises(SavedSourceError, match="no saved source"):
        load_source(tmp_path, "missing")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(SavedSourceError, match="damaged"):
        load_source(tmp_path, "bad")
    assert list_sources(tmp_path / "nope") == []


def test_writes_are_atomic_under_concurrent_saves(tmp_path):
    # Readers racing writers must always see a whole JSON document, never a partial one.
    errors: list[Exception] = []

    def writer(i: int) -> None:
        for j in range(30):
            save_source(tmp_path, "busy", {"payload": "x" * 5_000, "i": i, "j": j})

    def reader() -> None:
        for _ in range(200):
            try:
                path = tmp_path / "busy.json"
                if path.exists():
                    json.loads(path.read_text())
            except Exception as exc:
                errors.append(exc)

    save_source(tmp_path, "busy", {"payload": ""})
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_saved_source_keeps_the_password_out_of_its_json(tmp_path):
    from services.data.sources import saved

    uri = "mongodb://shop:s3cret@db.example:27017/events"
    path = saved.save_source(tmp_path, "events", {"uri": uri, "database": "shop"})
    assert "s3cret" not in path.read_text()
    assert saved.load_source(tmp_path, "events")["uri"] == uri
    secret = tmp_path / ".secrets" / "events.uri"
    assert secret.stat().st_mode & 0o077 == 0
    saved.save_source(tmp_path, "events", {"uri": "mongodb://db.example/events", "database": "shop"})
    assert not secret.exists()
    saved.delete_source(tmp_path, "events")
    assert saved.list_sources(tmp_path) == []
