"""Every page in AWS mode against answers shaped like real AWS's, not only like our engine's.

The fake (tests/support/fake_aws.py) generates each answer from botocore's output shapes: with every
optional member, with none, or a seeded mix; List answers over pages of two; statuses, dataset types and
recipes our engine never produces. It runs in time zones with daylight saving too, because botocore
hands out datetimes in the local zone. A page must show what it can and explain the rest: no exception,
no refused runtime call, no "None" where a reason belongs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support.engine_process import REPO
from tests.support.fake_aws import FakeAws, Mode

PAGES = ["pages/overview.py", "pages/data.py", "pages/training.py", "pages/campaigns.py", "pages/compare.py",
         "pages/recommendations.py", "pages/events.py", "pages/impact.py", "pages/audit_log.py"]
# (seed, which optional members are present, List page size, time zone)
WORLDS: list[tuple[int, Mode, int, str]] = [
    (0, "all", 100, "America/Los_Angeles"),
    (1, "none", 100, "Europe/Berlin"),
    (2, "random", 2, "UTC"),
    (3, "random", 1, "Europe/Berlin"),
    (4, "random", 3, "America/Los_Angeles"),
]


@pytest.fixture(params=WORLDS, ids=lambda w: f"seed{w[0]}-{w[1]}-page{w[2]}-{w[3].split('/')[-1]}")
def fake(request, monkeypatch, tmp_path) -> Iterator[FakeAws]:
    seed, mode, page_size, zone = request.param
    server = FakeAws(seed, mode, page_size)
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSONALIZE_ENGINE_URL", raising=False)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield server
    server.stop()
    monkeypatch.undo()
    time.tzset()


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "text", "title", "header",
                 "subheader"):
        found += [str(element.value) for element in at.get(kind)]
    return found


def check_texts(at: AppTest, where: str) -> None:
    shown = texts(at)
    assert not [t for t in shown if "failed: None" in t or ": None." in t or "None." == t.strip()], (where, shown)
    assert not [t for t in shown if ".." in t.replace("...", "")], (where, shown)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def ask_every_campaign(at: AppTest) -> None:
    """The Campaigns page's test panel, once per ACTIVE campaign: the call must fit the recipe."""
    if not _has(at, "test_campaign"):
        return
    for name in at.selectbox(key="test_campaign").options:
        at.selectbox(key="test_campaign").set_value(name).run()
        for key, value in (("test_user", "U0001"), ("test_item", "I0001")):
            if _has(at, key, "text_input"):
                at.text_input(key=key).set_value(value)
        if _has(at, "test_ranking", "text_area"):
            at.text_area(key="test_ranking").set_value("I0001\nI0002\nI0003")
        _button(at, "Get recommendations").click().run()
        assert not at.exception, f"test call on {name}: {at.exception}"
        check_texts(at, f"test call on {name}")


def _has(at: AppTest, key: str, kind: str = "selectbox") -> bool:
    return any(getattr(e, "key", None) == key for e in at.get(kind))


def compare_side_by_side(at: AppTest) -> None:
    """Side by side for typed users (AWS keeps no history to sample from) under every campaign."""
    if not _has(at, "rec_typed", "text_area"):
        return
    at.text_area(key="rec_typed").set_value("U0001 U0002")
    if _has(at, "rec_candidates", "text_input"):
        at.text_input(key="rec_candidates").set_value("I0001 I0002 I0003")
    at.run()
    assert not at.exception, at.exception
    check_texts(at, "side by side")


def send_an_event(at: AppTest) -> None:
    """Events before/after on every campaign that recommends for users."""
    if not _has(at, "ev_campaign"):
        return
    for name in at.selectbox(key="ev_campaign").options:
        at.selectbox(key="ev_campaign").set_value(name)
        at.text_input(key="ev_item_typed").set_value("I0001")
        if _has(at, "ev_candidates", "text_input"):
            at.text_input(key="ev_candidates").set_value("I0001 I0002")
        _button(at, "Send the event and compare").click().run()
        assert not at.exception, f"event on {name}: {at.exception}"
        check_texts(at, f"event on {name}")


INTERACTIONS = {"pages/campaigns.py": ask_every_campaign, "pages/recommendations.py": compare_side_by_side,
                "pages/events.py": send_an_event}


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_any_answer_aws_may_send(fake: FakeAws, page: str) -> None:
    groups = [a for a in fake.service.world.order if fake.service.world.kinds[a] == "dataset-group"]
    for group in groups:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.session_state["dataset_group_arn"] = group
        at.run()
        assert not at.exception, at.exception
        at.switch_page(page).run()
        assert not at.exception, f"{page} on {group}: {at.exception}"
        check_texts(at, f"{page} on {group}")
        if page in INTERACTIONS:
            INTERACTIONS[page](at)
    if page in INTERACTIONS and fake.service.world.records and page != "pages/events.py":
        # Every ACTIVE campaign the page can ask was asked, with the call its recipe takes.
        asked = {call.split(" on ")[1] for call in fake.service.runtime_calls}
        assert asked >= _active_recipes(fake, page), (asked, fake.service.runtime_calls)
    refused = [call for call in fake.service.refused]
    assert not refused, f"runtime calls AWS refuses: {refused}"
    unfollowed = fake.service.tokens_issued - fake.service.tokens_followed
    assert not unfollowed, f"List pages never asked for: {sorted(unfollowed)}"


def _active_recipes(fake: FakeAws, page: str) -> set[str]:
    world = fake.service.world
    recipes = {world.records[world.records[a]["solutionVersionArn"]]["recipeArn"].rsplit("/", 1)[-1]
               for a in world.order if world.kinds[a] == "campaign" and world.records[a]["status"] == "ACTIVE"}
    if page == "pages/recommendations.py":  # a users grid has no place for related-items campaigns
        recipes -= {"aws-sims", "aws-similar-items"}
    return recipes


def test_the_worlds_hold_what_our_engine_never_sends() -> None:
    """The seeds above must keep covering Next-Best-Action datasets and campaigns, domain dataset groups,
    failed imports without a reason, reasons ending in a full stop, and List answers over several pages."""
    seen: dict[str, bool] = {k: False for k in ("ACTIONS", "ACTION_INTERACTIONS", "domain", "nba campaign",
                                                 "ranking campaign", "failed without reason", "reason with stop")}
    from tests.support.fake_aws import ACTION_RECIPES, RANKING_RECIPES, FakePersonalize

    for seed, mode, page_size, _ in WORLDS:
        world = FakePersonalize(seed, mode, page_size).world
        for arn in world.order:
            record, kind = world.records[arn], world.kinds[arn]
            if kind == "dataset":
                seen[str(record["datasetType"]).upper()] = True
            if kind == "dataset-group" and record.get("domain"):
                seen["domain"] = True
            if kind == "campaign":
                recipe = world.records[record["solutionVersionArn"]]["recipeArn"].rsplit("/", 1)[-1]
                seen["nba campaign"] |= recipe in ACTION_RECIPES and record["status"] == "ACTIVE"
                seen["ranking campaign"] |= recipe in RANKING_RECIPES and record["status"] == "ACTIVE"
            if kind == "dataset-import-job" and record["status"] == "CREATE FAILED":
                seen["failed without reason"] |= not record.get("failureReason")
                seen["reason with stop"] |= str(record.get("failureReason", "")).endswith(".")
    assert all(seen.values()), seen
    assert any(page_size < 3 for _, _, page_size, _ in WORLDS)
