"""Campaigns page (AppTest): the stale warning, Update to newest, the test call, the price table."""

from __future__ import annotations

import pytest

from services import solutions
from tests.engine_process import wait_for
from tests.pipeline_helpers import open_page, small_shop, texts

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-campaigns"), "pcamp-shop") as s:
        yield s


def test_stale_campaign_is_named_and_updated(shop, monkeypatch):
    arn = shop.result.solutions[UP]
    version = solutions.train(shop.p, arn)
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=60)
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    assert any("pcamp-shop-user-personalization" in w.value and "Stale" in w.value for w in at.warning)
    assert any("still serves" in w.value for w in at.warning)
    at.button(key="upd_pcamp-shop-user-personalization").click().run()
    assert not at.exception, at.exception
    wait_for(lambda: shop.serving(UP), lambda v: v == version, timeout=60)
    at.run()
    assert not any("Stale" in w.value for w in at.warning)


def test_test_call_shows_ranked_items(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    at.selectbox(key="test_campaign").set_value("pcamp-shop-user-personalization").run()
    user = shop.plan.phases()[0]["USER_ID"].iloc[0]
    at.text_input[0].set_value(str(user))
    at.button[-1].click().run()  # the form's "Get recommendations"
    assert not at.exception, at.exception
    result = at.dataframe[-1].value
    assert list(result.columns[:3]) == ["rank", "itemId", "score"] and len(result) == 10


def test_test_call_without_input_explains(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    at.selectbox(key="test_campaign").set_value("pcamp-shop-similar-items").run()
    at.button[-1].click().run()
    assert not at.exception
    assert any("enter an item ID" in e.value for e in at.error)


def test_cost_follows_the_price_table(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    assert "$146" in [m.value for m in at.metric]  # 1 TPS x $0.20 x 730 h
    at.session_state["campaign_price_table"] = {"us-east-1": 1.0}
    at.run()
    assert "$730" in [m.value for m in at.metric]
    assert "730 hours" in texts(at)
