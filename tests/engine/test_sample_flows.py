"""The calls AWS's sample notebooks make, in their order and style, on generated MovieLens-like data: the
places where the engine used to answer differently from AWS (each test names the behaviour it pins).

The data is written the way the notebooks write it (pandas, sometimes without index=False); the clients are
plain boto3; every answer is checked against botocore's output shapes at the end of the module.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from tests.engine.conftest import ROLE, active
from tests.support.engine_process import wait_for
from tests.support.engine_shop import dataset_from_file

INTERACTIONS_SCHEMA = {
    "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
               {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],
    "version": "1.0",
}
ITEMS_SCHEMA = {
    "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "ITEM_ID", "type": "string"},
               {"name": "GENRES", "type": ["null", "string"], "categorical": True},
               {"name": "CREATION_TIMESTAMP", "type": "long"}],
    "version": "1.0",
}
GENRES = ["Drama", "Comedy", "Action", "Horror"]
NOW = 1_735_000_000


def movielens_like(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users watching and rating movies (a Zipf-ish popularity), with genres: MovieLens-100k's shape."""
    rng = np.random.default_rng(seed)
    n_users, n_items, n = 300, 150, 6000
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.8
    users = rng.integers(1, n_users + 1, n)
    items = rng.choice(n_items, n, p=weights / weights.sum()) + 1
    interactions = pd.DataFrame({
        "USER_ID": users.astype(str), "ITEM_ID": items.astype(str),
        "EVENT_TYPE": rng.choice(["watch", "click"], n, p=[0.3, 0.7]),
        "TIMESTAMP": NOW - rng.integers(0, 60 * 86400, n),
    })
    catalogue = pd.DataFrame({
        "ITEM_ID": np.arange(1, n_items + 1).astype(str), "GENRES": [GENRES[i % 4] for i in range(n_items)],
        "CREATION_TIMESTAMP": NOW - 90 * 86400,
    })
    return interactions, catalogue


@pytest.fixture(scope="module")
def group(personalize, recorder, tmp_path_factory) -> dict:
    """The getting-started notebook's set-up: group, schemas, datasets and imports of CSVs that pandas
    wrote with its index (no index=False), as two of AWS's notebooks do."""
    tmp = tmp_path_factory.mktemp("samples")
    interactions, catalogue = movielens_like()
    interactions.to_csv(tmp / "interactions.csv")  # the pandas index comes first, under an empty header
    catalogue.to_csv(tmp / "items.csv", index=False)
    arn = personalize.create_dataset_group(name="samples-movielens")["datasetGroupArn"]
    active(lambda: personalize.describe_dataset_group(datasetGroupArn=arn), "datasetGroup")
    out: dict = {"group": arn, "interactions": interactions, "items": catalogue, "tmp": tmp}
    for dtype, schema, path in (("Interactions", INTERACTIONS_SCHEMA, tmp / "interactions.csv"),
                                ("Items", ITEMS_SCHEMA, tmp / "items.csv")):
        out[dtype], out[f"{dtype}-schema"] = dataset_from_file(personalize, arn, f"samples-{dtype.lower()}", dtype,
                                                               schema, path)
    return out


def train_back_to_back(personalize, group_arn: str, name: str, recipe: str) -> str:
    """CreateSolution and CreateSolutionVersion with no wait between them, as the samples call them."""
    solution = personalize.create_solution(name=name, datasetGroupArn=group_arn, performAutoTraining=False,
                                           recipeArn=f"arn:aws:personalize:::recipe/{recipe}")["solutionArn"]
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    done = active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert done["status"] == "ACTIVE", done.get("failureReason")
    return version


def campaign_for(personalize, name: str, version: str, **kw) -> str:
    arn = personalize.create_campaign(name=name, solutionVersionArn=version, minProvisionedTPS=1, **kw)["campaignArn"]
    assert active(lambda: personalize.describe_campaign(campaignArn=arn), "campaign")["status"] == "ACTIVE"
    return arn


@pytest.fixture(scope="module")
def campaigns(personalize, group) -> dict[str, str]:
    out = {}
    for recipe in ("aws-user-personalization", "aws-trending-now", "aws-sims"):
        version = train_back_to_back(personalize, group["group"], f"samples-{recipe}", recipe)
        out[recipe] = campaign_for(personalize, f"samples-{recipe}", version)
        out[f"{recipe}-version"] = version
    return out


def test_the_pandas_index_column_is_dropped_on_import(personalize, group):
    # The fixture imported a CSV written without index=False: it went in, and the data is all there.
    header = (group["tmp"] / "interactions.csv").read_text().splitlines()[0]
    assert header.startswith(",USER_ID")
    job = personalize.list_dataset_import_jobs(datasetArn=group["Interactions"])["datasetImportJobs"][0]
    assert job["status"] == "ACTIVE"


