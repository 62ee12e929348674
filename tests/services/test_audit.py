from __future__ import annotations

import pytest

from services.core.audit import AuditLog, redact


def test_actions_are_recorded_with_outcome_and_duration(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    with log.action("ana", "operator", "retrain", {"solution": "s1"}) as outcome:
        outcome.result = "arn:aws:personalize:::solution/s1/abc"
    with pytest.raises(RuntimeError), log.action("ana", "operator", "delete campaign", {"campaign": "c"}):
        raise RuntimeError("resource in use")
    frame = log.query()
    assert list(frame["action"]) == ["delete campaign", "retrain"]  # newest first
    assert list(frame["ok"]) == [False, True]
    assert "resource in use" in frame["result"].iloc[0]
    assert (frame["duration_s"] >= 0).all()
    assert list(log.query(ok=False)["action"]) == ["delete campaign"]
    assert log.actions() == ["delete campaign", "retrain"]


def test_durable_across_reopen(tmp_path):
    AuditLog(tmp_path / "a.sqlite3").record("bo", "viewer", "x", {}, True, "ok", 0.1)
    assert list(AuditLog(tmp_path / "a.sqlite3").query()["who"]) == ["bo"]


def test_secrets_are_never_stored():
    params = {"uri": "mongodb://shop:s3cret@db.example:27017/events", "password": "hunter2",
              "aws_secret_access_key": "abc", "datasetArn": "arn:x", "tagKeys": ["a"]}
    clean = redact(params)
    assert "s3cret" not in clean["uri"] and clean["uri"].startswith("mongodb://shop:***@")
    assert clean["password"] == "***" and clean["aws_secret_access_key"] == "***"
    assert clean["datasetArn"] == "arn:x" and clean["tagKeys"] == ["a"]
