"""Behaviours that small, realistic bugs slipped past: each test here was seen to fail with its bug
planted (a dropped condition, a whole-row comparison, a loop that stops at the first campaign) and
passes on the real code. The flows run against the real engine; campaign health reads AWS-shaped
answers through botocore's own Stubber, since the engine cannot hold a CREATE FAILED version newer
than an ACTIVE one on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber

from services.data.schemas import ecommerce_schema
from services.data.validation import validate
from services.models.campaign_health import campaign_health
from services.pipeline import FAILED, SUCCEEDED, RetrainPipeline, RetrainRequest, RunStore
from tests.support.engine_process import wait_for
from tests.support.engine_shop import settle
from tests.support.shops import clients_for, small_shop

UP = "aws-user-personalization"
REGION_ARN = "arn:aws:personalize:us-east-1:123456789012"
GROUP = f"{REGION_ARN}:dataset-group/shop"
SOLUTION = f"{REGION_ARN}:solution/shop-up"
CAMPAIGN = f"{REGION_ARN}:campaign/shop-up"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


# -- campaign health: only an ACTIVE version can make a campaign stale ---------------------------------
def _health_with_versions(versions: list[tuple[str, str, datetime]], serving: str) -> list:
    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("list_solutions", {"solutions": [
            {"name": "shop-up", "solutionArn": SOLUTION, "status": "ACTIVE", "creationDateTime": T0}]},
            {"datasetGroupArn": GROUP})
        stub.add_response("list_solution_versions", {"solutionVersions": [
            {"solutionVersionArn": f"{SOLUTION}/{v}", "status": status, "creationDateTime": created}
            for v, status, created in versions]}, {"solutionArn": SOLUTION})
        stub.add_response("list_campaigns", {"campaigns": [
            {"name": "shop-up", "campaignArn": CAMPAIGN, "status": "ACTIVE"}]}, {"solutionArn": SOLUTION})
        stub.add_response("describe_campaign", {"campaign": {
            "name": "shop-up", "campaignArn": CAMPAIGN, "status": "ACTIVE", "minProvisionedTPS": 1,
            "solutionVersionArn": f"{SOLUTION}/{serving}"}}, {"campaignArn": CAMPAIGN})
        # Data freshness: no Interactions dataset, so nothing was imported after the serving version.
        stub.add_response("list_datasets", {"datasets": []}, {"datasetGroupArn": GROUP})
        stub.add_response("describe_solution_version", {"solutionVersion": {
            "solutionVersionArn": f"{SOLUTION}/{serving}", "status": "ACTIVE", "creationDateTime": T0}},
            {"solutionVersionArn": f"{SOLUTION}/{serving}"})
        return campaign_health(client, GROUP)


@pytest.mark.parametrize("newer", ["CREATE FAILED", "CREATE IN_PROGRESS", "CREATE PENDING", "CREATE STOPPED"])
def test_a_newer_version_that_is_not_active_does_not_make_a_campaign_stale(newer):
    [health] = _health_with_versions([("v1", "ACTIVE", T0), ("v2", newer, T0 + timedelta(hours=1))], "v1")
    assert health.newest_active_version == f"{SOLUTION}/v1"
    assert not health.stale
    assert health.advice() == "Serves the newest ACTIVE solution version."


def test_a_newer_active_version_makes_the_campaign_stale():
    [health] = _health_with_versions([("v1", "ACTIVE", T0), ("v2", "ACTIVE", T0 + timedelta(hours=1)),
                                      ("v3", "CREATE FAILED", T0 + timedelta(hours=2))], "v1")
    assert health.stale and health.newest_active_version == f"{SOLUTION}/v2"
    assert "shop-up/v2 is newer and ACTIVE" in health.advice()


# -- validation: a repeated id in an Items or Users file, whatever the other columns say -------------------
def test_a_repeated_item_id_with_different_columns_is_flagged_with_its_rows():
    items = pd.DataFrame({
        "ITEM_ID": ["i1", "i2", "i1", "i3", "i2"],
        "PRICE": [10.0, 20.0, 12.5, 30.0, 20.0],
        "CATEGORY_L1": ["Shoes", "Toys", "Shoes", "Toys", "Books"],
        "CATEGORY_L2": ["a", "b", "a", "c", "b"],
        "CREATION_TIMESTAMP": [1_700_000_000] * 5,
    })
    report = validate(items, ecommerce_schema("Items"), "Items", now=1_750_000_000)
    finding = report.by_code("duplicate_id")
    assert finding is not None, report.summary()
    assert finding.severity == "warning" and finding.column == "ITEM_ID"
    assert finding.row_numbers.tolist() == [4, 6]  # file lines: the header is line 1
    assert finding.sample is not None and finding.sample["ITEM_ID"].tolist() == ["i1", "i2"]
    assert "rows 4, 6" in finding.message


def test_a_repeated_user_id_is_flagged_and_blank_ids_are_not_duplicates():
    users = pd.DataFrame({"USER_ID": ["u1", "u2", "u1", "", "", None, None],
                          "MEMBERSHIP": ["gold", "none", "silver", "gold", "gold", "none", "none"]})
    report = validate(users, ecommerce_schema("Users"), "Users", now=1_750_000_000)
    finding = report.by_code("duplicate_id")
    assert finding is not None and finding.row_numbers.tolist() == [4]


def test_distinct_ids_are_not_flagged():
    items = pd.DataFrame({"ITEM_ID": ["i1", "i2", "i3"], "PRICE": [1.0, 1.0, 1.0],
                          "CATEGORY_L1": ["Toys"] * 3, "CATEGORY_L2": ["a"] * 3,
                          "CREATION_TIMESTAMP": np.full(3, 1_700_000_000)})
    assert validate(items, ecommerce_schema("Items"), "Items", now=1_750_000_000).by_code("duplicate_id") is None


# -- the retrain pipeline: every campaign of the solution, and verify means ACTIVE ---------------------
@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("planted"), "planted") as s:
        yield s


@pytest.fixture
def data_dir(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
    return shop.data_dir


def _request() -> RetrainRequest:
    return RetrainRequest("planted", "planted-user-personalization")


def test_a_retrain_updates_every_campaign_of_the_solution(shop, data_dir):
    p = shop.p
    first = shop.result.campaigns[UP]
    old = shop.serving(UP)
    second = p.create_campaign(name="planted-up-second", solutionVersionArn=old, minProvisionedTPS=1)["campaignArn"]
    assert settle(lambda: p.describe_campaign(campaignArn=second), "campaign")["status"] == "ACTIVE"
    try:
        # A short update timeout: a pipeline that skips a campaign fails here instead of waiting an hour.
        pipeline = RetrainPipeline(shop.clients, RunStore(data_dir / "runs"), poll_interval=0.1, update_timeout=60)
        run = pipeline.run(_request())
        assert run.status == SUCCEEDED, run.summary()
        assert set(run.campaigns) == {"planted-user-personalization", "planted-up-second"}
        for arn in (first, second):
            campaign = p.describe_campaign(campaignArn=arn)["campaign"]
            assert campaign["solutionVersionArn"] == run.new_version_arn != old
            assert campaign["status"] == "ACTIVE"
        assert all(info["verified"] and info["before"] == old for info in run.campaigns.values())
    finally:
        p.delete_campaign(campaignArn=second)
        wait_for(lambda: [c["name"] for c in p.list_campaigns(solutionArn=shop.result.solutions[UP])["campaigns"]],
                 lambda names: "planted-up-second" not in names)  # gone, not only DELETE PENDING


def test_verify_fails_when_describe_campaign_shows_the_new_version_but_not_active(shop, data_dir):
    """AWS can report a campaign on the new version while it is still updating; the run must not call
    that verified. The engine answers; botocore's own event hook reports the status AWS would."""
    clients = clients_for(shop.clients.backend.endpoint_url)
    pipeline = RetrainPipeline(clients, RunStore(data_dir / "runs"), poll_interval=0.1, update_timeout=60)
    new_version: dict[str, str] = {}

    def still_updating(parsed, **_) -> None:
        campaign = parsed.get("campaign") or {}
        if new_version and campaign.get("solutionVersionArn") == new_version["arn"]:
            campaign["status"] = "UPDATE IN_PROGRESS"

    def remember(parsed, **_) -> None:
        new_version["arn"] = parsed["solutionVersionArn"]

    clients.personalize.meta.events.register("after-call.personalize.CreateSolutionVersion", remember)
    clients.personalize.meta.events.register("after-call.personalize.DescribeCampaign", still_updating)
    run = pipeline.run(_request())
    assert run.status == FAILED, run.summary()
    assert run.failed_step == "verify", run.reason
    assert "UPDATE IN_PROGRESS" in run.reason
    assert not run.campaigns["planted-user-personalization"]["verified"]


def test_a_campaign_being_deleted_is_not_a_retrain_target():
    """AWS lists a deleted campaign as DELETE PENDING / IN_PROGRESS for a while; updating it would fail the run."""
    from services.pipeline.retrain import resolve

    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("list_dataset_groups", {"datasetGroups": [
            {"name": "shop", "datasetGroupArn": GROUP, "status": "ACTIVE"}]})
        stub.add_response("list_solutions", {"solutions": [
            {"name": "shop-up", "solutionArn": SOLUTION, "status": "ACTIVE"}]}, {"datasetGroupArn": GROUP})
        stub.add_response("list_campaigns", {"campaigns": [
            {"name": "shop-up", "campaignArn": CAMPAIGN, "status": "ACTIVE"},
            {"name": "leaving", "campaignArn": f"{CAMPAIGN}-leaving", "status": "DELETE PENDING"},
            {"name": "going", "campaignArn": f"{CAMPAIGN}-going", "status": "DELETE IN_PROGRESS"}]},
            {"solutionArn": SOLUTION})
        target = resolve(client, RetrainRequest(dataset_group="shop", solution="shop-up"))
    assert target.campaigns == {"shop-up": CAMPAIGN}