def test_a_header_that_differs_only_in_case_says_so(personalize, group):
    bad = group["tmp"] / "items-lower.csv"
    group["items"].rename(columns={"CREATION_TIMESTAMP": "creation_timestamp"}).to_csv(bad, index=False)
    job = personalize.create_dataset_import_job(jobName="samples-items-lower", datasetArn=group["Items"],
                                                dataSource={"dataLocation": bad.as_uri()}, roleArn=ROLE)
    done = active(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")
    assert done["status"] == "CREATE FAILED"
    assert "'creation_timestamp' (differs only in case from the schema's CREATION_TIMESTAMP)" in done["failureReason"]


def test_solution_version_straight_after_solution(personalize, group, campaigns):
    """Several notebooks' worth of CreateSolution + CreateSolutionVersion at once, each pair back to back:
    with the engine busy, the solutions are still being created when their versions are asked for."""
    def pair(n: int) -> str:
        solution = personalize.create_solution(
            name=f"samples-burst-{n}", datasetGroupArn=group["group"], performAutoTraining=False,
            recipeArn="arn:aws:personalize:::recipe/aws-popularity-count")["solutionArn"]
        return personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]

    solution = personalize.describe_solution_version(
        solutionVersionArn=campaigns["aws-user-personalization-version"])["solutionVersion"]["solutionArn"]
    training = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]  # keeps it busy
    with ThreadPoolExecutor(8) as pool:
        versions = [training, *pool.map(pair, range(24))]
    for version in versions:
        done = active(lambda v=version: personalize.describe_solution_version(solutionVersionArn=v), "solutionVersion")
        assert done["status"] == "ACTIVE", done.get("failureReason")


def test_put_events_with_the_item_in_properties(personalize, personalize_runtime, personalize_events, group,
                                                campaigns):
    """The developer guide's PutEvents example: itemId (and eventValue) inside `properties`, plus the
    impressions the exploration notebook sends."""
    campaign = campaigns["aws-user-personalization"]
    tracker = personalize.create_event_tracker(name="samples-tracker", datasetGroupArn=group["group"])
    active(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    user = "newcomer-1"
    before = [i["itemId"] for i in personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=user, numResults=10)["itemList"]]
    watched = "150"
    personalize_events.put_events(
        trackingId=tracker["trackingId"], userId=user, sessionId=str(uuid.uuid4()),
        eventList=[{"sentAt": time.time(), "eventType": "watch", "properties": json.dumps({"itemId": watched}),
                    "impression": before[:5]}])
    after = [i["itemId"] for i in personalize_runtime.get_recommendations(
        campaignArn=campaign, userId=user, numResults=10)["itemList"]]
    assert after != before and watched not in after
    with pytest.raises(personalize_events.exceptions.InvalidInputException, match="itemId"):
        personalize_events.put_events(trackingId=tracker["trackingId"], userId=user, sessionId="s",
                                      eventList=[{"sentAt": time.time(), "eventType": "watch",
                                                  "properties": json.dumps({"numRatings": 3})}])


def test_trending_now_without_a_user(personalize, personalize_runtime, group, campaigns):
    campaign = campaigns["aws-trending-now"]
    anonymous = personalize_runtime.get_recommendations(campaignArn=campaign, numResults=10)["itemList"]
    assert len(anonymous) == 10
    by_interactions = personalize.create_filter(
        name="samples-unwatched", datasetGroupArn=group["group"],
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")')["filterArn"]
    active(lambda: personalize.describe_filter(filterArn=by_interactions), "filter")
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException, match="userId"):
        personalize_runtime.get_recommendations(campaignArn=campaign, filterArn=by_interactions)
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException, match="userId"):
        personalize_runtime.get_recommendations(campaignArn=campaigns["aws-user-personalization"])


