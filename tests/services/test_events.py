"""Event tracker, test events and their log, against a real engine."""

from __future__ import annotations

import pytest

from services.core.config import BackendInfo
from services.recommendations.events import (
    EventLog,
    OutgoingEvent,
    check_event,
    engine_recent_events,
    ensure_tracker,
    list_trackers,
    send_and_compare,
    send_event,
)
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("events-data"), "events-shop") as s:  # files staged in that folder
        yield s.clients, s.result


def test_one_tracker_per_group_created_once(shop):
    clients, result = shop
    first = ensure_tracker(clients.personalize, result.dataset_group_arn, "dash-events")
    again = ensure_tracker(clients.personalize, result.dataset_group_arn, "another-name")
    assert first.arn == again.arn and first.tracking_id and first.status == "ACTIVE"
    assert len(list_trackers(clients.personalize, result.dataset_group_arn)) == 1


def test_bad_events_are_refused_before_any_call():
    with pytest.raises(ValueError, match="a user id, an item id"):
        check_event(OutgoingEvent(" ", "", "click"))
    with pytest.raises(ValueError, match="event type"):
        check_event(OutgoingEvent("u", "i", ""))
    cleaned = check_event(OutgoingEvent(" u ", " i ", " click ", float("nan")))
    assert (cleaned.user_id, cleaned.item_id, cleaned.event_value, cleaned.session_id) == ("u", "i", None,
                                                                                            "dashboard-u")


def test_an_event_turns_a_new_users_popular_list_personal(shop, tmp_path):
    clients, result = shop
    tracker = ensure_tracker(clients.personalize, result.dataset_group_arn, "dash-events")
    log = EventLog(tmp_path / "sent.jsonl")
    group = result.dataset_group_arn
    up = result.campaigns["aws-user-personalization"]
    outcome = send_and_compare(clients.runtime, clients.events, up, tracker.tracking_id, group,
                               OutgoingEvent("brand-new-visitor", "P00001", "click"), n=10, log=log, settle_timeout=0)
    assert outcome.changed
    popular = [i["itemId"] for i in clients.runtime.get_recommendations(
        campaignArn=up, userId="someone-else-new", numResults=10)["itemList"]]
    assert outcome.before == popular  # before the event: the popular items every new user gets
    assert "new" in outcome.frame()["new"].tolist()

    purchase = OutgoingEvent("brand-new-visitor", "P00002", "purchase", 9.5)
    send_event(clients.events, tracker.tracking_id, group, purchase, log)
    sent = log.recent(group)
    assert sent["item_id"].tolist() == ["P00002", "P00001"]  # newest first
    assert sent["event_value"].iloc[0] == 9.5
    assert log.recent("arn:other").empty

    engine_events = engine_recent_events(clients.backend, group, limit=10)
    assert engine_events["ITEM_ID"].tolist()[:2] == ["P00002", "P00001"]
    aws = BackendInfo("aws", "us-east-1", None, None)
    assert engine_recent_events(aws, group) is None  # AWS has no read-back


def test_a_damaged_log_line_is_skipped(tmp_path):
    path = tmp_path / "sent.jsonl"
    path.write_text('{"user_id": "u", "dataset_group_arn": "g"}\n{broken\n')
    assert EventLog(path).recent("g")["user_id"].tolist() == ["u"]


def test_aws_errors_surface_and_nothing_is_logged(shop, tmp_path):
    from botocore.exceptions import ClientError

    clients, result = shop
    log = EventLog(tmp_path / "sent.jsonl")
    with pytest.raises(ClientError):
        send_event(clients.events, "no-such-tracking-id", result.dataset_group_arn,
                   OutgoingEvent("u", "P00001", "click"), log)
    assert log.recent().empty
