"""Every secret-bearing part of a MongoDB URI is kept apart from the saved source's JSON and the audit log."""

from __future__ import annotations

import json
import stat

import pytest

from services.core.audit import AuditLog
from services.core.uri_secrets import redact_text, redact_uri
from services.data.sources import saved
from services.data.sources.mongo import MongoSource

SECRETS = ("s3cr3t pass", "keyfile-pass", "FQoGZXIvYXdzEJr//token")
URI = ("mongodb://shop:s3cr3t pass@db1:27017,db2:27017/shop?tls=true&tlsCertificateKeyFile=/etc/k.pem"
       "&tlsCertificateKeyFilePassword=keyfile-pass&authMechanism=MONGODB-AWS"
       "&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzEJr//token")


@pytest.mark.parametrize("uri, shown", [
    ("mongodb://u:p@h/db", "mongodb://u:***@h/db"),
    ("mongodb://u:p a ss@h/db", "mongodb://u:***@h/db"),
    ("mongodb+srv://u:p@ss@cluster.example/?retryWrites=true", "mongodb+srv://u:***@cluster.example/?retryWrites=true"),
    ("mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:t", "mongodb://h/?authMechanismProperties=***"),
    ("mongodb://h/?tlsCertificateKeyFilePassword=x&tls=true", "mongodb://h/?tlsCertificateKeyFilePassword=***&tls=true"),
    ("mongodb://localhost:27017/shop?tlsCertificateKeyFile=/k.pem", "mongodb://localhost:27017/shop?tlsCertificateKeyFile=/k.pem"),
])
def test_redact_uri(uri, shown):
    assert redact_uri(uri) == shown


def test_saved_json_holds_no_secret_and_the_pipeline_still_gets_the_whole_uri(tmp_path):
    source = MongoSource(uri=URI, database="shop", collection="events", mapping={"USER_ID": "u"})
    path = saved.save_source(tmp_path, "nightly", source)
    text = path.read_text()
    for secret in SECRETS:
        assert secret not in text
    assert json.loads(text)["config"]["uri"] == redact_uri(URI)
    secret_file = tmp_path / ".secrets" / "nightly.uri"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert saved.load_source(tmp_path, "nightly")["uri"] == URI  # what the retrain pipeline connects with
    shown = saved.shown_source(tmp_path, "nightly")["uri"]  # what a page may show
    assert not any(secret in shown for secret in SECRETS)


def test_an_unchanged_mask_means_the_saved_uri_an_edited_one_is_taken_as_typed(tmp_path):
    saved.save_source(tmp_path, "nightly", MongoSource(uri=URI, database="shop", collection="events"))
    shown = saved.shown_source(tmp_path, "nightly")["uri"]
    assert saved.resolve_uri(tmp_path, "nightly", shown) == URI
    edited = shown.replace("db1", "db9")
    assert saved.resolve_uri(tmp_path, "nightly", edited) == edited  # the operator types the secret again
    assert saved.resolve_uri(tmp_path, "other", shown) == shown
    assert saved.resolve_uri(tmp_path, None, "mongodb://h") == "mongodb://h"


def test_the_audit_log_never_stores_uri_secrets(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    with log.action("ana", "operator", "check source", {"uri": URI}) as outcome:
        outcome.result = f"could not reach {URI}"
    row = log.query().iloc[0]
    for secret in SECRETS:
        assert secret not in row["params"] and secret not in row["result"]
    assert redact_text(f"error for '{URI}'") == f"error for '{redact_uri(URI)}'"