def test_promotions_place_promoted_items(personalize, personalize_runtime, group, campaigns):
    """The filters-and-promotions notebook: a share of the list from the promotion's filter, marked."""
    campaign = campaigns["aws-user-personalization"]
    by_genre = personalize.create_filter(
        name="samples-genre", datasetGroupArn=group["group"],
        filterExpression="INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)")["filterArn"]
    active(lambda: personalize.describe_filter(filterArn=by_genre), "filter")
    horror = set(group["items"].loc[group["items"].GENRES == "Horror", "ITEM_ID"])
    plain = personalize_runtime.get_recommendations(campaignArn=campaign, userId="5", numResults=20)["itemList"]
    promoted = personalize_runtime.get_recommendations(
        campaignArn=campaign, userId="5", numResults=20,
        promotions=[{"name": "horror-week", "percentPromotedItems": 50, "filterArn": by_genre,
                     "filterValues": {"GENRE": '"Horror"'}}])["itemList"]
    marked = [i for i in promoted if i.get("promotionName") == "horror-week"]
    assert len(promoted) == 20 and len(marked) == 10
    assert {i["itemId"] for i in marked} <= horror
    assert [i["itemId"] for i in promoted] != [i["itemId"] for i in plain]
    assert len({i["itemId"] for i in promoted}) == 20  # no item twice
    scores = [i["score"] for i in marked]
    assert scores == sorted(scores, reverse=True)  # promoted items keep their order among themselves
    assert not any("promotionName" in i for i in plain)
    again = personalize_runtime.get_recommendations(
        campaignArn=campaign, userId="5", numResults=20,
        promotions=[{"name": "horror-week", "percentPromotedItems": 50, "filterArn": by_genre,
                     "filterValues": {"GENRE": '"Horror"'}}])["itemList"]
    assert again == promoted
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException, match="Promotions apply"):
        personalize_runtime.get_recommendations(
            campaignArn=campaigns["aws-trending-now"], userId="5",
            promotions=[{"name": "p", "percentPromotedItems": 20, "filterArn": by_genre,
                         "filterValues": {"GENRE": '"Horror"'}}])


def test_related_items_and_ranking(personalize, personalize_runtime, group, campaigns):
    related = personalize_runtime.get_recommendations(campaignArn=campaigns["aws-sims"], itemId="1",
                                                      numResults=5)["itemList"]
    assert len(related) == 5 and "1" not in [i["itemId"] for i in related]
    version = train_back_to_back(personalize, group["group"], "samples-ranking", "aws-personalized-ranking")
    ranking = campaign_for(personalize, "samples-ranking", version)
    ranked = personalize_runtime.get_personalized_ranking(campaignArn=ranking, userId="7",
                                                          inputList=["3", "1", "2"])["personalizedRanking"]
    assert sorted(i["itemId"] for i in ranked) == ["1", "2", "3"]


def test_batch_recommendations(personalize, group, campaigns, tmp_path):
    source = tmp_path / "batch" / "users.json"
    source.parent.mkdir()
    source.write_text("".join(json.dumps({"userId": str(u)}) + "\n" for u in (1, 2, 3)))
    job = personalize.create_batch_inference_job(
        jobName="samples-batch", solutionVersionArn=campaigns["aws-user-personalization-version"], roleArn=ROLE,
        jobInput={"s3DataSource": {"path": source.as_uri()}},
        jobOutput={"s3DataDestination": {"path": (tmp_path / "out").as_uri() + "/"}})["batchInferenceJobArn"]
    assert active(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=job),
                  "batchInferenceJob")["status"] == "ACTIVE"
    lines = (tmp_path / "out" / "users.json.out").read_text().splitlines()
    assert len(lines) == 3 and all(len(json.loads(line)["output"]["recommendedItems"]) == 25 for line in lines)


def test_list_recipes_by_domain(personalize):
    ecommerce = personalize.list_recipes(domain="ECOMMERCE")["recipes"]
    assert {r["name"] for r in ecommerce} == {
        "aws-ecomm-customers-who-viewed-x-also-viewed", "aws-ecomm-frequently-bought-together",
        "aws-ecomm-popular-items-by-purchases", "aws-ecomm-popular-items-by-views", "aws-ecomm-recommended-for-you"}
    assert all(r["domain"] == "ECOMMERCE" for r in ecommerce)
    video = {r["name"] for r in personalize.list_recipes(domain="VIDEO_ON_DEMAND")["recipes"]}
    assert "aws-vod-top-picks" in video and not video & {r["name"] for r in ecommerce}
    everything = {r["name"] for r in personalize.list_recipes()["recipes"]}
    assert {"aws-user-personalization", "aws-ecomm-recommended-for-you", "aws-vod-top-picks"} <= everything
    described = personalize.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-vod-more-like-x")["recipe"]
    assert described["recipeType"] == "RELATED_ITEMS"


def test_filter_field_that_differs_only_in_case(personalize, group):
    with pytest.raises(personalize.exceptions.InvalidInputException, match="differs only in case"):
        personalize.create_filter(name="samples-lower", datasetGroupArn=group["group"],
                                  filterExpression='EXCLUDE ItemID WHERE Interactions.event_type IN ("watch")')


