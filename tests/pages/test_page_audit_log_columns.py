"""Audit log (AppTest): human column names, and what happened and how it ended before the long parameters."""

from __future__ import annotations

import json

from services.core.audit import AuditLog
from tests.support.apptest import make_app


def test_columns_have_human_names_and_the_result_comes_early(monkeypatch, engine, tmp_path):
    AuditLog(tmp_path / "audit.sqlite3").record("ana", "operator", "retrain", {"solution": "shop"}, True,
                                                 "tracker: name t, status ACTIVE", 1.5)
    at = make_app(monkeypatch, engine.url, tmp_path).run()
    at.switch_page("pages/audit_log.py").run()
    assert not at.exception, at.exception
    proto = at.dataframe[0].proto
    config = json.loads(proto.columns)
    labels = {name: c.get("label") for name, c in config.items()}
    assert labels["duration_s"] == "Seconds" and labels["params"] == "Parameters" and labels["result"] == "Result"
    assert not any("_" in (label or "") for label in labels.values())
    order = list(proto.column_order)
    assert order.index("result") < order.index("params") and "ok" not in order
