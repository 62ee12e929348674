"""Viewers change nothing (refused where the action runs, not only by disabled widgets), secrets never
reach the page, source actions and failed sign-ins are audited, and data is shown as text."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from services.core.audit import AuditLog
from services.core.waiting import Failed, wait_until
from services.data.sources import saved
from services.data.sources.mongo import MongoSource
from services.demo.shop_setup import ROLE_ARN
from tests.support.apptest import make_app
from tests.support.shops import interactions_dataset

OPERATOR_PASSWORD, VIEWER_PASSWORD = "open-sesame", "just-looking"
SECRETS = ("s3cr3t pass", "keyfile-pass", "FQoGZXIvYXdzEJr//token")
INJECTION = "![x](http://127.0.0.1:9/beacon.png) **BOLD** $x^2$ <b>html</b> :red[red]"


@contextmanager
def listener() -> Iterator[tuple[int, list]]:
    """A TCP port that records every connection made to it: proof that nobody connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list = []
    try:
        yield server.getsockname()[1], accepted
    finally:
        try:
            while True:
                accepted.append(server.accept()[0])
        except OSError:
            pass
        for conn in accepted:
            conn.close()
        server.close()


def _uri(port: int) -> str:
    return (f"mongodb://shop:s3cr3t pass@127.0.0.1:{port}/shop?tlsCertificateKeyFilePassword=keyfile-pass"
            "&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzEJr//token&serverSelectionTimeoutMS=500")


def _signed_in(monkeypatch, engine_url: str, data_dir: Path, group: str, password: str) -> AppTest:
    at = make_app(monkeypatch, engine_url, data_dir, group, PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD=OPERATOR_PASSWORD,
                  PERSONALIZE_DASHBOARD_VIEWER_PASSWORD=VIEWER_PASSWORD)
    at.session_state["data_source"] = "MongoDB"
    at.run()
    at.text_input[0].input("Pat")
    at.text_input[1].input(password)
    at.button[0].click().run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def _everything(at: AppTest) -> str:
    """The protos of every element and widget: what the browser would receive."""
    parts: list[str] = []

    def walk(node) -> None:
        parts.append(str(getattr(node, "proto", "")))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _press_anyway(at: AppTest, key: str) -> None:
    """What a tampered browser can do: send a press for a widget the page drew disabled."""
    button = _button(at, key)
    button.proto.disabled = False
    button.click().run()
    assert not at.exception


def _source_actions(log: AuditLog) -> list[str]:
    return [a for a in log.query()["action"] if a != "sign in"]


def test_a_viewer_sees_no_secret_and_no_source_action_runs(engine, clients, monkeypatch, tmp_path):
    group, _ = interactions_dataset(clients, "sec-viewer")
    with listener() as (port, accepted):
        monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
        saved.save_source(tmp_path / "sources", "nightly", MongoSource(uri=_uri(port), database="shop",
                                                                       collection="events"))
        before = (tmp_path / "sources" / "nightly.json").read_text()
        at = _signed_in(monkeypatch, engine.url, tmp_path, group, VIEWER_PASSWORD)
        assert at.session_state["role"] == "viewer"
        next(b for b in at.button if b.label == "Load").click().run()
        assert at.session_state["mongo_uri"] == saved.redact_uri(_uri(port))
        for key in ("mongo_check", "mongo_preview", "mongo_export", "mongo_save", "mongo_delete"):
            assert _button(at, key).disabled
            _press_anyway(at, key)
        text = _everything(at)
        assert not any(secret in text for secret in SECRETS)
    assert accepted == []  # Check, Preview and Export never connected
    assert (tmp_path / "sources" / "nightly.json").read_text() == before  # not saved over, not deleted
    assert _source_actions(AuditLog(tmp_path / "audit.sqlite3")) == []


def test_a_viewer_cannot_upload(engine, clients, monkeypatch, tmp_path):
    group, _ = interactions_dataset(clients, "sec-upload")
    at = _signed_in(monkeypatch, engine.url, tmp_path, group, VIEWER_PASSWORD)
    at.session_state["data_source"] = "Upload a file"
    at.run()
    assert not at.exception
    # No uploader is registered for a viewer's session, so no browser message can deliver a file to it.
    assert at.get("file_uploader") == []
    assert "Viewers cannot upload files" in "\n".join(w.value for w in at.warning)
    assert "data_pending" not in at.session_state


