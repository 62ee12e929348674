"""Background work in the domain (no HTTP): a job that raises something unforeseen still settles its
record (nothing stays IN_PROGRESS until a restart), and a torn event log line costs no later event."""

from __future__ import annotations

import json
from pathlib import Path

from engine.backend import Backend
from engine.datastore import EventLog
from engine.resources.ledger import PENDING
from tests.support.engine_process import wait_for


def test_a_campaign_whose_model_cannot_be_unpickled_fails_with_a_reason(tmp_path: Path) -> None:
    backend = Backend(tmp_path)
    try:
        solution = backend.ledger.arn("solution", "s")
        version = f"{solution}/0123abcd"
        backend.store.put("solution-version", version, {
            "solutionVersionArn": version, "solutionArn": solution, "status": "ACTIVE",
            "recipeArn": "arn:aws:personalize:::recipe/aws-popularity-count",
            "datasetGroupArn": backend.ledger.arn("dataset-group", "g"),
        })
        path = backend.ledger.model_path(version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a pickle")  # e.g. written by an engine whose classes have since changed
        campaign = backend.campaigns.create(name="c", solution_version_arn=version)
        record = wait_for(lambda: backend.describe("campaign", campaign),
                          lambda r: r["status"] not in PENDING, timeout=10, interval=0.01)
        assert record["status"] == "CREATE FAILED"
        assert "UnpicklingError" in record["failureReason"]
    finally:
        backend.shutdown()


def test_an_event_after_a_torn_line_survives_a_restart(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    row = {"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1700000000, "EVENT_TYPE": "view"}
    log.append("g", "events", [row])
    with (tmp_path / "events" / "g.events.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row)[:20])  # the engine was killed in the middle of this write
    restarted = EventLog(tmp_path)
    later = dict(row, ITEM_ID="i2", TIMESTAMP=1700000100)
    restarted.append("g", "events", [later])
    assert [r["ITEM_ID"] for r in EventLog(tmp_path).read("g", "events")] == ["i1", "i2"]