def test_every_answer_has_its_own_request_id(personalize, personalize_runtime, campaigns):
    ids = [personalize.list_dataset_groups()["ResponseMetadata"]["RequestId"] for _ in range(3)]
    ids += [personalize_runtime.get_recommendations(campaignArn=campaigns["aws-trending-now"], numResults=1)
            ["ResponseMetadata"]["RequestId"] for _ in range(3)]  # the serving hot path too
    with pytest.raises(personalize.exceptions.ResourceNotFoundException) as error:
        personalize.describe_campaign(campaignArn="arn:aws:personalize:us-east-1:000000000000:campaign/none")
    ids.append(error.value.response["ResponseMetadata"]["RequestId"])
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i) and i != "00000000-0000-0000-0000-000000000000" for i in ids)


def gone(describe) -> bool:
    try:
        describe()
    except Exception as exc:  # botocore's modelled ResourceNotFoundException
        return type(exc).__name__ == "ResourceNotFoundException"
    return False


def test_cleanup_loops_on_the_delete_lifecycle(personalize, personalize_runtime, group, campaigns):
    """The samples' clean-up: delete, then poll Describe through DELETE PENDING / DELETE IN_PROGRESS until
    ResourceNotFoundException, one family after the other (campaigns, solutions, tracker, filters,
    datasets, schemas, group)."""
    g = group["group"]
    seen: set[str] = set()
    campaign_arns = [c["campaignArn"] for s in personalize.list_solutions(datasetGroupArn=g)["solutions"]
                     for c in personalize.list_campaigns(solutionArn=s["solutionArn"])["campaigns"]]
    for arn in campaign_arns:
        personalize.delete_campaign(campaignArn=arn)
    first = personalize.describe_campaign(campaignArn=campaign_arns[0])["campaign"]
    assert first["status"] in ("DELETE PENDING", "DELETE IN_PROGRESS")
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.delete_campaign(campaignArn=campaign_arns[0])  # already being deleted
    with pytest.raises(personalize_runtime.exceptions.ResourceNotFoundException):
        personalize_runtime.get_recommendations(campaignArn=campaign_arns[0], userId="1")
    solution = personalize.list_solutions(datasetGroupArn=g)["solutions"][0]["solutionArn"]
    if personalize.list_campaigns(solutionArn=solution)["campaigns"]:
        with pytest.raises(personalize.exceptions.ResourceInUseException):
            personalize.delete_solution(solutionArn=solution)  # its campaign is not gone yet

    def wait_gone(describe, key: str) -> None:
        def state():
            try:
                return describe()[key]["status"]
            except personalize.exceptions.ResourceNotFoundException:
                return "GONE"
        final = wait_for(lambda: (seen.add(s := state()), s)[1], lambda s: s == "GONE", timeout=30, interval=0.02)
        assert final == "GONE"

    for arn in campaign_arns:
        wait_gone(lambda arn=arn: personalize.describe_campaign(campaignArn=arn), "campaign")
    solutions = [s["solutionArn"] for s in personalize.list_solutions(datasetGroupArn=g)["solutions"]]
    for arn in solutions:
        personalize.delete_solution(solutionArn=arn)
    for arn in solutions:
        wait_gone(lambda arn=arn: personalize.describe_solution(solutionArn=arn), "solution")
    for tracker in personalize.list_event_trackers(datasetGroupArn=g)["eventTrackers"]:
        personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
        wait_gone(lambda t=tracker: personalize.describe_event_tracker(eventTrackerArn=t["eventTrackerArn"]),
                  "eventTracker")
    for f in personalize.list_filters(datasetGroupArn=g)["Filters"]:
        personalize.delete_filter(filterArn=f["filterArn"])
        wait_gone(lambda f=f: personalize.describe_filter(filterArn=f["filterArn"]), "filter")
    for dtype in ("Interactions", "Items"):
        personalize.delete_dataset(datasetArn=group[dtype])
    # More lenient than AWS, on purpose: schema and group may go while their datasets are still deleting.
    for dtype in ("Interactions", "Items"):
        personalize.delete_schema(schemaArn=group[f"{dtype}-schema"])
    personalize.delete_dataset_group(datasetGroupArn=g)
    wait_gone(lambda: personalize.describe_dataset_group(datasetGroupArn=g), "datasetGroup")
    for dtype in ("Interactions", "Items"):
        wait_gone(lambda d=group[dtype]: personalize.describe_dataset(datasetArn=d), "dataset")
    assert {"DELETE PENDING", "DELETE IN_PROGRESS"} & seen
    assert gone(lambda: personalize.describe_schema(schemaArn=group["Items-schema"]))


def test_every_response_matches_botocore_output_shapes(recorder):
    """Runs last in this module: every answer above, new ones included, against botocore's model."""
    assert recorder.problems() == []
    assert {"personalize:ListRecipes", "personalize-runtime:GetRecommendations", "personalize-events:PutEvents",
            "personalize:DescribeCampaign", "personalize:DescribeDatasetGroup"} <= set(recorder.seen)