def test_an_operator_upload_is_read_checked_and_audited(engine, clients, monkeypatch, tmp_path):
    group, _ = interactions_dataset(clients, "sec-upload-op")
    at = _signed_in(monkeypatch, engine.url, tmp_path, group, OPERATOR_PASSWORD)
    at.session_state["data_source"] = "Upload a file"
    at.run()
    nested = io.BytesIO()
    pq.write_table(pa.table({"USER_ID": ["u1"], "TAGS": pa.array([[1, 2]], type=pa.list_(pa.int64()))}), nested)
    at.get("file_uploader")[0].set_value(("nested.parquet", nested.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    assert "nested columns" in "\n".join(e.value for e in at.error)
    at.get("file_uploader")[0].set_value(("ok.csv", b"USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1700000000\n",
                                          "text/csv")).run()
    assert not at.exception
    assert at.session_state["data_pending"]["label"] == "ok.csv"
    log = AuditLog(tmp_path / "audit.sqlite3").query(action="read upload")
    assert list(log["outcome"]) == ["succeeded", "failed"]


def test_an_operator_edits_with_the_secret_kept_apart_and_every_source_action_audited(
        engine, clients, monkeypatch, tmp_path):
    group, _ = interactions_dataset(clients, "sec-operator")
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    saved.save_source(tmp_path / "sources", "nightly", MongoSource(uri=_uri(1), database="shop", collection="ev"))
    at = _signed_in(monkeypatch, engine.url, tmp_path, group, OPERATOR_PASSWORD)
    next(b for b in at.button if b.label == "Load").click().run()
    assert not any(secret in _everything(at) for secret in SECRETS)
    _button(at, "mongo_check").click().run()
    at.text_input(key="mongo_save_as").input("copy")
    _button(at, "mongo_save").click().run()
    assert not at.exception
    # The copy was saved with the whole URI (the unchanged mask stands for the saved secrets) ...
    assert saved.load_source(tmp_path / "sources", "copy")["uri"] == _uri(1)
    assert not any(s in (tmp_path / "sources" / "copy.json").read_text() for s in SECRETS)
    _button(at, "mongo_delete").click().run()
    _button(at, "mongo_delete-confirm").click().run()
    assert not at.exception
    log = AuditLog(tmp_path / "audit.sqlite3").query()
    assert {"check source", "save source", "delete source"} <= set(log["action"])
    assert not any(s in " ".join(log["params"]) + " ".join(log["result"]) for s in SECRETS)
    assert set(log[log["action"] == "check source"]["outcome"]) == {"succeeded"}


def test_forty_wrong_passwords_lock_out_and_every_failure_is_audited(engine, monkeypatch, tmp_path):
    at = make_app(monkeypatch, engine.url, tmp_path, PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD=OPERATOR_PASSWORD)
    at.run()
    at.text_input[0].input("mallory")
    for i in range(40):
        at.text_input[1].input(f"guess-{i}")
        at.button[0].click().run()
    assert "locked out" in "\n".join(e.value for e in at.error)
    at.text_input[1].input(OPERATOR_PASSWORD)
    at.button[0].click().run()
    assert "role" not in at.session_state  # the right password is refused during the lockout
    assert "locked out" in "\n".join(e.value for e in at.error)
    log = AuditLog(tmp_path / "audit.sqlite3").query(action="sign in")
    assert len(log) == 41 and set(log["who"]) == {"mallory"} and not log["ok"].any()
    assert OPERATOR_PASSWORD not in " ".join(log["params"]) + " ".join(log["result"])


def _failed_import_with_header(clients, tmp_path: Path, name: str, header: str) -> str:
    group, dataset = interactions_dataset(clients, name)
    path = tmp_path / f"{name}.csv"
    path.write_text(f"USER_ID,ITEM_ID,\"{header}\"\nu1,i1,1\n", encoding="utf-8")
    job = clients.personalize.create_dataset_import_job(
        jobName=f"{name}-job", datasetArn=dataset, dataSource={"dataLocation": path.resolve().as_uri()},
        roleArn=ROLE_ARN)["datasetImportJobArn"]
    with pytest.raises(Failed):
        wait_until(lambda: clients.personalize.describe_dataset_import_job(datasetImportJobArn=job)[
            "datasetImportJob"], "import", timeout=60, interval=0.05)
    return group


def _markdown_sources(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "success", "warning", "info", "error")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


@pytest.mark.parametrize("page", ["pages/data.py", "pages/overview.py"])
def test_a_failure_reason_is_shown_as_text(engine, clients, monkeypatch, tmp_path, page):
    group = _failed_import_with_header(clients, tmp_path, f"sec-md-{Path(page).stem}", INJECTION)
    at = make_app(monkeypatch, engine.url, tmp_path, group)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    shown = [s for s in _markdown_sources(at) if "BOLD" in s]
    assert shown, "the failure reason is on the page"
    for source in shown:
        for raw in ("![x](", "**BOLD**", "$x^2$", ":red["):
            assert raw not in source  # every Markdown, KaTeX and directive opener is escaped
        assert not re.search(r"(?<!\\)<b>", source)  # and so is HTML
        assert source.replace("\\", "").count("![x](http://127.0.0.1:9/beacon.png) **BOLD**") == 1


def test_ids_and_names_in_markdown_helpers_stay_literal():
    from ui.text import md, md_code

    for value in ("S_**bold**", "u_1", INJECTION, "# heading", "1. item", "> quote", "a\n\n    code", "&lt;b&gt;",
                  "www.example.com", "ops@example.com", ":material/home:"):
        escaped = md(value)
        assert escaped.replace("\\", "") == " ".join(value.split())
    assert md("USER_ID") == "USER_ID"  # ids stay readable
    assert md_code("a`b") == "``a`b``"
