"""The engine answers AWS's Personalize APIs as AWS does: unchanged boto3 code, botocore's shapes,
modelled errors, lifecycles observed by polling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import boto3
import pytest

from tests.engine.conftest import ROLE, active, deploy, make_shop, train
from tests.support.engine_process import CREDENTIALS, TEST_CONFIG, wait_for

METRIC_KEYS = {
    "coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5", "precision_at_10", "precision_at_25",
}


@pytest.fixture(scope="module")
def shop(personalize, recorder, tmp_path_factory):
    return make_shop(personalize, tmp_path_factory.mktemp("shop"), "fidelity")


@pytest.fixture(scope="module")
def models(personalize, shop):
    out = {}
    for recipe in ("aws-popularity-count", "aws-user-personalization", "aws-similar-items"):
        sol, version = train(personalize, shop.group, f"fid-{recipe}", recipe, performAutoTraining=False)
        out[recipe] = (sol, version, deploy(personalize, f"fid-{recipe}", version,
                                             campaignConfig={"enableMetadataWithRecommendations": True}))
    return out


def test_getting_started_flow(personalize, personalize_runtime, personalize_events, shop, models):
    _, version, campaign = models["aws-user-personalization"]
    metrics = personalize.get_solution_metrics(solutionVersionArn=version)["metrics"]
    assert set(metrics) == METRIC_KEYS
    assert all(0.0 <= v <= 1.0 for v in metrics.values())

    known = personalize_runtime.get_recommendations(campaignArn=campaign, userId=shop.users[0])
    assert len(known["itemList"]) == 25  # AWS's default numResults
    assert known["recommendationId"]
    assert all(set(i) >= {"itemId", "score"} for i in known["itemList"])

    newcomer = "someone-new"
    before = [i["itemId"] for i in personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=newcomer, numResults=10)["itemList"]]
    tracker = personalize.create_event_tracker(name="fid-tracker", datasetGroupArn=shop.group)
    active(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    clicked = shop.items[-1]
    personalize_events.put_events(trackingId=tracker["trackingId"], userId=newcomer, sessionId="s-1",
                                  eventList=[{"eventType": "click", "itemId": clicked, "sentAt": time.time()}])
    after = [i["itemId"] for i in personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=newcomer, numResults=10)["itemList"]]
    assert after != before, "PutEvents must personalise a new user without retraining"
    assert clicked not in after


def test_cold_users_get_the_popular_items(personalize_runtime, models):
    campaign = models["aws-user-personalization"][2]
    lists = {tuple(i["itemId"] for i in personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=f"nobody-{n}", numResults=10)["itemList"]) for n in range(3)}
    popular = personalize_runtime.get_recommendations(
        campaignArn=models["aws-popularity-count"][2], userId="nobody-0", numResults=10)["itemList"]
    assert len(lists) == 1
    assert set(next(iter(lists))) & {i["itemId"] for i in popular}


def test_related_items_and_metadata(personalize_runtime, shop, models):
    campaign = models["aws-similar-items"][2]
    item = shop.items[0]
    related = personalize_runtime.get_recommendations(campaignArn=campaign, itemId=item, numResults=5,
                                                      metadataColumns={"ITEMS": ["CATEGORY_L1", "PRICE"]})
    assert len(related["itemList"]) == 5
    assert item not in [i["itemId"] for i in related["itemList"]]
    assert all(set(i["metadata"]) == {"CATEGORY_L1", "PRICE"} for i in related["itemList"])


def test_personalized_ranking(personalize, personalize_runtime, shop, models):
    _, _version, _ = models["aws-user-personalization"]
    _sol, v2 = train(personalize, shop.group, "fid-ranking", "aws-personalized-ranking", performAutoTraining=False)
    campaign = deploy(personalize, "fid-ranking", v2)
    candidates = [*shop.items[:8], "not-an-item"]
    ranked = personalize_runtime.get_personalized_ranking(campaignArn=campaign, userId=shop.users[1],
                                                          inputList=candidates)["personalizedRanking"]
    assert sorted(i["itemId"] for i in ranked) == sorted(candidates)
    assert ranked[-1]["itemId"] == "not-an-item"
    scores = [i["score"] for i in ranked[:-1]]
    assert scores == sorted(scores, reverse=True)


def test_filters(personalize, personalize_runtime, personalize_events, shop, models):
    campaign = models["aws-user-personalization"][2]
    bad = personalize.exceptions.InvalidInputException
    with pytest.raises(bad):
        personalize.create_filter(name="broken", datasetGroupArn=shop.group, filterExpression="EXCLUDE WHERE x")
    by_category = personalize.create_filter(
        name="fid-category", datasetGroupArn=shop.group,
        filterExpression="INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)")["filterArn"]
    no_views = personalize.create_filter(
        name="fid-no-views", datasetGroupArn=shop.group,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view", "click")')["filterArn"]
    for arn in (by_category, no_views):
        active(lambda arn=arn: personalize.describe_filter(filterArn=arn), "filter")
    import pandas as pd

    items = pd.read_csv(shop.files["Items"])
    category = items["CATEGORY_L1"].iloc[0]
    got = personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=shop.users[0], numResults=10, filterArn=by_category,
        filterValues={"CATEGORY": json.dumps(category)})["itemList"]
    allowed = set(items.loc[items["CATEGORY_L1"] == category, "ITEM_ID"])
    assert got and {i["itemId"] for i in got} <= allowed
    # Item metadata changes (PutItems) reach the next filtered request: masks are not served stale.
    moved = got[0]["itemId"]
    personalize_events.put_items(datasetArn=shop.datasets["Items"], items=[
        {"itemId": moved, "properties": json.dumps({"categoryL1": "Somewhere else"})}])
    again = personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=shop.users[0], numResults=10, filterArn=by_category,
        filterValues={"CATEGORY": json.dumps(category)})["itemList"]
    assert moved not in {i["itemId"] for i in again}

    interactions = pd.read_csv(shop.files["Interactions"])
    user = shop.users[0]
    seen = set(interactions.loc[(interactions.USER_ID == user) & interactions.EVENT_TYPE.isin(["view", "click"]),
                                "ITEM_ID"])
    pop = models["aws-popularity-count"][2]  # popularity does not exclude seen items by itself
    got = personalize_runtime.get_recommendations(campaignArn=pop, userId=user, numResults=50,
                                                  filterArn=no_views)["itemList"]
    assert seen and not seen & {i["itemId"] for i in got}
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException):
        personalize_runtime.get_recommendations(campaignArn=campaign, userId=user, filterArn=by_category)


def test_modelled_errors(personalize, personalize_runtime, shop, models):
    missing = "arn:aws:personalize:us-east-1:000000000000:campaign/nope"
    with pytest.raises(personalize.exceptions.ResourceNotFoundException):
        personalize.describe_campaign(campaignArn=missing)
    with pytest.raises(personalize_runtime.exceptions.ResourceNotFoundException):
        personalize_runtime.get_recommendations(campaignArn=missing, userId="u")
    with pytest.raises(personalize.exceptions.ResourceAlreadyExistsException):
        personalize.create_dataset_group(name="fidelity")
    with pytest.raises(personalize.exceptions.InvalidInputException):
        personalize.create_dataset_group(name="bad name!")
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.delete_dataset_group(datasetGroupArn=shop.group)
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.delete_solution(solutionArn=models["aws-popularity-count"][0])
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException):
        personalize_runtime.get_recommendations(campaignArn=models["aws-popularity-count"][2], userId="u",
                                                numResults=501)
    with pytest.raises(personalize.exceptions.InvalidNextTokenException):
        personalize.list_dataset_groups(nextToken="not-a-token")
    with pytest.raises(personalize.exceptions.InvalidInputException):
        personalize.create_solution(name="fid-unknown", datasetGroupArn=shop.group,
                                    recipeArn="arn:aws:personalize:::recipe/aws-nonexistent")


def test_pagination(personalize, shop):
    for n in range(5):
        personalize.create_filter(name=f"fid-page-{n}", datasetGroupArn=shop.group,
                                  filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    names, token, pages = [], None, 0
    while True:
        kwargs = {"datasetGroupArn": shop.group, "maxResults": 2} | ({"nextToken": token} if token else {})
        page = personalize.list_filters(**kwargs)
        names += [f["name"] for f in page["Filters"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert pages >= 3
    assert {f"fid-page-{n}" for n in range(5)} <= set(names)
    assert len(names) == len(set(names))
    paginated = [f["name"] for p in personalize.get_paginator("list_filters").paginate(
        datasetGroupArn=shop.group, PaginationConfig={"PageSize": 2}) for f in p["Filters"]]
    assert paginated == names


def test_campaign_serves_new_version_only_after_update(personalize, shop, models):
    sol, old, campaign = models["aws-user-personalization"]
    new = personalize.create_solution_version(solutionArn=sol, trainingMode="FULL")["solutionVersionArn"]
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.create_solution_version(solutionArn=sol)  # one training at a time per solution
    assert active(lambda: personalize.describe_solution_version(solutionVersionArn=new),
                  "solutionVersion")["status"] == "ACTIVE"
    served = personalize.describe_campaign(campaignArn=campaign)["campaign"]
    assert served["solutionVersionArn"] == old  # stale: syncWithLatestSolutionVersion is off by default
    personalize.update_campaign(campaignArn=campaign, solutionVersionArn=new)
    done = wait_for(lambda: personalize.describe_campaign(campaignArn=campaign)["campaign"],
                    lambda c: c["latestCampaignUpdate"]["status"] in ("ACTIVE", "CREATE FAILED"))
    assert done["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert done["solutionVersionArn"] == new
    assert done["status"] == "ACTIVE"


def test_sync_with_latest_follows_new_versions(personalize, shop, models):
    sol, version = train(personalize, shop.group, "fid-sync", "aws-popularity-count", performAutoTraining=False)
    campaign = deploy(personalize, "fid-sync", version, campaignConfig={"syncWithLatestSolutionVersion": True})
    newer = personalize.create_solution_version(solutionArn=sol)["solutionVersionArn"]
    assert active(lambda: personalize.describe_solution_version(solutionVersionArn=newer),
                  "solutionVersion")["status"] == "ACTIVE"
    # The engine starts the follow-up update when the version turns ACTIVE: wait for it to settle either way.
    followed = wait_for(lambda: personalize.describe_campaign(campaignArn=campaign)["campaign"],
                        lambda c: (c.get("latestCampaignUpdate") or {}).get("solutionVersionArn") == newer
                        and c["latestCampaignUpdate"]["status"] in ("ACTIVE", "CREATE FAILED"))
    assert followed["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert followed["solutionVersionArn"] == newer != version
    assert followed["status"] == "ACTIVE"


def test_update_training_mode_and_stop(personalize, shop, models):
    sol = models["aws-user-personalization"][0]
    version = personalize.create_solution_version(solutionArn=sol, trainingMode="UPDATE")["solutionVersionArn"]
    rec = active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert rec["status"] == "ACTIVE" and rec["trainingMode"] == "UPDATE"
    fresh_sol = personalize.create_solution(name="fid-update-only", datasetGroupArn=shop.group,
                                            recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")
    active(lambda: personalize.describe_solution(solutionArn=fresh_sol["solutionArn"]), "solution")
    with pytest.raises(personalize.exceptions.InvalidInputException):
        personalize.create_solution_version(solutionArn=fresh_sol["solutionArn"], trainingMode="UPDATE")
    stopping = personalize.create_solution_version(solutionArn=fresh_sol["solutionArn"])["solutionVersionArn"]
    # It may finish before the stop arrives: legitimate on a fast machine, and then the stop is refused.
    try:
        personalize.stop_solution_version_creation(solutionVersionArn=stopping)
        stopped = True
    except personalize.exceptions.InvalidInputException:
        stopped = False
    final = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=stopping)["solutionVersion"],
                     lambda r: r["status"] in ("CREATE STOPPED", "ACTIVE", "CREATE FAILED"))
    # An acknowledged stop wins even over a training that was about to finish; a refused one changes nothing.
    assert final["status"] == ("CREATE STOPPED" if stopped else "ACTIVE")


def test_auto_training_default_and_update(personalize, shop):
    arn = personalize.create_solution(name="fid-auto", datasetGroupArn=shop.group,
                                      recipeArn="arn:aws:personalize:::recipe/aws-popularity-count")["solutionArn"]
    solution = active(lambda: personalize.describe_solution(solutionArn=arn), "solution")
    assert solution["performAutoTraining"] is True  # AWS's default for new solutions
    personalize.update_solution(solutionArn=arn, performAutoTraining=False)
    assert personalize.describe_solution(solutionArn=arn)["solution"]["performAutoTraining"] is False


def test_minimum_data_is_refused_with_a_reason(personalize, tmp_path):
    small = make_shop(personalize, tmp_path, "fid-tiny", n_interactions=600)
    sol = personalize.create_solution(name="fid-tiny-sol", datasetGroupArn=small.group,
                                      recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")
    active(lambda: personalize.describe_solution(solutionArn=sol["solutionArn"]), "solution")
    version = personalize.create_solution_version(solutionArn=sol["solutionArn"])["solutionVersionArn"]
    rec = active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert rec["status"] == "CREATE FAILED"
    assert "1,000" in rec["failureReason"] and "600" in rec["failureReason"]


def test_failed_import_changes_nothing(personalize, personalize_runtime, shop, models, tmp_path):
    campaign = models["aws-popularity-count"][2]
    before = personalize_runtime.get_recommendations(campaignArn=campaign, userId=shop.users[0])["itemList"]
    bad = tmp_path / "bad.csv"
    bad.write_text("USER_ID,ITEM_ID,EVENT_TYPE\nu1,i1,click\n")
    job = personalize.create_dataset_import_job(jobName="fid-bad", datasetArn=shop.datasets["Interactions"],
                                                dataSource={"dataLocation": bad.as_uri()}, roleArn=ROLE)
    rec = active(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")
    assert rec["status"] == "CREATE FAILED" and "TIMESTAMP" in rec["failureReason"]
    millis = tmp_path / "millis.csv"
    millis.write_text("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,1700000000000,click\n")
    job = personalize.create_dataset_import_job(jobName="fid-millis", datasetArn=shop.datasets["Interactions"],
                                                dataSource={"dataLocation": millis.as_uri()}, roleArn=ROLE)
    rec = active(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")
    assert rec["status"] == "CREATE FAILED" and "milliseconds" in rec["failureReason"]
    assert "line 2" in rec["failureReason"]
    after = personalize_runtime.get_recommendations(campaignArn=campaign, userId=shop.users[0])["itemList"]
    assert after == before
    sol = models["aws-popularity-count"][0]
    version = personalize.create_solution_version(solutionArn=sol)["solutionVersionArn"]
    assert active(lambda: personalize.describe_solution_version(solutionVersionArn=version),
                  "solutionVersion")["status"] == "ACTIVE"


def test_put_items_users_and_incremental_import(personalize, personalize_events, shop, tmp_path):
    personalize_events.put_items(datasetArn=shop.datasets["Items"], items=[
        {"itemId": "brand-new-item", "properties": json.dumps({"categoryL1": "Toys", "price": 9.5})}])
    with pytest.raises(personalize_events.exceptions.InvalidInputException):
        personalize_events.put_items(datasetArn=shop.datasets["Items"],
                                     items=[{"itemId": "x", "properties": json.dumps({"notAField": 1})}])
    personalize_events.put_users(datasetArn=shop.datasets["Users"], users=[{"userId": "brand-new-user"}])
    extra = tmp_path / "more.csv"
    extra.write_text("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu-x,brand-new-item,1735700000,click,\n")
    job = personalize.create_dataset_import_job(jobName="fid-incr", datasetArn=shop.datasets["Interactions"],
                                                dataSource={"dataLocation": extra.as_uri()}, roleArn=ROLE,
                                                importMode="INCREMENTAL")
    rec = active(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")
    assert rec["status"] == "ACTIVE" and rec["importMode"] == "INCREMENTAL"


def test_batch_inference_and_export(personalize, shop, models, tmp_path):
    _, version, _ = models["aws-user-personalization"]
    source = tmp_path / "in" / "users.json"
    source.parent.mkdir()
    source.write_text("".join(json.dumps({"userId": u}) + "\n" for u in shop.users[:3]))
    out_dir = tmp_path / "out"
    job = personalize.create_batch_inference_job(
        jobName="fid-batch", solutionVersionArn=version, roleArn=ROLE, numResults=7,
        jobInput={"s3DataSource": {"path": source.as_uri()}},
        jobOutput={"s3DataDestination": {"path": out_dir.as_uri() + "/"}})["batchInferenceJobArn"]
    assert active(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=job),
                  "batchInferenceJob")["status"] == "ACTIVE"
    lines = [json.loads(line) for line in (out_dir / "users.json.out").read_text().splitlines()]
    assert [row["input"]["userId"] for row in lines] == shop.users[:3]
    assert all(len(row["output"]["recommendedItems"]) == 7 for row in lines)

    export = personalize.create_dataset_export_job(
        jobName="fid-export", datasetArn=shop.datasets["Items"], roleArn=ROLE, ingestionMode="BULK",
        jobOutput={"s3DataDestination": {"path": (tmp_path / "export").as_uri()}})["datasetExportJobArn"]
    assert active(lambda: personalize.describe_dataset_export_job(datasetExportJobArn=export),
                  "datasetExportJob")["status"] == "ACTIVE"
    exported = (tmp_path / "export" / "fid-export.csv").read_text().splitlines()
    assert len(exported) == len(shop.items) + 1


def test_tags_and_recipes(personalize, shop):
    personalize.tag_resource(resourceArn=shop.group, tags=[{"tagKey": "team", "tagValue": "growth"}])
    assert personalize.list_tags_for_resource(resourceArn=shop.group)["tags"] == [
        {"tagKey": "team", "tagValue": "growth"}]
    personalize.untag_resource(resourceArn=shop.group, tagKeys=["team"])
    assert personalize.list_tags_for_resource(resourceArn=shop.group)["tags"] == []
    with pytest.raises(personalize.exceptions.TooManyTagKeysException):
        personalize.untag_resource(resourceArn=shop.group, tagKeys=[f"k{i}" for i in range(51)])
    with pytest.raises(personalize.exceptions.TooManyTagsException):
        personalize.tag_resource(resourceArn=shop.group, tags=[{"tagKey": f"k{i}", "tagValue": "v"} for i in range(51)])
    assert personalize.list_tags_for_resource(resourceArn=shop.group)["tags"] == []  # nothing half-applied
    recipes = {r["name"] for r in personalize.list_recipes()["recipes"]}
    assert {"aws-user-personalization", "aws-popularity-count", "aws-similar-items", "aws-sims",
            "aws-personalized-ranking", "aws-trending-now", "aws-user-personalization-v2"} <= recipes
    recipe = personalize.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-sims")["recipe"]
    assert recipe["recipeType"] == "RELATED_ITEMS"


def test_every_response_matches_botocore_output_shapes(recorder):
    """Runs last in this module: every call made above is checked against botocore's model."""
    assert recorder.problems() == []
    expected = {
        "personalize:CreateDatasetGroup", "personalize:DescribeDatasetGroup", "personalize:CreateSchema",
        "personalize:CreateDataset", "personalize:DescribeDataset", "personalize:CreateDatasetImportJob",
        "personalize:DescribeDatasetImportJob", "personalize:CreateSolution", "personalize:DescribeSolution",
        "personalize:CreateSolutionVersion", "personalize:DescribeSolutionVersion",
        "personalize:GetSolutionMetrics", "personalize:CreateCampaign", "personalize:DescribeCampaign",
        "personalize:UpdateCampaign", "personalize:CreateEventTracker", "personalize:CreateFilter",
        "personalize:ListFilters", "personalize:CreateBatchInferenceJob", "personalize:ListRecipes",
        "personalize:DescribeRecipe", "personalize:ListTagsForResource", "personalize:UpdateSolution",
        "personalize-runtime:GetRecommendations", "personalize-runtime:GetPersonalizedRanking",
        "personalize-events:PutEvents", "personalize-events:PutItems",
    }
    assert expected <= set(recorder.seen)


