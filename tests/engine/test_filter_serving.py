"""Filtered GetRecommendations through boto3, for a filter that reads both the user's interactions and
item metadata: the answer is the unfiltered ranking with exactly the filter's items left out, and what
the serving path keeps between requests (each Items condition's match) follows PutEvents, PutItems and
an Items import at the next request."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from tests.engine.conftest import active, deploy, make_shop, train
from tests.support.engine_shop import import_file

MIXED = ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase") '
         "| INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CAT)")


@pytest.fixture(scope="module")
def served(personalize, tmp_path_factory):
    """A shop with a popularity campaign (it does not leave out seen items by itself, so an
    interaction filter's effect shows), the mixed filter and an event tracker."""
    shop = make_shop(personalize, tmp_path_factory.mktemp("filter-serving"), "fserve", seed=5)
    _, version = train(personalize, shop.group, "fserve-pop", "aws-popularity-count", performAutoTraining=False)
    campaign = deploy(personalize, "fserve-pop", version)
    mixed = personalize.create_filter(name="fserve-mixed", datasetGroupArn=shop.group,
                                      filterExpression=MIXED)["filterArn"]
    active(lambda: personalize.describe_filter(filterArn=mixed), "filter")
    tracker = personalize.create_event_tracker(name="fserve-tracker", datasetGroupArn=shop.group)
    active(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    return shop, campaign, mixed, tracker["trackingId"]


def ids(answer: dict) -> list[str]:
    return [i["itemId"] for i in answer["itemList"]]


def pairs(answer: dict) -> list[tuple[str, float]]:
    return [(i["itemId"], i["score"]) for i in answer["itemList"]]


def check_filtered(got: list[tuple[str, float]], runtime, shop, campaign: str, user: str, category: str,
                   purchased: set[str], categories: dict[str, str]) -> None:
    """`got` is the unfiltered ranking of every item with the filter applied by hand, up to ties:
    the same scores in the same order, every item where the hand-filtered ranking has it with that
    score (items of equal score may come in any order, and at the cut any of them may be chosen)."""
    everything = pairs(runtime.get_recommendations(campaignArn=campaign, userId=user, numResults=500))
    assert len(everything) == len(shop.items)
    want = [(it, s) for it, s in everything if it not in purchased and categories.get(it) == category]
    assert [s for _, s in got] == [s for _, s in want[:len(got)]]
    assert len(got) == min(10, len(want))
    for it, score in got:
        assert (it, score) in want, it
    cut = got[-1][1] if got else 0.0
    assert {it for it, s in got if s > cut} == {it for it, s in want if s > cut}


def test_each_parameter_value_gets_its_own_match(personalize_runtime, served):
    """The cached match of an Items condition is per resolved value: asking for one category and then
    another never answers the second with the first's items. (Runs before the test below, which moves
    items between categories.)"""
    shop, campaign, mixed, _ = served
    categories = dict(zip(*pd.read_csv(shop.files["Items"])[["ITEM_ID", "CATEGORY_L1"]].T.to_numpy(), strict=True))
    user = shop.users[3]
    for category in sorted(set(categories.values()))[:4]:
        got = ids(personalize_runtime.get_recommendations(
            campaignArn=campaign, userId=user, numResults=10, filterArn=mixed,
            filterValues={"CAT": json.dumps(category)}))
        assert got and all(categories[it] == category for it in got), category


def test_mixed_filter_follows_purchases_item_changes_and_imports(
    personalize, personalize_runtime, personalize_events, served, tmp_path,
):
    shop, campaign, mixed, tracking_id = served
    items = pd.read_csv(shop.files["Items"])
    categories = dict(zip(items["ITEM_ID"], items["CATEGORY_L1"], strict=True))
    interactions = pd.read_csv(shop.files["Interactions"])
    bought = interactions[interactions.EVENT_TYPE == "purchase"]
    user = bought["USER_ID"].value_counts().index[0]  # the user with the most purchases
    purchased = set(bought.loc[bought.USER_ID == user, "ITEM_ID"])
    # Of the categories the user bought from (the filter has something to leave out), the one with the
    # most items left to recommend.
    bought_from = {categories[it] for it in purchased}
    category = max(sorted(bought_from), key=lambda c: sum(v == c and k not in purchased for k, v in categories.items()))

    def filtered() -> list[str]:
        got = pairs(personalize_runtime.get_recommendations(
            campaignArn=campaign, userId=user, numResults=10, filterArn=mixed,
            filterValues={"CAT": json.dumps(category)}))
        check_filtered(got, personalize_runtime, shop, campaign, user, category, purchased, categories)
        return [it for it, _ in got]

    first = filtered()
    assert len(first) == 10 and not set(first) & purchased

    # A purchase sent now leaves its item out of the very next answer.
    personalize_events.put_events(trackingId=tracking_id, userId=user, sessionId="s-1", eventList=[
        {"eventType": "purchase", "itemId": first[0], "sentAt": time.time()}])
    purchased.add(first[0])
    second = filtered()
    assert first[0] not in second

    # An item moved to another category (PutItems) leaves the cached category match at once.
    moved = second[0]
    personalize_events.put_items(datasetArn=shop.datasets["Items"], items=[
        {"itemId": moved, "properties": json.dumps({"categoryL1": "Somewhere else"})}])
    categories[moved] = "Somewhere else"
    third = filtered()
    assert moved not in third

    # A FULL Items import that moves an item into the category brings it in at the next request.
    outsider = next(it for it in ids(personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=user, numResults=500)) if categories[it] != category and it not in purchased)
    items.loc[items.ITEM_ID == outsider, "CATEGORY_L1"] = category
    items.loc[items.ITEM_ID == moved, "CATEGORY_L1"] = "Somewhere else"
    path = tmp_path / "items.csv"
    items.to_csv(path, index=False)
    job = import_file(personalize, shop.datasets["Items"], path, "fserve-items-again")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    categories[outsider] = category
    fourth = filtered()
    assert outsider in fourth


def test_a_filter_on_interactions_alone_is_answered_from_memory_once_used(tmp_path) -> None:
    """A filter that reads no item metadata still leaves the call warm after its first answer, so the
    transport keeps answering it on its event loop (a worker thread hand-off on every call costs more
    than the filter itself)."""
    from engine.backend import Backend
    from tests.support.engine_process import EngineProcess, wait_for
    from tests.support.engine_shop import build_shop, deploy

    engine = EngineProcess.start(tmp_path / "engine")
    try:
        personalize = engine.client("personalize")
        shop = deploy(personalize, build_shop(personalize, tmp_path, "warmf"), "warmf")
    finally:
        engine.stop()
    backend = Backend(tmp_path / "engine", region="us-east-1")
    try:
        no_purchases = backend.filters.create(
            name="warmf-no-purchases", dataset_group_arn=shop.group,
            filter_expression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
        wait_for(lambda: backend.store.peek(no_purchases)["status"], lambda status: status == "ACTIVE", timeout=30)
        assert not backend.serves_from_memory(shop.campaign, no_purchases)
        backend.serving.get_recommendations(campaign_arn=shop.campaign, user_id=shop.users[0],
                                            filter_arn=no_purchases)
        assert backend.serves_from_memory(shop.campaign, no_purchases)
    finally:
        backend.shutdown()
