"""Side-by-side service against a real engine (small demo shop), plus the throttling backoff."""

from __future__ import annotations

import pandas as pd
import pytest
from botocore.stub import Stubber

from services.core.throttling import call_with_backoff
from services.demo.shop_setup import DemoPlan
from services.recommendations.cell_format import category_paths_help, compact_cell, history_line
from services.recommendations.side_by_side import (
    duplication_reports_for,
    fetch_recommendations,
    filter_placeholders,
    filter_values_param,
    highlighted_items,
    list_campaigns,
    load_group_data,
    ranked_cell,
    recent_history,
    same_list_counts,
    sample_users,
    shown_item_counts,
    typed_users,
)
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("recs-data"), "recs-shop") as s:  # files staged in that folder
        yield s.clients, s.result


def test_sample_users_by_cohort_is_seeded_and_stratified():
    lengths = pd.Series({"a": 1, "b": 2, "c": 5, "d": 12, "e": 40, "f": 3})
    picked = sample_users(lengths, known_users=["a", "z", "y"], per_cohort=1, seed=3)
    assert list(picked["cohort"]) == ["none", "1–2", "3–9", "10+"]
    assert picked.loc[0, "user_id"] in {"y", "z"} and picked.loc[0, "interactions"] == 0
    assert picked.equals(sample_users(lengths.iloc[::-1], known_users=["y", "a", "z"], per_cohort=1, seed=3))


def test_typed_users_and_filter_values():
    typed = typed_users("u1, u2\nu1 u3", pd.Series({"u2": 4}))
    assert typed["user_id"].tolist() == ["u1", "u2", "u3"]
    assert typed["cohort"].tolist() == ["none", "3–9", "none"]
    assert filter_placeholders('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CAT) AND Items.PRICE < $MAX') == [
        "CAT", "MAX"]
    assert filter_values_param({"CAT": "Shoes, Books", "MAX": " ", "X": '"a"'}) == {
        "CAT": '"Shoes","Books"', "X": '"a"'}


def test_group_data_campaigns_and_grid_against_the_engine(shop):
    clients, result = shop
    data = load_group_data(clients.personalize, result.dataset_group_arn)
    plan = DemoPlan.small()
    initial, _ = plan.phases()
    assert len(data.interactions) == len(initial)  # the staged copy of the initial import
    assert {"name", "category", "price"} <= set(data.items.columns)
    assert data.items.loc["P00001", "category"].count("›") == 1  # "Books › Cooking"
    assert len(data.users) == plan.n_users

    campaigns = list_campaigns(clients.personalize, result.dataset_group_arn)
    by_recipe = {c.recipe: c for c in campaigns}
    assert not by_recipe["aws-similar-items"].serves_users  # needs itemId: not in a users grid
    usable = {c.name: c.arn for c in campaigns if c.serves_users}
    assert len(usable) == 2

    users = sample_users(data.history_lengths, data.users, per_cohort=6, seed=0)
    fetched = fetch_recommendations(clients.runtime, usable, users["user_id"].tolist(), num_results=10)
    assert not fetched.errors
    assert len(fetched.frame) == len(users) * 2 * 10

    pop = next(n for n in usable if n.endswith("popularity-count"))
    up = next(n for n in usable if n.endswith("user-personalization"))
    shown = users["user_id"].tolist()
    assert len(highlighted_items(fetched, pop, shown)) == 10  # everybody shares the popular list
    twins = same_list_counts(fetched, pop, shown)
    assert set(twins.values()) == {len(shown) - 1}
    new_users = users.loc[users["cohort"] == "none", "user_id"].tolist()
    assert all(same_list_counts(fetched, up, new_users)[u] == len(new_users) - 1 for u in new_users)

    cell = ranked_cell(fetched, pop, shown[0], data.items, shown_item_counts(fetched, pop, shown), len(shown))
    assert list(cell.columns) == ["#", "item", "name", "category", "price", "shared", "_share"]
    assert (cell["_share"] == 1.0).all() and cell["shared"].iloc[0] == f"{len(shown)}/{len(shown)}"
    # The page's narrow shape: name and category leaf in one column, the full path kept for the help.
    compact = compact_cell(cell)
    assert list(compact.columns) == ["#", "item", "price", "shared", "_share"]
    first = data.items.loc[cell["item"].iloc[0]]
    assert compact["item"].iloc[0] == f"{first['name']} · {first['category'].split(' › ')[-1]}"
    assert (compact["shared"] == len(shown)).all() and compact["price"].notna().all()
    assert first["category"] in category_paths_help(cell)

    reports = duplication_reports_for(fetched, data, k=10)
    assert reports[pop].level == "critical" and "popularity recipe" in reports[pop].verdict
    assert reports[up].cohorts["none"].same_list_share == 1.0
    # Users with no interactions get the cold-start list from any model: judged apart, with the reason.
    assert reports[up].cohorts["none"].expected and "expected, not a fault" in reports[up].no_history_note
    assert reports[up].verdict.startswith("Recommendations look personal for users with history")

    history = recent_history(data.interactions, shown, n=3, items=data.items)
    heavy = users.loc[users["cohort"] == "10+", "user_id"].iloc[0]
    assert len(history[heavy]) == 3 and history[heavy]["name"].str.len().min() > 0
    assert history[new_users[0]].empty
    assert history_line(history[heavy]).count("(") == 3 and history_line(history[new_users[0]]) == ""


def test_a_failed_cell_is_kept_and_the_rest_arrive(shop):
    clients, result = shop
    campaigns = {c.name: c.arn for c in list_campaigns(clients.personalize, result.dataset_group_arn)
                 if c.serves_users}
    campaigns["gone"] = campaigns[next(iter(campaigns))] + "-deleted"
    fetched = fetch_recommendations(clients.runtime, campaigns, ["U00001", "U00002"], num_results=5)
    assert set(fetched.errors) == {("gone", "U00001"), ("gone", "U00002")}
    assert fetched.frame["campaign"].nunique() == 2


def test_throttling_backs_off_then_succeeds(engine):
    client = engine.client("personalize-runtime")
    waits: list[float] = []
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error("get_recommendations", "ThrottlingException", http_status_code=400)
        stub.add_response("get_recommendations", {"itemList": [{"itemId": "P1"}, {"itemId": "P2"}]})
        fetched = fetch_recommendations(client, {"c": "arn:aws:personalize:us-east-1:0:campaign/c"}, ["u"],
                                        max_workers=1, sleep=waits.append)
    assert fetched.frame["item_id"].tolist() == ["P1", "P2"]
    assert fetched.throttled == 1 and len(waits) == 2 and not fetched.errors


def test_backoff_gives_up_and_does_not_retry_other_errors():
    from botocore.exceptions import ClientError

    calls = []

    def throttled():
        calls.append(1)
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetRecommendations")

    with pytest.raises(ClientError):
        call_with_backoff(throttled, attempts=3, sleep=lambda s: None)
    assert len(calls) == 3

    def invalid():
        calls.append(2)
        raise ClientError({"Error": {"Code": "InvalidInputException", "Message": "bad"}}, "GetRecommendations")

    with pytest.raises(ClientError):
        call_with_backoff(invalid, sleep=lambda s: None)
    assert calls.count(2) == 1
