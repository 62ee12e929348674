"""Saved sources on disk: names, damaged files, secrets, and how the watermark and pending imports move,
each edge the page and the nightly pipeline rely on. Plain files in a temporary folder. Written from
the survivors of `python -m bench.mutation --module saved_sources`."""

from __future__ import annotations

import json
import stat

import pytest

from services.data.sources import saved

URI = "mongodb://shop:s3cret@db.example:27017/events"


def state(folder, name: str) -> dict:
    return saved.load_source(folder, name)["state"]


# -- names and files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a", "Shop events 2", "night_1.v2-b", "x" * 100, "0"])
def test_ordinary_names_are_accepted_and_become_their_file(tmp_path, name):
    path = saved.save_source(tmp_path, name, {"kind": "file"})
    assert path == tmp_path / f"{name}.json" and saved.list_sources(tmp_path) == [name]


@pytest.mark.parametrize("name", ["shop.", "-shop", " shop", "_x", "a\nb", "x" * 101, "a/b"])
def test_names_that_could_misbehave_as_files_are_refused_in_words(tmp_path, name):
    with pytest.raises(saved.SavedSourceError) as refused:
        saved.save_source(tmp_path, name, {"kind": "file"})
    assert str(refused.value) == (f"{name!r} cannot be a source name: use letters, digits, spaces, '_', '-' or '.', "
                                  "up to 100 characters.")
    assert list(tmp_path.iterdir()) == []


