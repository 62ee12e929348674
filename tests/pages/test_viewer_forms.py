"""A viewer submitting the forms that change things (Train, create dataset group, create event tracker,
send an event): the forms are drawn for viewers too, so the refusal in `run_action` is all that stops
them. Each test submits the form through the real app (AppTest) and asks the engine that nothing
happened. Seen to fail with that refusal removed."""

from __future__ import annotations

import pytest

from tests.support.apptest import make_app
from tests.support.engine_shop import settle
from tests.support.shops import small_shop

REFUSAL = "Viewers cannot change anything here"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("viewer-forms"), "viewer-forms") as s:
        yield s


def viewer_on(monkeypatch, shop, page: str):
    at = make_app(monkeypatch, shop.clients.backend.endpoint_url, shop.data_dir, shop.result.dataset_group_arn,
                  timeout=120, PERSONALIZE_DASHBOARD_ROLE="viewer")
    at.run()
    assert at.session_state["role"] == "viewer"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def submit(at, label: str):
    button = next((b for b in at.button if b.label == label), None)
    assert button is not None, f"no {label!r} button; buttons: {[b.label for b in at.button]}"
    at = button.click().run()
    assert not at.exception, at.exception
    return at


def refused(at) -> bool:
    return any(REFUSAL in w.value for w in at.warning)


def audited_actions(shop) -> list[str]:
    from services.core.audit import AuditLog

    path = shop.data_dir / "audit.sqlite3"
    return [] if not path.exists() else AuditLog(path).actions()


def test_a_viewer_pressing_train_starts_no_training(monkeypatch, shop):
    p = shop.p
    solution = p.describe_campaign(campaignArn=shop.result.campaigns["aws-user-personalization"])["campaign"][
        "solutionVersionArn"].rsplit("/", 1)[0]
    before = p.list_solution_versions(solutionArn=solution)["solutionVersions"]
    at = viewer_on(monkeypatch, shop, "pages/training.py")
    at.session_state["training_solution"] = solution
    at = submit(at.run(), "Train")
    assert refused(at)
    assert not at.success
    assert p.list_solution_versions(solutionArn=solution)["solutionVersions"] == before
    assert "train" not in audited_actions(shop)


def test_a_viewer_cannot_create_a_dataset_group(monkeypatch, shop):
    p = shop.p
    before = {g["name"] for g in p.list_dataset_groups()["datasetGroups"]}
    at = viewer_on(monkeypatch, shop, "pages/data.py")
    field = next(t for t in at.text_input if t.label == "Dataset group name")
    field.input("viewer-made-group")
    at = submit(at, "Create dataset group")
    assert refused(at)
    after = {g["name"] for g in p.list_dataset_groups()["datasetGroups"]}
    assert "viewer-made-group" not in after and after == before


def test_a_viewer_cannot_create_an_event_tracker(monkeypatch, shop):
    p = shop.p
    group = shop.result.dataset_group_arn
    assert p.list_event_trackers(datasetGroupArn=group)["eventTrackers"] == []
    at = viewer_on(monkeypatch, shop, "pages/events.py")
    at = submit(at, "Create event tracker")
    assert refused(at)
    assert p.list_event_trackers(datasetGroupArn=group)["eventTrackers"] == []


def test_a_viewer_sending_a_test_event_sends_nothing(monkeypatch, shop):
    p, runtime = shop.p, shop.clients.runtime
    group = shop.result.dataset_group_arn
    if not p.list_event_trackers(datasetGroupArn=group)["eventTrackers"]:
        tracker = p.create_event_tracker(name="viewer-forms-tracker", datasetGroupArn=group)["eventTrackerArn"]
        settle(lambda: p.describe_event_tracker(eventTrackerArn=tracker), "eventTracker")
    campaign = shop.result.campaigns["aws-user-personalization"]

    def items(user: str) -> list[str]:
        return [i["itemId"] for i in runtime.get_recommendations(campaignArn=campaign, userId=user)["itemList"]]

    at = viewer_on(monkeypatch, shop, "pages/events.py")
    at.text_input(key="ev_user").input("viewer-visitor")
    at = submit(at, "Send the event and compare")
    assert refused(at)
    assert not any("list changed" in s.value for s in at.success)
    # No event reached the engine: the visitor is still a stranger, with the same list as any other one.
    assert items("viewer-visitor") == items("someone-never-seen")
