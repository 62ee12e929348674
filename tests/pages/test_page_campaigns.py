"""Campaigns page (AppTest): the stale warning, Update to newest, the test call, the price table."""

from __future__ import annotations

import pytest

from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop, texts

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
    at.text_input(key="test_user").set_value(str(user))
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


def test_deploy_and_delete_need_a_second_yes(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    at.text_input(key="deploy_name").set_value("pcamp-extra")
    at.button(key="deploy_campaign").click().run()
    assert any("a month" in w.value for w in at.warning)  # the cost is stated before anything is created
    names = lambda: [c["name"] for c in shop.p.list_campaigns()["campaigns"]]  # noqa: E731
    assert "pcamp-extra" not in names()
    at.button(key="deploy_campaign-confirm").click().run()
    assert not at.exception, at.exception
    assert "pcamp-extra" in names()
    arn = next(c["campaignArn"] for c in shop.p.list_campaigns()["campaigns"] if c["name"] == "pcamp-extra")
    wait_for(lambda: shop.p.describe_campaign(campaignArn=arn)["campaign"]["status"], lambda s: s == "ACTIVE")
    at.run()
    at.button(key="delete_pcamp-extra").click().run()
    assert any("stops its recommendations" in w.value for w in at.warning)
    assert "pcamp-extra" in names()
    at.button(key="delete_pcamp-extra-confirm").click().run()
    assert not at.exception, at.exception
    at.run()  # the campaign shows while it is DELETE PENDING / DELETE IN_PROGRESS, as on AWS
    assert not at.exception, at.exception
    wait_for(names, lambda listed: "pcamp-extra" not in listed, timeout=30)


def test_raising_tps_states_the_monthly_cost(shop, monkeypatch):
    name = "pcamp-shop-popularity-count"
    arn = next(c["campaignArn"] for c in shop.p.list_campaigns()["campaigns"] if c["name"] == name)
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    at.number_input(key=f"tps_{name}").set_value(3)
    save = next(b for b in at.button if b.label == "Save settings")  # cards are sorted: popularity-count first
    save.click().run()
    assert any("adds about" in w.value and "a month" in w.value for w in at.warning)
    assert shop.p.describe_campaign(campaignArn=arn)["campaign"]["minProvisionedTPS"] == 1
    at.button(key=f"tps_{name}-confirm").click().run()
    assert not at.exception, at.exception
    wait_for(lambda: shop.p.describe_campaign(campaignArn=arn)["campaign"]["minProvisionedTPS"], lambda t: t == 3)
