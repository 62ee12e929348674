"""services.models.solutions on AWS's answers, without an engine: a real boto3 client whose calls botocore's
Stubber answers, so each request we send and each answer we read is checked against AWS's own shapes.
`test_solutions.py` drives the same functions against the engine; these tests pin what the engine never
sends (solutions with auto-training and configurations, versions without times or metrics, recipes
AWS lists but the dashboard does not offer). Written from the survivors of
`python -m bench.mutation --module solutions`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from botocore.stub import ANY, Stubber

from services.models import solutions
from tests.support.stubbed_aws import stubbed_personalize

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"
SOLUTION = "arn:aws:personalize:us-east-1:123456789012:solution/for-you"
RECIPE = "arn:aws:personalize:::recipe/{}"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


aws = pytest.fixture(stubbed_personalize, name="aws")


def version_arn(vid: str) -> str:
    return f"{SOLUTION}/{vid}"


# -- creating and training -------------------------------------------------------------------------------
def test_a_plain_solution_states_auto_training_off_and_nothing_else(aws):
    client, stub = aws
    stub.add_response("create_solution", {"solutionArn": SOLUTION}, {
        "name": "for-you", "datasetGroupArn": GROUP, "recipeArn": RECIPE.format("aws-user-personalization"),
        "performAutoTraining": False})
    assert solutions.create_solution(client, GROUP, "  for-you ", "aws-user-personalization", event_type="  ") \
        == SOLUTION


def test_every_option_reaches_create_solution(aws):
    client, stub = aws
    hpo = {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "4", "maxParallelTrainingJobs": "2"}}
    stub.add_response("create_solution", {"solutionArn": SOLUTION}, {
        "name": "for-you", "datasetGroupArn": GROUP, "recipeArn": "arn:custom/recipe", "performAutoTraining": True,
        "performHPO": True, "eventType": "purchase",
        "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "rate(3 days)"},
                           "algorithmHyperParameters": {"hidden_dimension": "64", "bptt": "32"},
                           "hpoConfig": hpo}})
    assert solutions.create_solution(client, GROUP, "for-you", "arn:custom/recipe", event_type=" purchase ",
                                     auto_training=True, schedule="rate(3 days)",
                                     hyperparameters={"hidden_dimension": 64, "bptt": "32"}, hpo=hpo) == SOLUTION


def test_a_blank_name_is_refused_before_anything_is_sent(aws):
    client, _ = aws
    with pytest.raises(ValueError, match=r"^Give the solution a name\.$"):
        solutions.create_solution(client, GROUP, "   ", "aws-sims")


def test_training_modes(aws):
    client, stub = aws
    for mode in ("FULL", "UPDATE"):
        stub.add_response("create_solution_version", {"solutionVersionArn": version_arn(mode.lower())},
                          {"solutionArn": SOLUTION, "trainingMode": mode})
        assert solutions.train(client, SOLUTION, mode) == version_arn(mode.lower())
    stub.add_response("create_solution_version", {"solutionVersionArn": version_arn("default")},
                      {"solutionArn": SOLUTION, "trainingMode": "FULL"})
    assert solutions.train(client, SOLUTION) == version_arn("default")
    with pytest.raises(ValueError) as refused:
        solutions.train(client, SOLUTION, "full")
    assert str(refused.value) == "The training mode must be FULL or UPDATE, not 'full'."


def test_stop_asks_for_the_version(aws):
    client, stub = aws
    stub.add_response("stop_solution_version_creation", {}, {"solutionVersionArn": version_arn("v1")})
    assert solutions.stop(client, version_arn("v1")) is None


# -- what auto-training costs --------------------------------------------------------------------------
@pytest.mark.parametrize(("schedule", "runs_a_week"), [
    ("rate(7 days)", 1.0), ("rate(1 day)", 7.0), ("rate(14 days)", 0.5), ("rate(0.5 days)", 7.0),
    ("cron(0 2 * * ? *)", 1.0), ("", 1.0), ("rate()", 1.0),
])
def test_weekly_auto_training_cost(schedule, runs_a_week):
    per_run = solutions.TRAINING_HOUR_PRICE * solutions.AUTO_TRAINING_HOURS_PER_RUN
    assert solutions.weekly_auto_training_cost(schedule) == pytest.approx(per_run * runs_a_week)
    assert solutions.weekly_auto_training_cost() == pytest.approx(per_run)


def test_the_weekly_cost_grows_with_the_hours_a_run_takes(monkeypatch):
    monkeypatch.setattr(solutions, "AUTO_TRAINING_HOURS_PER_RUN", 2.5)
    assert solutions.weekly_auto_training_cost("rate(7 days)") == pytest.approx(solutions.TRAINING_HOUR_PRICE * 2.5)


# -- the solutions table -------------------------------------------------------------------------------
def describe_solution(stub: Stubber, name: str, **solution) -> None:
    arn = f"arn:aws:personalize:us-east-1:123456789012:solution/{name}"
    stub.add_response("describe_solution", {"solution": {"name": name, "solutionArn": arn, **solution}},
                      {"solutionArn": arn})


def test_the_solutions_table_reads_every_setting_in_words(aws):
    client, stub = aws
    names = ["tuned", "plain", "bare"]
    stub.add_response("list_solutions", {"solutions": [
        {"solutionArn": f"arn:aws:personalize:us-east-1:123456789012:solution/{n}"} for n in names]},
        {"datasetGroupArn": GROUP})
    describe_solution(stub, "tuned", recipeArn=RECIPE.format("aws-user-personalization"), eventType="purchase",
                      performAutoTraining=True, status="ACTIVE",
                      solutionConfig={"autoTrainingConfig": {"schedulingExpression": "rate(1 day)"},
                                      "algorithmHyperParameters": {"b": "2", "a": "1"}, "eventValueThreshold": "0.5",
                                      "featureTransformationParameters": {}},
                      latestSolutionVersion={"solutionVersionArn": version_arn("v1"), "status": "CREATE PENDING"})
    describe_solution(stub, "plain", recipeArn=RECIPE.format("aws-sims"), performAutoTraining=True,
                      solutionConfig={"autoTrainingConfig": {}, "eventValueThreshold": ""}, status="ACTIVE")
    describe_solution(stub, "bare")
    table = solutions.solutions_table(client, GROUP)
    assert table.columns.tolist() == solutions.SOLUTION_COLUMNS
    tuned, plain, bare = (table.iloc[i].to_dict() for i in range(3))
    assert tuned == {
        "name": "tuned", "recipe": "aws-user-personalization", "event type": "purchase",
        "configuration": "algorithmHyperParameters: a=1, b=2; eventValueThreshold=0.5",
        "auto-training": "on, rate(1 day)", "auto-training $/week": pytest.approx(solutions.weekly_auto_training_cost(
            "rate(1 day)")), "status": "ACTIVE", "latest version": "CREATE PENDING",
        "solution_arn": "arn:aws:personalize:us-east-1:123456789012:solution/tuned"}
    assert (plain["auto-training"], plain["configuration"], plain["event type"]) == (
        "on, rate(7 days)", "defaults", "all events")
    assert plain["auto-training $/week"] == pytest.approx(solutions.weekly_auto_training_cost())
    assert (bare["recipe"], bare["auto-training"], bare["auto-training $/week"], bare["status"],
            bare["latest version"]) == ("", "off", 0.0, "", "no version yet")


def test_an_empty_group_has_an_empty_table_with_its_columns(aws):
    client, stub = aws
    stub.add_response("list_solutions", {"solutions": []}, {"datasetGroupArn": GROUP})
    table = solutions.solutions_table(client, GROUP)
    assert table.empty and table.columns.tolist() == solutions.SOLUTION_COLUMNS


# -- the recipe catalogue --------------------------------------------------------------------------------
def test_the_catalogue_offers_custom_aws_recipes_guided_ones_first(aws):
    client, stub = aws
    stub.add_response("list_recipes", {"recipes": [
        {"name": "aws-zeta", "recipeArn": RECIPE.format("aws-zeta")},
        {"recipeArn": RECIPE.format("aws-sims")},  # no name: read from the ARN
        {"name": "aws-ecomm-popular-items-by-views", "recipeArn": RECIPE.format("aws-ecomm-popular-items-by-views"),
         "domain": "ECOMMERCE"},
        {"name": "my-recipe", "recipeArn": RECIPE.format("my-recipe")},
        {"name": "aws-alpha", "recipeArn": RECIPE.format("aws-alpha")},
        {"name": "aws-popularity-count", "recipeArn": RECIPE.format("aws-popularity-count")},
    ]}, {})
    stub.add_response("describe_recipe", {"recipe": {"recipeType": "USER_PERSONALIZATION",
                                                     "description": "A new recipe."}},
                      {"recipeArn": RECIPE.format("aws-zeta")})
    stub.add_response("describe_recipe", {"recipe": {"recipeType": "RELATED_ITEMS"}},
                      {"recipeArn": RECIPE.format("aws-sims")})
    stub.add_client_error("describe_recipe", "ResourceNotFoundException", "no", expected_params={"recipeArn": ANY})
    stub.add_response("describe_recipe", {"recipe": {}}, {"recipeArn": RECIPE.format("aws-popularity-count")})
    catalogue = solutions.recipe_catalogue(client)
    assert [r.name for r in catalogue] == ["aws-popularity-count", "aws-sims", "aws-alpha", "aws-zeta"]
    popularity, sims, alpha, zeta = catalogue
    assert sims.arn == RECIPE.format("aws-sims") and sims.recipe_type == "RELATED_ITEMS"
    assert sims.guide is solutions.RECIPE_GUIDE["aws-sims"]
    assert (alpha.recipe_type, alpha.description, alpha.guide) == ("", "", None)
    assert alpha.explanation() == "No description."
    assert zeta.explanation() == "A new recipe."
    guide = solutions.RECIPE_GUIDE["aws-popularity-count"]
    assert popularity.explanation() == (f"{guide.what} **When to use it:** {guide.when} Requests pass "
                                        f"{guide.asks_for}.")


def test_recipe_names_become_arns_and_arns_stay():
    assert solutions.recipe_arn("aws-sims") == "arn:aws:personalize:::recipe/aws-sims"
    assert solutions.recipe_arn("arn:aws:personalize:::recipe/aws-sims") == "arn:aws:personalize:::recipe/aws-sims"


# -- the versions table --------------------------------------------------------------------------------
def summary(vid: str, created: datetime | None, status: str = "ACTIVE") -> dict:
    out = {"solutionVersionArn": version_arn(vid), "status": status}
    if created is not None:
        out["creationDateTime"] = created
    return out


def test_versions_newest_first_with_durations_metrics_and_failures(aws):
    client, stub = aws
    t0 = NOW - timedelta(hours=3)
    stub.add_response("list_solution_versions", {"solutionVersions": [
        summary("old", t0), summary("training", NOW - timedelta(minutes=10), "CREATE IN_PROGRESS"),
        summary("failed", t0 + timedelta(hours=1), "CREATE FAILED")]}, {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("training"), "status": "CREATE IN_PROGRESS", "trainingMode": "FULL",
        "trainingType": "MANUAL", "creationDateTime": NOW - timedelta(minutes=10),
        "lastUpdatedDateTime": NOW - timedelta(minutes=9)}}, {"solutionVersionArn": version_arn("training")})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("failed"), "status": "CREATE FAILED", "trainingMode": "UPDATE",
        "trainingType": "AUTOMATIC", "creationDateTime": t0 + timedelta(hours=1),
        "lastUpdatedDateTime": t0 + timedelta(hours=1, seconds=90), "failureReason": "Too little data."}},
        {"solutionVersionArn": version_arn("failed")})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("old"), "status": "ACTIVE", "trainingMode": "FULL",
        "creationDateTime": t0, "lastUpdatedDateTime": t0 + timedelta(minutes=20), "trainingHours": 0.25}},
        {"solutionVersionArn": version_arn("old")})
    stub.add_response("get_solution_metrics", {"metrics": {solutions.HEADLINE_METRIC: 0.3125, "coverage": 0.5}},
                      {"solutionVersionArn": version_arn("old")})
    table = solutions.versions_table(client, SOLUTION, now=NOW)
    assert table.columns.tolist() == solutions.VERSION_COLUMNS
    assert table["version"].tolist() == ["training", "failed", "old"]
    training, failed, old = (table.iloc[i].to_dict() for i in range(3))
    assert training["duration_s"] == 600.0  # still training: measured up to now
    assert (training["mode"], training["trigger"]) == ("FULL", "MANUAL") and pd.isna(training["NDCG@25"])
    assert failed["duration_s"] == 90.0 and failed["failure reason"] == "Too little data."
    assert (failed["mode"], failed["trigger"]) == ("UPDATE", "AUTOMATIC") and pd.isna(failed["NDCG@25"])
    assert old["duration_s"] == 1200.0 and old["training hours"] == 0.25 and old["NDCG@25"] == 0.3125
    assert old["created"] == t0 and old["solution_version_arn"] == version_arn("old")
    assert (old["tuned"], old["HPO progress"], old["failure reason"], old["status"]) == ("", "", "", "ACTIVE")
    assert solutions.is_training(table)
    assert not solutions.is_training(table.iloc[1:])
    assert not solutions.is_training(table.iloc[:0])


def test_a_version_without_times_or_metrics_still_gets_its_row(aws):
    client, stub = aws
    stub.add_response("list_solution_versions", {"solutionVersions": [summary("v1", None)]},
                      {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("v1"), "status": "ACTIVE"}}, {"solutionVersionArn": version_arn("v1")})
    stub.add_client_error("get_solution_metrics", "ResourceNotFoundException", "no metrics",
                          expected_params={"solutionVersionArn": version_arn("v1")})
    row = solutions.versions_table(client, SOLUTION, now=NOW).iloc[0].to_dict()
    assert row["duration_s"] is None and row["created"] is None and row["NDCG@25"] is None


def test_a_finished_version_without_an_end_time_runs_to_now_and_metrics_may_lack_the_headline(aws):
    client, stub = aws
    created = NOW - timedelta(seconds=30)
    stub.add_response("list_solution_versions", {"solutionVersions": [summary("v1", created)]},
                      {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("v1"), "status": "ACTIVE", "creationDateTime": created}},
        {"solutionVersionArn": version_arn("v1")})
    stub.add_response("get_solution_metrics", {"metrics": {"coverage": 0.5}},
                      {"solutionVersionArn": version_arn("v1")})
    row = solutions.versions_table(client, SOLUTION, now=NOW).iloc[0].to_dict()
    assert row["duration_s"] == 30.0 and row["NDCG@25"] is None


def test_a_tuning_version_shows_its_progress(aws):
    client, stub = aws
    created = NOW - timedelta(minutes=5)
    stub.add_response("list_solution_versions", {"solutionVersions": [summary("hpo", created, "CREATE PENDING")]},
                      {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("hpo"), "status": "CREATE PENDING", "creationDateTime": created,
        "performHPO": True}}, {"solutionVersionArn": version_arn("hpo")})
    row = solutions.versions_table(client, SOLUTION, now=NOW).iloc[0].to_dict()
    assert row["HPO progress"].startswith("hpo is tuning (CREATE PENDING, running for 5 min 00 s)")
    assert row["tuned"] == "tuning…"


def test_only_the_newest_versions_are_described(aws, monkeypatch):
    client, stub = aws
    monkeypatch.setattr(solutions, "VERSIONS_DESCRIBED", 1)
    stub.add_response("list_solution_versions", {"solutionVersions": [
        summary("old", NOW - timedelta(days=2)), summary("new", NOW - timedelta(days=1))]}, {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("new"), "status": "CREATE FAILED", "trainingMode": "FULL"}},
        {"solutionVersionArn": version_arn("new")})
    table = solutions.versions_table(client, SOLUTION, now=NOW)
    assert table["version"].tolist() == ["new", "old"]
    assert table["mode"].tolist() == ["FULL", ""]  # the older row keeps its summary
    assert table.iloc[1]["NDCG@25"] is None  # and is not asked for metrics


def test_versions_without_a_creation_time_sort_as_newest(aws):
    client, stub = aws
    stub.add_response("list_solution_versions", {"solutionVersions": [
        summary("dated", NOW - timedelta(days=1), "CREATE FAILED"), summary("undated", None, "CREATE FAILED")]},
        {"solutionArn": SOLUTION})
    for vid in ("undated", "dated"):
        stub.add_response("describe_solution_version", {"solutionVersion": {
            "solutionVersionArn": version_arn(vid), "status": "CREATE FAILED"}},
            {"solutionVersionArn": version_arn(vid)})
    assert solutions.versions_table(client, SOLUTION, now=NOW)["version"].tolist() == ["undated", "dated"]


def test_an_instant_version_lasts_zero_seconds_and_a_finished_tuned_one_shows_no_progress(aws):
    # Finished in the second it was created (or stamped before it, by a clock that went back): 0 s, not
    # a floor of 1 s. A finished HPO version has nothing left to tune: no progress text.
    client, stub = aws
    created = NOW - timedelta(hours=1)
    stub.add_response("list_solution_versions", {"solutionVersions": [
        summary("instant", created), summary("skewed", created - timedelta(hours=1))]}, {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("instant"), "status": "CREATE FAILED", "creationDateTime": created,
        "lastUpdatedDateTime": created + timedelta(milliseconds=400), "performHPO": True}},
        {"solutionVersionArn": version_arn("instant")})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("skewed"), "status": "CREATE FAILED",
        "creationDateTime": created - timedelta(hours=1), "lastUpdatedDateTime": created - timedelta(hours=2)}},
        {"solutionVersionArn": version_arn("skewed")})
    instant, skewed = (row for _, row in solutions.versions_table(client, SOLUTION, now=NOW).iterrows())
    assert instant["duration_s"] == 0.4 and skewed["duration_s"] == 0.0
    assert instant["HPO progress"] == ""


def test_a_version_without_status_or_trigger_reads_blank_and_no_versions_keep_the_columns(aws):
    client, stub = aws
    stub.add_response("list_solution_versions", {"solutionVersions": [{"solutionVersionArn": version_arn("v1")}]},
                      {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {"solutionVersionArn": version_arn("v1")}},
                      {"solutionVersionArn": version_arn("v1")})
    row = solutions.versions_table(client, SOLUTION, now=NOW).iloc[0].to_dict()
    assert (row["status"], row["mode"], row["trigger"]) == ("", "", "")
    stub.add_response("list_solution_versions", {"solutionVersions": []}, {"solutionArn": SOLUTION})
    empty = solutions.versions_table(client, SOLUTION, now=NOW)
    assert empty.empty and empty.columns.tolist() == solutions.VERSION_COLUMNS


def test_without_a_clock_given_a_running_version_is_measured_to_the_real_now(aws):
    client, stub = aws
    created = datetime.now(UTC) - timedelta(minutes=2)
    stub.add_response("list_solution_versions", {"solutionVersions": [summary("v1", created, "CREATE IN_PROGRESS")]},
                      {"solutionArn": SOLUTION})
    stub.add_response("describe_solution_version", {"solutionVersion": {
        "solutionVersionArn": version_arn("v1"), "status": "CREATE IN_PROGRESS", "creationDateTime": created}},
        {"solutionVersionArn": version_arn("v1")})
    row = solutions.versions_table(client, SOLUTION).iloc[0].to_dict()
    assert 120.0 <= row["duration_s"] < 3600.0
