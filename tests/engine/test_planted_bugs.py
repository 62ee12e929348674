"""Engine behaviours that small, realistic bugs slipped past: filter conditions evaluated (not only
parsed), events sent for a user the model already knows, and work left CREATE PENDING by a crash.
Each test was seen to fail with its bug planted and passes on the real code."""

from __future__ import annotations

import signal
import time
import uuid

import numpy as np
import pandas as pd
import pytest

from engine import filters
from engine.store import ResourceStore
from tests.support.engine_process import EngineProcess, wait_for
from tests.support.engine_shop import build_shop, deploy, import_file, settle, train_version

UPDATING = ("CREATE PENDING", "CREATE IN_PROGRESS")
ITEM_IDS = np.array(["a", "b", "c", "d", "e"], dtype=object)
META = pd.DataFrame({"CATEGORY_L1": ["Shoes", "Shoes", "Toys", "Toys", "Shoes|Toys"],
                     "PRICE": [5, 20, 5, 20, 50]})


def kept(expression: str, values: dict[str, str] | None = None, events=()) -> list[str]:
    mask = filters.allowed_mask(filters.parse(expression), values or {}, ITEM_IDS, META, list(events))
    return ITEM_IDS[mask].tolist()


# -- filters: AND against OR, and the negative operators -------------------------------------------------
def test_and_and_or_select_different_items():
    both = 'INCLUDE ItemID WHERE Items.PRICE > 10 AND Items.CATEGORY_L1 IN ("Shoes")'
    either = 'INCLUDE ItemID WHERE Items.PRICE > 10 OR Items.CATEGORY_L1 IN ("Shoes")'
    assert kept(both) == ["b", "e"]
    assert kept(either) == ["a", "b", "d", "e"]
    assert kept(both.replace("INCLUDE", "EXCLUDE")) == ["a", "c", "d"]
    assert kept(either.replace("INCLUDE", "EXCLUDE")) == ["c"]


def test_three_conditions_joined_by_one_operator():
    assert kept('INCLUDE ItemID WHERE Items.PRICE > 1 AND Items.PRICE < 30 AND Items.CATEGORY_L1 = "Toys"') \
        == ["c", "d"]
    assert kept('INCLUDE ItemID WHERE Items.PRICE > 40 OR Items.ITEM_ID = "a" OR Items.ITEM_ID = "c"') \
        == ["a", "c", "e"]


def test_not_equal_and_not_in_keep_the_other_items():
    # "e" is Shoes|Toys: one of its values is Toys, so it is not "!= Toys" (as IN matches it).
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY_L1 != "Toys"') == ["a", "b"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY_L1 NOT IN ("Toys")') == ["a", "b"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY_L1 = "Toys"') == ["c", "d", "e"]
    assert kept('EXCLUDE ItemID WHERE Items.CATEGORY_L1 != "Toys"') == ["c", "d", "e"]
    assert kept('INCLUDE ItemID WHERE Items.ITEM_ID != "b"') == ["a", "c", "d", "e"]


def test_not_in_on_event_types_keeps_items_without_those_events():
    events = [("a", "purchase"), ("b", "view"), ("c", "PURCHASE")]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("purchase")', events=events) \
        == ["b", "d", "e"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")', events=events) == ["a", "c"]


def test_and_or_over_http_on_a_live_campaign(shop, personalize, personalize_runtime):
    items = pd.read_csv(shop.files["Items"])
    category = items["CATEGORY_L1"].astype(str).str.split("|").str[0].value_counts().index[0]
    arns = {}
    for joiner in ("AND", "OR"):
        arns[joiner] = personalize.create_filter(
            name=f"planted-{joiner.lower()}", datasetGroupArn=shop.group,
            filterExpression=f'INCLUDE ItemID WHERE Items.PRICE > 30 {joiner} Items.CATEGORY_L1 IN ("{category}")',
        )["filterArn"]
        assert settle(lambda arn=arns[joiner]: personalize.describe_filter(filterArn=arn), "filter")["status"] \
            == "ACTIVE"
    cats = items["CATEGORY_L1"].astype(str).str.split("|")
    in_category = cats.apply(lambda values: category in values)
    expensive = items["PRICE"] > 30
    want = {"AND": set(items.loc[expensive & in_category, "ITEM_ID"]),
            "OR": set(items.loc[expensive | in_category, "ITEM_ID"])}
    assert want["AND"] and want["OR"] - want["AND"]
    got = {}
    for joiner, arn in arns.items():
        answer = personalize_runtime.get_recommendations(campaignArn=shop.campaign, userId=shop.users[0],
                                                         numResults=500, filterArn=arn)["itemList"]
        got[joiner] = {i["itemId"] for i in answer}
        assert got[joiner] and got[joiner] <= want[joiner], joiner
    assert got["OR"] - want["AND"]  # OR reaches items AND leaves out


# -- runtime: events since training change a known user's list ------------------------------------------
@pytest.fixture(scope="module")
def shop(personalize, tmp_path_factory):
    built = build_shop(personalize, tmp_path_factory.mktemp("planted-engine"), "planted-engine",
                       n_users=250, n_items=120, n_interactions=5000)
    return deploy(personalize, built, "planted-engine")


