"""AppTest: the Campaigns test panel names items even with metadata off and says when a user is cold;
Side by side shows users with no interactions as the expected cold-start baseline, not as red."""

from __future__ import annotations

import pytest

from services.recommendations.side_by_side import load_group_data
from tests.support.shops import open_page, small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-cold-users"), "pcold-shop") as s:
        yield s


def _ask(at, campaign: str, user: str):
    at.selectbox(key="test_campaign").set_value(campaign).run()
    at.text_input(key="test_user").set_value(user)
    at.button[-1].click().run()  # the form's "Get recommendations"
    assert not at.exception, at.exception
    return at


def test_metadata_off_still_shows_names_categories_and_prices(shop, monkeypatch):
    assert not shop.campaign("aws-user-personalization").get("campaignConfig", {}).get(
        "enableMetadataWithRecommendations")  # the demo deploys with metadata off
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    user = str(shop.plan.phases()[0]["USER_ID"].value_counts().index[0])
    _ask(at, "pcold-shop-user-personalization", user)
    result = at.dataframe[-1].value
    assert list(result.columns[:6]) == ["rank", "itemId", "score", "name", "category", "price"]
    assert len(result) == 10 and (result["name"].str.len() > 0).all()
    assert result["price"].notna().all() and (result["category"].str.len() > 0).all()
    captions = " ".join(c.value for c in at.caption)
    assert "names, categories and prices come from the Items data" in captions
    assert not any("Cold user" in i.value for i in at.info)  # a user with history gets no cold note


def test_an_unknown_user_is_named_cold(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    _ask(at, "pcold-shop-user-personalization", "U-nobody-knows")
    notes = [i.value for i in at.info if "Cold user" in i.value]
    assert len(notes) == 1, [i.value for i in at.info]
    assert "U-nobody-knows is not in the Users or Interactions data" in notes[0]
    assert "cold-start answer" in notes[0]
    assert len(at.dataframe[-1].value) == 10  # the list is still shown


def test_side_by_side_judges_users_with_no_history_apart(shop, monkeypatch):
    data = load_group_data(shop.p, shop.result.dataset_group_arn)
    heavy = data.history_lengths.index[:4].tolist()  # users with plenty of history: personal lists
    strangers = [f"stranger-{j}" for j in range(4)]  # no interactions: the cold-start list, all alike
    at = open_page(monkeypatch, shop, "pages/recommendations.py", timeout=120)
    at.radio(key="rec_source").set_value("Type user ids").run()
    at.text_area(key="rec_typed").input(", ".join(heavy + strangers)).run()
    assert not at.exception, at.exception
    campaign = "pcold-shop-user-personalization"
    assert not any(e.value.startswith(f"**{campaign}") for e in at.error), [e.value for e in at.error]
    assert any(s.value.startswith(f"**{campaign}: Recommendations look personal for users with history")
               for s in at.success), [s.value for s in at.success]
    notes = [i.value for i in at.info if i.value.startswith(f"{campaign}: ")]
    assert notes and "100% of users with no interactions get the same top" in notes[0]
    assert "expected, not a fault" in notes[0] and "from any model" in notes[0]
