"""AppTest of the Events page: create a tracker, send an event, see the list change and the logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan, create_demo_shop
from tests.support.apptest import make_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(engine, tmp_path, monkeypatch):
    return make_app(monkeypatch, engine.url, tmp_path, timeout=120)


def test_tracker_event_before_and_after(app, engine):
    clients = Clients(BackendInfo("local", "us-east-1", engine.url, None))
    result = create_demo_shop(clients, DemoPlan.small(name="page-events-shop"))
    app.session_state["dataset_group_arn"] = result.dataset_group_arn
    at = app.switch_page("pages/events.py").run()
    assert not at.exception
    assert any("no event tracker" in i.value for i in at.info)
    at.button[0].click().run()  # the form's "Create event tracker"
    assert not at.exception
    at.switch_page("pages/events.py").run()
    assert "tracking id" in at.markdown[0].value or any("tracking id" in m.value for m in at.markdown)
    assert at.selectbox(key="ev_campaign").value.endswith("user-personalization")
    at.text_input(key="ev_user").input("brand-new-visitor")
    submit = next(b for b in at.button if b.label == "Send the event and compare")
    submit.click().run()
    assert not at.exception
    assert any("list changed" in s.value for s in at.success)
    logged = [d.value for d in at.dataframe if "event_id" in d.value.columns]
    assert logged and logged[0]["user_id"].iloc[0] == "brand-new-visitor"
    engine_events = [d.value for d in at.dataframe if "EVENT_TYPE" in d.value.columns]
    assert engine_events and engine_events[0]["USER_ID"].iloc[0] == "brand-new-visitor"


def test_a_bad_event_is_explained_not_raised(app, engine):
    clients = Clients(BackendInfo("local", "us-east-1", engine.url, None))
    result = create_demo_shop(clients, DemoPlan.small(name="page-events-bad"))
    clients.personalize.create_event_tracker(name="t", datasetGroupArn=result.dataset_group_arn)
    app.session_state["dataset_group_arn"] = result.dataset_group_arn
    at = app.switch_page("pages/events.py").run()
    at.text_input(key="ev_user").input("   ")
    next(b for b in at.button if b.label == "Send the event and compare").click().run()
    assert not at.exception
    assert any("needs a user id" in e.value for e in at.error)