def test_events_for_a_known_user_change_their_next_recommendations(shop, personalize_runtime, personalize_events):
    interactions = pd.read_csv(shop.files["Interactions"])
    user = shop.users[0]  # the most active user: certainly in the training data
    assert (interactions["USER_ID"] == user).sum() > 10

    def top(n: int = 25) -> list[str]:
        answer = personalize_runtime.get_recommendations(campaignArn=shop.campaign, userId=user, numResults=n)
        return [i["itemId"] for i in answer["itemList"]]

    before = top()
    assert top() == before  # repeatable without events (no exploration in this campaign)
    # Items this user never touched and the model does not put first: many clicks on them must show.
    seen = set(interactions.loc[interactions["USER_ID"] == user, "ITEM_ID"])
    ranked = top(500)
    fresh = [it for it in reversed(ranked) if it not in seen][:5]
    now = int(time.time())
    for round_ in range(2):  # PutEvents takes at most 10 events a call
        personalize_events.put_events(
            trackingId=shop.tracking_id, userId=user, sessionId="planted",
            eventList=[{"eventType": "click", "itemId": it, "sentAt": now + k, "eventId": f"e{round_}-{k}"}
                       for k, it in enumerate(fresh * 2)])
    assert top() != before
    assert top(500) != ranked


# -- restart: work queued CREATE PENDING when the engine died ---------------------------------------------
def _queue_copy(store: ResourceStore, kind: str, arn: str, key: str) -> str:
    """A copy of an ACTIVE record, left CREATE PENDING under a new ARN: what a crash leaves on disk for
    work that was accepted and queued but never started (the train pool runs one job at a time)."""
    record = store.get(arn)
    assert record is not None
    queued = f"{arn}-queued{uuid.uuid4().hex[:4]}"
    record.update({key: queued, "status": "CREATE PENDING"})
    for name in ("failureReason", "trainingHours", "_metrics"):
        record.pop(name, None)
    store.put(kind, queued, record)
    return queued


def test_restart_fails_queued_work_and_keeps_a_pending_campaign_update_off(tmp_path):
    data = tmp_path / "data"
    first = EngineProcess.start(data)
    try:
        p, rt = first.client("personalize"), first.client("personalize-runtime")
        shop = deploy(p, build_shop(p, tmp_path, "queued", n_users=250, n_items=120, n_interactions=5000),
                      "queued")
        newer = train_version(p, shop.solution)["solutionVersionArn"]
        users = shop.users[:5]
        before = {u: rt.get_recommendations(campaignArn=shop.campaign, userId=u)["itemList"] for u in users}
        import_arn = p.list_dataset_import_jobs(datasetArn=shop.datasets["Interactions"])["datasetImportJobs"][0][
            "datasetImportJobArn"]
    finally:
        first.stop(signal.SIGTERM)

    store = ResourceStore(data / "resources.sqlite3")
    try:
        queued_version = _queue_copy(store, "solution-version", newer, "solutionVersionArn")
        queued_import = _queue_copy(store, "dataset-import-job", import_arn, "datasetImportJobArn")

        def pending_update(rec: dict) -> None:
            rec["latestCampaignUpdate"] = {
                "solutionVersionArn": newer, "minProvisionedTPS": rec["minProvisionedTPS"],
                "campaignConfig": rec.get("campaignConfig") or {}, "status": "CREATE PENDING",
                "creationDateTime": time.time(), "lastUpdatedDateTime": time.time()}

        store.update(shop.campaign, pending_update)
    finally:
        store.close()

    second = EngineProcess.start(data)
    try:
        p, rt = second.client("personalize"), second.client("personalize-runtime")
        version = p.describe_solution_version(solutionVersionArn=queued_version)["solutionVersion"]
        assert version["status"] == "CREATE FAILED" and version["failureReason"]
        job = p.describe_dataset_import_job(datasetImportJobArn=queued_import)["datasetImportJob"]
        assert job["status"] == "CREATE FAILED" and job["failureReason"]
        campaign = p.describe_campaign(campaignArn=shop.campaign)["campaign"]
        assert campaign["status"] == "ACTIVE"
        assert campaign["solutionVersionArn"] == shop.version  # still the old version
        assert campaign["latestCampaignUpdate"]["status"] == "CREATE FAILED"
        assert campaign["latestCampaignUpdate"]["failureReason"]
        assert {u: rt.get_recommendations(campaignArn=shop.campaign, userId=u)["itemList"] for u in users} == before
        # Nothing queued blocks new work: a new version of the same solution, an import, a campaign update.
        assert train_version(p, shop.solution)["status"] == "ACTIVE"
        assert import_file(p, shop.datasets["Interactions"], shop.files["Interactions"], "after-restart",
                           mode="INCREMENTAL")["status"] == "ACTIVE"
        p.update_campaign(campaignArn=shop.campaign, solutionVersionArn=newer)
        updated = wait_for(lambda: p.describe_campaign(campaignArn=shop.campaign)["campaign"],
                           lambda c: c["latestCampaignUpdate"]["status"] not in UPDATING)
        assert updated["solutionVersionArn"] == newer
    finally:
        second.stop()
