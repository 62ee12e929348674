"""Campaign health knows when data arrived after the serving version was trained (the Overview and the
Campaigns page say how many interactions and how long ago), and forgets it once a retrain serves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from services.models import campaigns
from services.models.campaign_health import campaign_health
from services.models.data_freshness import ago
from tests.support.engine_shop import settle
from tests.support.shops import open_page, small_shop, texts

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("freshness"), "fresh-shop") as s:
        yield s


def _health(shop) -> dict[str, object]:
    return {h.name: h for h in campaign_health(shop.p, shop.result.dataset_group_arn)}


def _new_events(n: int) -> pd.DataFrame:
    return pd.DataFrame({"USER_ID": [f"U{i % 7:05d}" for i in range(n)],
                         "ITEM_ID": [f"P{i % 11:05d}" for i in range(n)],
                         "EVENT_TYPE": "click", "TIMESTAMP": 1_800_000_000 + pd.RangeIndex(n)})


def test_interactions_imported_after_training_are_counted_until_a_retrain_serves_them(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
    before = _health(shop)
    assert before and not any(h.behind_data for h in before.values())
    assert all(h.advice() == "Serves the newest ACTIVE solution version." for h in before.values())

    assert shop.import_frame(_new_events(437), "fresh-more") == "ACTIVE"
    after = _health(shop)
    up = next(h for h in after.values() if h.serving_version == shop.serving(UP))
    assert not up.stale and up.behind_data
    assert up.freshness.newer_imports == 1 and up.freshness.newer_rows == 437
    assert "437 interactions (1 import) arrived after the serving version was trained" in up.advice()
    assert "the newest just now" in up.advice()

    at = open_page(monkeypatch, shop, "pages/overview.py", timeout=120)
    page = texts(at)
    assert "437 interactions (1 import) arrived after the serving version was trained" in page
    assert "trained on all the interactions imported so far" not in page

    # A new version trained on everything, served: the campaign is fresh again.
    version = shop.p.create_solution_version(solutionArn=up.solution_arn)["solutionVersionArn"]
    settle(lambda: shop.p.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    campaigns.update_to_newest(shop.p, up.campaign_arn)
    settle(lambda: shop.p.describe_campaign(campaignArn=up.campaign_arn), "campaign")
    settled = settle(lambda: {"campaign": {"status": (shop.campaign(UP).get("latestCampaignUpdate") or {})
                                                      .get("status", "ACTIVE")}}, "campaign")
    assert settled["status"] == "ACTIVE"
    again = _health(shop)[up.name]
    assert again.serving_version == version and not again.behind_data


def test_ago_in_words():
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert ago(now - timedelta(days=3, hours=5), now) == "3 days ago"
    assert ago(now - timedelta(hours=1, minutes=2), now) == "1 hour ago"
    assert ago(now - timedelta(seconds=20), now) == "just now"
