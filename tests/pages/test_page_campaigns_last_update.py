"""Campaigns page (AppTest): "Last update" says when the campaign last changed, with its zone, never a
status such as ACTIVE; an update in flight or failed is said in words."""

from __future__ import annotations

import pytest

from services.core.resources import when_utc
from services.core.wording import update_status_words
from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-campaigns-last-update"), "plu-shop") as s:
        yield s


def last_updates(at) -> list[str]:
    return [m.value for m in at.metric if m.label == "Last update"]


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_last_update_is_a_time_with_its_zone(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    shown = last_updates(at)
    assert len(shown) == 3 and all(v.endswith(" ago") or v == "just now" for v in shown), shown
    assert "ACTIVE" not in shown
    times = [c for c in captions(at) if c.endswith(" UTC")]
    assert len(times) == 3, captions(at)

    arn = shop.result.solutions[UP]
    version = solutions.train(shop.p, arn)
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=60)
    at.run()
    at.button(key="upd_plu-shop-user-personalization").click().run()
    assert not at.exception, at.exception
    wait_for(lambda: shop.serving(UP), lambda v: v == version, timeout=60)
    campaign = next(c for c in shop.p.list_campaigns()["campaigns"] if c["name"] == "plu-shop-user-personalization")
    described = shop.p.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"]
    at.run()
    assert when_utc(described["latestCampaignUpdate"]["lastUpdatedDateTime"]) in captions(at)


def test_an_update_in_flight_or_failed_is_said_in_words():
    assert update_status_words("ACTIVE") == "" and update_status_words(None) == ""
    assert update_status_words("CREATE IN_PROGRESS") == "an update is in progress"
    assert update_status_words("CREATE FAILED") == "the last update failed"
