"""services.models.campaigns against the engine: stale view, update to newest, sync, settings, test call."""

from __future__ import annotations

import pandas as pd
import pytest

from services.models import campaigns, solutions
from tests.support.engine_process import wait_for
from tests.support.shops import small_shop

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("campaigns"), "camp-shop") as s:
        yield s


@pytest.fixture
def data_dir(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))


def views(shop) -> dict[str, campaigns.CampaignView]:
    return {v.recipe: v for v in campaigns.campaign_views(shop.p, shop.result.dataset_group_arn, "us-east-1")}


def settled(shop):
    return wait_for(lambda: views(shop), lambda vs: not any(v.health.updating for v in vs.values()), timeout=60)


def test_kinds_exploration_and_cost(shop):
    vs = views(shop)
    assert vs[UP].kind == campaigns.USER and vs["aws-similar-items"].kind == campaigns.ITEM
    assert vs["aws-popularity-count"].kind == campaigns.USER
    assert vs[UP].exploration_weight == pytest.approx(0.3)
    assert vs["aws-similar-items"].exploration_weight is None
    assert campaigns.cost_of(vs[UP], "us-east-1", {"us-east-1": 0.5}) == pytest.approx(0.5 * 730)


def test_a_new_version_makes_the_campaign_stale_until_updated(shop):
    arn = shop.result.solutions[UP]
    version = solutions.train(shop.p, arn, "FULL")
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=60)
    view = views(shop)[UP]
    assert view.health.stale and "still serves" in view.health.advice()
    assert campaigns.update_to_newest(shop.p, view.arn) == version
    after = settled(shop)[UP]
    assert after.health.serving_version == version and not after.health.stale
    with pytest.raises(ValueError, match="already serves"):
        campaigns.update_to_newest(shop.p, view.arn)


def test_sync_toggle_and_settings_keep_the_rest_of_the_config(shop):
    arn = views(shop)[UP].arn
    sent: list[dict] = []
    record = lambda params, **_: sent.append(dict(params))  # noqa: E731
    shop.p.meta.events.register("provide-client-params.personalize.UpdateCampaign", record)
    try:
        campaigns.set_sync(shop.p, arn, True)
    finally:
        shop.p.meta.events.unregister("provide-client-params.personalize.UpdateCampaign", record)
    assert sent[0]["solutionVersionArn"].endswith("/$LATEST")  # what AWS requires with sync on
    assert settled(shop)[UP].health.sync_with_latest
    campaigns.update_settings(shop.p, arn, 3, exploration_weight=0.1, metadata=True)
    view = settled(shop)[UP]
    assert view.health.min_provisioned_tps == 3 and view.exploration_weight == pytest.approx(0.1)
    assert view.metadata_enabled and view.health.sync_with_latest  # sync survived the settings update
    with pytest.raises(ValueError, match="between 0 and 1"):
        campaigns.update_settings(shop.p, arn, 1, exploration_weight=2)
    with pytest.raises(ValueError, match="at least 1"):
        campaigns.update_settings(shop.p, arn, 0)


def test_test_call_returns_ranked_items_with_metadata_and_scores(shop, data_dir):
    users, items = campaigns.example_ids(shop.p, shop.result.dataset_group_arn)
    assert users and items
    vs = settled(shop)
    columns = campaigns.item_metadata_columns(shop.p, shop.result.dataset_group_arn)
    assert "NAME" in columns
    out = campaigns.try_campaign(shop.clients.runtime, vs[UP], user_id=users[0], num_results=5,
                                 metadata_columns=columns)
    assert list(out["rank"]) == [1, 2, 3, 4, 5]
    assert out["score"].is_monotonic_decreasing and "NAME" in out.columns
    related = campaigns.try_campaign(shop.clients.runtime, vs["aws-similar-items"], item_id=items[0])
    assert items[0] not in set(related["itemId"]) and len(related) == 10
    with pytest.raises(ValueError, match="enter an item ID"):
        campaigns.try_campaign(shop.clients.runtime, vs["aws-similar-items"], user_id=users[0])
    with pytest.raises(ValueError, match="enter a user ID"):
        campaigns.try_campaign(shop.clients.runtime, vs[UP], item_id=items[0])


def test_price_table_round_trip_and_errors():
    frame = campaigns.price_table_frame()
    assert campaigns.price_table_from_frame(frame)["us-east-1"] == pytest.approx(0.20)
    with pytest.raises(ValueError, match="not a number"):
        campaigns.price_table_from_frame(pd.DataFrame({"region": ["x"], "usd_per_tps_hour": ["cheap"]}))
    with pytest.raises(ValueError, match="no region"):
        campaigns.price_table_from_frame(pd.DataFrame({"region": [""], "usd_per_tps_hour": [1.0]}))
    with pytest.raises(ValueError, match="0 or more"):
        campaigns.price_table_from_frame(pd.DataFrame({"region": ["x"], "usd_per_tps_hour": [-1.0]}))