def test_list_and_describe_every_kind(personalize, shop, models, recorder):
    sol, version, campaign = models["aws-user-personalization"]
    calls = [
        lambda: personalize.list_dataset_groups(), lambda: personalize.list_schemas(),
        lambda: personalize.list_datasets(datasetGroupArn=shop.group),
        lambda: personalize.list_dataset_import_jobs(datasetArn=shop.datasets["Interactions"]),
        lambda: personalize.list_solutions(datasetGroupArn=shop.group),
        lambda: personalize.list_solution_versions(solutionArn=sol),
        lambda: personalize.list_campaigns(solutionArn=sol),
        lambda: personalize.list_event_trackers(datasetGroupArn=shop.group),
        lambda: personalize.list_batch_inference_jobs(solutionVersionArn=version),
        lambda: personalize.list_dataset_export_jobs(datasetArn=shop.datasets["Items"]),
        lambda: personalize.describe_schema(schemaArn=personalize.list_schemas()["schemas"][0]["schemaArn"]),
    ]
    for call in calls:
        call()
    assert recorder.problems() == []
    assert personalize.list_campaigns(solutionArn=sol)["campaigns"][0]["campaignArn"] == campaign


def test_environment_endpoint_variables(engine, shop, models, monkeypatch):
    """Unchanged boto3 code, pointed at the engine only by AWS_ENDPOINT_URL_PERSONALIZE*."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", engine.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME", engine.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])  # the engine's pair, as a profile
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # its credentials were read once, from other values
    personalize = boto3.client("personalize", region_name="us-east-1", config=TEST_CONFIG)
    runtime = boto3.client("personalize-runtime", region_name="us-east-1", config=TEST_CONFIG)
    assert shop.group in [g["datasetGroupArn"] for g in personalize.list_dataset_groups()["datasetGroups"]]
    items = runtime.get_recommendations(campaignArn=models["aws-popularity-count"][2], userId="x", numResults=3)
    assert len(items["itemList"]) == 3


def test_aws_cli(engine, shop, models):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"}
    base = [sys.executable, "-m", "awscli"]
    out = subprocess.run([*base, "personalize", "list-dataset-groups", "--endpoint-url", engine.url],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert shop.group in out.stdout
    out = subprocess.run([*base, "personalize-runtime", "get-recommendations", "--endpoint-url", engine.url,
                          "--campaign-arn", models["aws-popularity-count"][2], "--user-id", "cli-user",
                          "--num-results", "4"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["itemList"]) == 4
    out = subprocess.run([*base, "personalize", "describe-campaign", "--endpoint-url", engine.url,
                          "--campaign-arn", "arn:aws:personalize:us-east-1:000000000000:campaign/none"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != 0 and "ResourceNotFoundException" in out.stderr


def test_runtime_calls_the_recipe_does_not_answer_are_refused_as_on_aws(personalize, personalize_runtime,
                                                                         shop, models):
    bad = personalize_runtime.exceptions.InvalidInputException
    ranking = deploy(personalize, "fid-ranking-refusals",
                     train(personalize, shop.group, "fid-ranking-refusals", "aws-personalized-ranking",
                           performAutoTraining=False)[1])
    with pytest.raises(bad, match="GetPersonalizedRanking"):
        personalize_runtime.get_recommendations(campaignArn=ranking, userId=shop.users[1])
    with pytest.raises(bad, match="itemId"):
        personalize_runtime.get_recommendations(campaignArn=models["aws-similar-items"][2], userId=shop.users[1])
    with pytest.raises(bad, match="userId"):
        personalize_runtime.get_recommendations(campaignArn=models["aws-user-personalization"][2],
                                                itemId=shop.items[0])
    with pytest.raises(bad, match="PERSONALIZED_RANKING"):
        personalize_runtime.get_personalized_ranking(campaignArn=models["aws-user-personalization"][2],
                                                     userId=shop.users[1], inputList=shop.items[:3])


@pytest.mark.parametrize("schedule", ["rate(12 hours)", "rate(0 days)", "rate(31 days)", "cron(0 0 * * ? *)"])
def test_auto_training_schedule_is_whole_days_from_1_to_30(personalize, shop, models, schedule):
    """AWS refuses any other schedule, at CreateSolution and at UpdateSolution."""
    recipe = "arn:aws:personalize:::recipe/aws-popularity-count"
    with pytest.raises(personalize.exceptions.InvalidInputException, match="schedulingExpression"):
        personalize.create_solution(
            name="bad-schedule", datasetGroupArn=shop.group, recipeArn=recipe, performAutoTraining=True,
            solutionConfig={"autoTrainingConfig": {"schedulingExpression": schedule}})
    names = {s["name"] for s in personalize.list_solutions(datasetGroupArn=shop.group)["solutions"]}
    assert "bad-schedule" not in names
    solution = models["aws-popularity-count"][0]
    with pytest.raises(personalize.exceptions.InvalidInputException, match="schedulingExpression"):
        personalize.update_solution(solutionArn=solution, performAutoTraining=True, solutionUpdateConfig={
            "autoTrainingConfig": {"schedulingExpression": schedule}})
    config = personalize.describe_solution(solutionArn=solution)["solution"].get("solutionConfig") or {}
    assert (config.get("autoTrainingConfig") or {}).get("schedulingExpression") != schedule


def test_auto_training_schedule_of_30_days_is_taken(personalize, models):
    solution = models["aws-popularity-count"][0]
    personalize.update_solution(solutionArn=solution, performAutoTraining=True, solutionUpdateConfig={
        "autoTrainingConfig": {"schedulingExpression": "rate(30 days)"}})
    config = personalize.describe_solution(solutionArn=solution)["solution"]["solutionConfig"]
    assert config["autoTrainingConfig"]["schedulingExpression"] == "rate(30 days)"
    personalize.update_solution(solutionArn=solution, performAutoTraining=False)
