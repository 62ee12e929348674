"""Events page (AppTest): *Create event tracker* never leaves the page saying "no event tracker yet" and
"ready" at once; a tracker that is not ACTIVE yet is followed (a fragment that reruns) until it is."""

from __future__ import annotations

import uuid

from services.core.audit import AuditLog
from tests.support.apptest import make_app
from tests.support.engine_process import wait_for
from tests.support.shops import texts


def _group(personalize) -> str:
    arn = personalize.create_dataset_group(name=f"ev-follow-{uuid.uuid4().hex[:8]}")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"],
             lambda s: s == "ACTIVE", timeout=30)
    return arn


def _tracker_status(personalize, group: str) -> str:
    found = personalize.list_event_trackers(datasetGroupArn=group)["eventTrackers"]
    return found[0]["status"] if found else ""


def test_create_tracker_shows_one_state_and_follows_it(engine, personalize, tmp_path, monkeypatch):
    group = _group(personalize)
    at = make_app(monkeypatch, engine.url, tmp_path, group).run()
    at.switch_page("pages/events.py").run()
    assert not at.exception, at.exception
    assert any("no event tracker" in i.value for i in at.info)
    # Tracker names are unique in the account (the engine is shared by the session's tests).
    name = f"follow-{uuid.uuid4().hex[:8]}"
    at.text_input[0].input(name)
    next(b for b in at.button if b.label == "Create event tracker").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    # One state per run: the form that created it is gone as soon as the tracker exists.
    assert "no event tracker" not in shown, shown
    assert "tracking id" in shown
    if "Creating the event tracker" in shown:  # still pending: the fragment follows it
        wait_for(lambda: _tracker_status(personalize, group), lambda s: s == "ACTIVE", timeout=30)
        at.run()
        shown = texts(at)
    assert "Creating the event tracker" not in shown
    assert "is ready" in shown, shown
    assert "Send the event and compare" not in shown  # no campaign yet: the send form says why instead
    assert any("No ACTIVE campaign" in i.value for i in at.info)
    # The audit log says what was made, in words (not a class name or a Python repr).
    row = AuditLog(tmp_path / "audit.sqlite3").query(action="create event tracker").iloc[0]
    assert row["result"].startswith(f"tracker: name {name}, status "), row["result"]


def test_a_pending_tracker_is_followed_until_active(engine, personalize, tmp_path, monkeypatch):
    group = _group(personalize)
    personalize.create_event_tracker(name=f"pending-{uuid.uuid4().hex[:8]}", datasetGroupArn=group)
    at = make_app(monkeypatch, engine.url, tmp_path, group).run()
    at.switch_page("pages/events.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "no event tracker" not in shown
    if _tracker_status(personalize, group) != "ACTIVE" and "Creating the event tracker" in shown:
        wait_for(lambda: _tracker_status(personalize, group), lambda s: s == "ACTIVE", timeout=30)
        at.run()
    assert "ACTIVE" in texts(at)
    assert "Creating the event tracker" not in texts(at)