def test_a_saved_file_is_the_whole_record_in_sorted_readable_json(tmp_path):
    path = saved.save_source(tmp_path, "shop", {"kind": "file", "path": "/data/events.csv"})
    text = path.read_text()
    stored = json.loads(text)
    assert stored["name"] == "shop" and stored["config"] == {"kind": "file", "path": "/data/events.csv"}
    assert stored["state"] == {} and stored["saved_at"].endswith("+00:00")
    assert text.startswith('{\n  "config": {\n    "kind": "file",')  # indented, keys sorted: diffs stay readable
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_hidden_files_and_other_extensions_are_not_sources(tmp_path):
    saved.save_source(tmp_path, "b", {})
    saved.save_source(tmp_path, "a", {})
    (tmp_path / ".b.abc.tmp").write_text("{}")
    (tmp_path / ".hidden.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("x")
    assert saved.list_sources(tmp_path) == ["a", "b"]
    assert saved.list_sources(tmp_path / "shop.json") == []  # a file, not a folder


def test_damaged_files_are_named_with_what_to_do(tmp_path):
    with pytest.raises(saved.SavedSourceError) as missing:
        saved.load_source(tmp_path, "gone")
    assert str(missing.value) == "There is no saved source 'gone'."
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(saved.SavedSourceError) as wrong:
        saved.load_source(tmp_path, "list")
    assert str(wrong.value) == "The saved source 'list' is damaged (not a saved source); save it again."
    (tmp_path / "state.json").write_text('{"state": []}')
    with pytest.raises(saved.SavedSourceError, match="not a saved source"):
        saved.watermark(tmp_path, "state")
    (tmp_path / "torn.json").write_text('{"state": ')
    with pytest.raises(saved.SavedSourceError) as torn:
        saved.load_source(tmp_path, "torn")
    assert str(torn.value).startswith("The saved source 'torn' is damaged (") and str(torn.value).endswith(
        "); save it again.")


def test_a_record_without_config_or_state_loads_as_empty(tmp_path):
    (tmp_path / "bare.json").write_text("{}")
    assert saved.load_source(tmp_path, "bare") == {"state": {}}
    assert saved.watermark_state(tmp_path, "bare") == (None, None)
    assert saved.pending_imports(tmp_path, "bare") == {}


def test_the_temporary_file_is_written_hidden_next_to_the_final_one(tmp_path):
    # Next to it, so the rename is atomic (same filesystem); hidden and .tmp, so no listing shows it.
    seen: list[list[str]] = []

    class Spy:
        def __str__(self) -> str:  # json.dump asks for it while the temporary file is open
            seen.append(sorted(p.name for p in tmp_path.iterdir()))
            return "spy"

    saved.save_source(tmp_path, "shop", {"kind": "file", "note": Spy()})
    assert len(seen) == 1 and seen[0][0] == ".lock"
    assert seen[0][1].startswith(".shop.") and seen[0][1].endswith(".tmp") and len(seen[0]) == 2
    assert saved.load_source(tmp_path, "shop")["note"] == "spy"


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_one(tmp_path):
    saved.save_source(tmp_path, "shop", {"kind": "file", "n": 1})
    with pytest.raises(TypeError):
        saved.save_source(tmp_path, "shop", {"kind": "file", "bad": {1, 2}, 3: "x"})  # mixed keys cannot sort
    assert saved.load_source(tmp_path, "shop")["n"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "shop.json"]


# -- secrets -------------------------------------------------------------------------------------------
def test_the_secret_file_and_its_folder_are_private_and_go_with_the_source(tmp_path):
    folder = tmp_path / "not" / "yet"  # the first save makes the folders
    saved.save_source(folder, "shop", {"uri": URI.replace("s3cret", "old")})
    saved.save_source(folder, "shop", {"uri": URI})  # a changed password replaces the secret
    secret = folder / ".secrets" / "shop.uri"
    assert secret.read_text() == URI
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    shown = saved.shown_source(folder, "shop")
    assert "s3cret" not in shown["uri"] and shown["state"] == {}
    saved.delete_source(folder, "shop")
    assert not secret.exists() and saved.list_sources(folder) == []
    saved.delete_source(folder, "shop")  # deleting what is gone is not an error


def test_a_uri_without_secrets_stays_in_the_json_and_non_text_uris_are_left_alone(tmp_path):
    saved.save_source(tmp_path, "plain", {"uri": "mongodb://db.example/events"})
    assert saved.load_source(tmp_path, "plain")["uri"] == "mongodb://db.example/events"
    assert not (tmp_path / ".secrets" / "plain.uri").exists()
    saved.save_source(tmp_path, "odd", {"uri": None, "kind": "file"})
    assert saved.load_source(tmp_path, "odd")["uri"] is None
    assert saved.shown_source(tmp_path, "odd")["uri"] is None


def test_a_masked_uri_resolves_only_to_its_own_source(tmp_path):
    saved.save_source(tmp_path, "shop", {"uri": URI})
    masked = saved.shown_source(tmp_path, "shop")["uri"]
    assert saved.resolve_uri(tmp_path, "shop", masked) == URI
    assert saved.resolve_uri(tmp_path, "", masked) == masked
    assert saved.resolve_uri(tmp_path, None, masked) == masked
    assert saved.resolve_uri(tmp_path, "missing", masked) == masked
    (tmp_path / "torn.json").write_text("{")
    assert saved.resolve_uri(tmp_path, "torn", masked) == masked
    saved.save_source(tmp_path, "nouri", {"kind": "file"})
    assert saved.resolve_uri(tmp_path, "nouri", masked) == masked


# -- the watermark ---------------------------------------------------------------------------------------
def test_the_first_watermark_is_stored_as_a_whole_number_with_its_export(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.record_export(tmp_path, "shop", "170", rows="12", output="")
    s = state(tmp_path, "shop")
    assert s["watermark"] == 170 and s["last_export_rows"] == 12
    assert "last_export_output" not in s and s["last_export_at"].endswith("+00:00")
    assert saved.watermark(tmp_path, "shop") == 170
    saved.record_export(tmp_path, "shop", 180, 1, output="s3://bucket/events.csv")
    assert state(tmp_path, "shop")["last_export_output"] == "s3://bucket/events.csv"


def test_an_export_without_a_watermark_leaves_it_where_it_was(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.record_export(tmp_path, "shop", 100, 5, watermark_ids=["a"])
    saved.record_export(tmp_path, "shop", None, 0, watermark_ids=["z"])
    assert saved.watermark_state(tmp_path, "shop") == (100, ["a"])
    assert state(tmp_path, "shop")["last_export_rows"] == 0


def test_ids_at_the_same_second_are_not_claimed_when_earlier_ones_were_not_known(tmp_path):
    # A watermark without ids means "everything at that second was exported": adding a few ids would
    # make the next export send the rest of that second again.
    saved.save_source(tmp_path, "shop", {})
    saved.record_export(tmp_path, "shop", 100, 5)
    saved.record_export(tmp_path, "shop", 100, 1, watermark_ids=["late"])
    assert saved.watermark_state(tmp_path, "shop") == (100, None)


def test_ids_are_deduplicated_when_the_watermark_moves(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.record_export(tmp_path, "shop", 100, 3, watermark_ids=["b", "a", "b"])
    assert saved.watermark_state(tmp_path, "shop") == (100, ["a", "b"])
    saved.record_export(tmp_path, "shop", 100, 3, watermark_ids=["a", "c"])
    assert saved.watermark_state(tmp_path, "shop") == (100, ["a", "b", "c"])
    saved.record_export(tmp_path, "shop", 100, 0, watermark_ids=None)  # nothing new at that second
    assert saved.watermark_state(tmp_path, "shop") == (100, ["a", "b", "c"])


# -- pending imports -------------------------------------------------------------------------------------
def test_a_pending_import_is_stored_whole(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.add_pending_import(tmp_path, "shop", "job-1", 100, "7", None, ["x"])
    saved.add_pending_import(tmp_path, "shop", "job-2", None, 0, "s3://bucket/key.csv")
    assert saved.pending_imports(tmp_path, "shop") == {
        "job-1": {"watermark": 100, "watermark_ids": ["x"], "rows": 7, "output": None},
        "job-2": {"watermark": None, "watermark_ids": None, "rows": 0, "output": "s3://bucket/key.csv"},
    }
    assert saved.watermark(tmp_path, "shop") is None


def test_settling_reports_each_ended_job_and_keeps_the_rest(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.add_pending_import(tmp_path, "shop", "ok", 100, 4, "s3://b/ok.csv")
    saved.add_pending_import(tmp_path, "shop", "deleted", 300, 2)
    saved.add_pending_import(tmp_path, "shop", "running", 500, 1)
    asked: list[str] = []

    def status_of(arn: str) -> str | None:
        asked.append(arn)
        return {"ok": "ACTIVE", "deleted": "DELETED"}.get(arn)

    assert saved.settle_pending_imports(tmp_path, status_of) == [("shop", "deleted", "DELETED"),
                                                                  ("shop", "ok", "ACTIVE")]
    assert sorted(asked) == ["deleted", "ok", "running"]
    s = state(tmp_path, "shop")
    assert s["watermark"] == 100 and s["last_export_rows"] == 4 and s["last_export_output"] == "s3://b/ok.csv"
    assert list(s["pending_imports"]) == ["running"]
    assert saved.settle_pending_imports(tmp_path, lambda arn: None) == []


def test_a_settled_record_with_no_row_count_counts_zero(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    path = tmp_path / "shop.json"
    stored = json.loads(path.read_text())
    stored["state"] = {"pending_imports": {"job": {"watermark": 9}}}  # an older record: only the watermark
    path.write_text(json.dumps(stored))
    assert saved.settle_pending_imports(tmp_path, {"job": "ACTIVE"}.get) == [("shop", "job", "ACTIVE")]
    s = state(tmp_path, "shop")
    assert (s["watermark"], s["last_export_rows"], s["pending_imports"]) == (9, 0, {})
    assert "last_export_output" not in s


def test_a_job_settled_meanwhile_by_another_writer_is_reported_once(tmp_path):
    saved.save_source(tmp_path, "shop", {})
    saved.add_pending_import(tmp_path, "shop", "job", 100, 4)
    saved.add_pending_import(tmp_path, "shop", "other", 200, 1)
    inner: list = []

    def status_of(arn: str) -> str:
        if not inner:  # the page settles the same job while the pipeline is asking AWS about it
            inner.append(saved.settle_pending_imports(tmp_path, {"job": "ACTIVE"}.get))
        return "ACTIVE" if arn == "job" else "CREATE FAILED"

    assert saved.settle_pending_imports(tmp_path, status_of) == [("shop", "other", "CREATE FAILED")]
    assert inner == [[("shop", "job", "ACTIVE")]]
    assert saved.watermark(tmp_path, "shop") == 100 and saved.pending_imports(tmp_path, "shop") == {}
