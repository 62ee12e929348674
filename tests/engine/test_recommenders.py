"""A domain dataset group (ECOMMERCE) and each of its recommenders, through boto3 only, in the order AWS's
domain samples call them: group and schemas with a domain, datasets, imports, one recommender per use case,
GetRecommendations with recommenderArn, then Update, Stop/Start and the delete lifecycle.

The generated shop is built so that each use case has a right answer that only its own model finds: items
come in pairs bought together, shoppers browse one category, and the most viewed item is not the most
purchased one. Every answer is checked against botocore's output shapes at the end of the module.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.engine.conftest import ROLE, active
from tests.support.domain_shop import (
    CATEGORIES,
    N_CATEGORIES,
    SCHEMAS,
    USE_CASES,
    category,
    ecommerce_shop,
    partner,
    record_schema,
)
from tests.support.engine_process import EngineProcess, wait_for
from tests.support.engine_shop import dataset_from_file


@pytest.fixture(scope="module")
def shop(personalize, recorder, tmp_path_factory) -> dict:
    return build_domain_shop(personalize, tmp_path_factory.mktemp("domain"))


def build_domain_shop(personalize, tmp: Path) -> dict:
    interactions, items, counts = ecommerce_shop()
    arn = personalize.create_dataset_group(name="domain-shop", domain="ECOMMERCE")["datasetGroupArn"]
    assert active(lambda: personalize.describe_dataset_group(datasetGroupArn=arn), "datasetGroup")["domain"] == \
        "ECOMMERCE"
    out: dict = {"group": arn, "counts": counts, "interactions": interactions}
    for dtype, frame in (("Interactions", interactions), ("Items", items)):
        path = tmp / f"{dtype.lower()}.csv"
        frame.to_csv(path, index=False)
        dataset, schema_arn = dataset_from_file(personalize, arn, f"domain-{dtype.lower()}", dtype,
                                                record_schema(dtype), path, domain="ECOMMERCE")
        assert personalize.describe_schema(schemaArn=schema_arn)["schema"]["domain"] == "ECOMMERCE"
        out[dtype], out[f"{dtype}-schema"] = dataset, schema_arn
    return out


@pytest.fixture(scope="module")
def recommenders(personalize, shop) -> dict[str, str]:
    """One recommender per ECOMMERCE use case, created back to back (AWS trains them side by side)."""
    arns = {}
    for case in USE_CASES:
        arns[case] = personalize.create_recommender(
            name=f"domain-{case}", datasetGroupArn=shop["group"],
            recipeArn=f"arn:aws:personalize:::recipe/aws-ecomm-{case}",
            recommenderConfig={"minRecommendationRequestsPerSecond": 2} if case == "recommended-for-you" else {},
        )["recommenderArn"]
    first = personalize.describe_recommender(recommenderArn=arns[USE_CASES[-1]])["recommender"]
    assert first["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")  # trained in the background
    for case, arn in arns.items():
        rec = active(lambda arn=arn: personalize.describe_recommender(recommenderArn=arn), "recommender")
        assert rec["status"] == "ACTIVE", (case, rec.get("failureReason"))
    return arns


def items_of(runtime, arn: str, **kw) -> list[str]:
    return [it["itemId"] for it in runtime.get_recommendations(recommenderArn=arn, **kw)["itemList"]]


def test_each_recommender_is_described_with_its_config_and_metrics(personalize, shop, recommenders):
    listed = personalize.list_recommenders(datasetGroupArn=shop["group"])["recommenders"]
    assert {r["recommenderArn"] for r in listed} == set(recommenders.values())
    assert all(r["status"] == "ACTIVE" for r in listed)
    rec = personalize.describe_recommender(recommenderArn=recommenders["recommended-for-you"])["recommender"]
    assert rec["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 2
    assert rec["recipeArn"].endswith("aws-ecomm-recommended-for-you") and rec["datasetGroupArn"] == shop["group"]
    metrics = rec["modelMetrics"]
    assert 0 < metrics["coverage"] <= 1 and "normalized_discounted_cumulative_gain_at_10" in metrics
    views = personalize.describe_recommender(recommenderArn=recommenders["popular-items-by-views"])["recommender"]
    assert views["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 1  # AWS's default


def test_popular_items_count_their_own_event_type(personalize_runtime, shop, recommenders):
    """By purchases and by views are different lists, each led by its own most frequent item; no user needed."""
    by_purchases = items_of(personalize_runtime, recommenders["popular-items-by-purchases"], numResults=10)
    by_views = items_of(personalize_runtime, recommenders["popular-items-by-views"], numResults=10)
    counts = shop["counts"]
    assert by_purchases[0] == counts["Purchase"].index[0] == "i2"
    assert by_views[0] == counts["View"].index[0] == "i1"
    # The purchase counts themselves, in order (items with equal counts may come in either order).
    assert [counts["Purchase"][it] for it in by_purchases] == list(counts["Purchase"].iloc[:10])


def test_frequently_bought_together_finds_the_partner(personalize_runtime, recommenders):
    """Co-purchase: an item's partner comes first, though views alone cannot tell it from its category."""
    hits = [items_of(personalize_runtime, recommenders["frequently-bought-together"], itemId=f"i{i}",
                     numResults=3)[0] == f"i{partner(i)}" for i in range(8, 40)]
    assert sum(hits) >= 0.9 * len(hits)


def test_customers_who_viewed_also_viewed_stays_in_the_category(personalize_runtime, recommenders):
    related = items_of(personalize_runtime, recommenders["customers-who-viewed-x-also-viewed"], itemId="i5",
                       numResults=10)
    assert "i5" not in related
    assert sum(category(int(it[1:])) == category(5) for it in related) >= 8


def test_recommended_for_you_is_personal(personalize_runtime, recommenders):
    arn = recommenders["recommended-for-you"]
    for user in (3, 4, 6):
        own = [it for it in items_of(personalize_runtime, arn, userId=f"u{user}", numResults=10)]
        assert sum(category(int(it[1:])) == CATEGORIES[user % N_CATEGORIES] for it in own) >= 6, own
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException, match="userId"):
        personalize_runtime.get_recommendations(recommenderArn=arn)


def test_refusals_say_what_is_wrong(personalize, personalize_runtime, shop, recommenders):
    errors = personalize.exceptions
    with pytest.raises(errors.InvalidInputException, match="not a domain use case"):
        personalize.create_recommender(name="domain-custom", datasetGroupArn=shop["group"],
                                       recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")
    with pytest.raises(errors.InvalidInputException, match="VIDEO_ON_DEMAND use case"):
        personalize.create_recommender(name="domain-vod", datasetGroupArn=shop["group"],
                                       recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks")
    plain = personalize.create_dataset_group(name="domain-plain")["datasetGroupArn"]
    with pytest.raises(errors.InvalidInputException, match="no domain"):
        personalize.create_recommender(name="domain-plain", datasetGroupArn=plain,
                                       recipeArn="arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you")
    with pytest.raises(errors.InvalidInputException, match="itemExplorationConfig"):
        personalize.create_recommender(
            name="domain-explore", datasetGroupArn=shop["group"],
            recipeArn="arn:aws:personalize:::recipe/aws-ecomm-popular-items-by-views",
            recommenderConfig={"itemExplorationConfig": {"explorationWeight": "0.5"}})
    with pytest.raises(errors.ResourceAlreadyExistsException):
        personalize.create_recommender(name="domain-recommended-for-you", datasetGroupArn=shop["group"],
                                       recipeArn="arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you")
    with pytest.raises(personalize_runtime.exceptions.InvalidInputException, match="not both"):
        personalize_runtime.get_recommendations(recommenderArn=recommenders["recommended-for-you"],
                                                campaignArn=recommenders["recommended-for-you"], userId="u1")
    with pytest.raises(personalize_runtime.exceptions.ResourceNotFoundException):
        personalize_runtime.get_recommendations(recommenderArn=shop["group"].replace("dataset-group", "recommender"),
                                                userId="u1")
    # A schema of another domain (or of none) in a domain group is refused, as AWS does.
    plain_schema = personalize.create_schema(name="domain-plain", schema=json.dumps({
        "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
        "fields": SCHEMAS["Items"], "version": "1.0"}))["schemaArn"]
    with pytest.raises(errors.InvalidInputException, match="must match the dataset group"):
        personalize.create_dataset(name="domain-plain-items", schemaArn=plain_schema, datasetGroupArn=shop["group"],
                                   datasetType="Items")
    personalize.delete_dataset_group(datasetGroupArn=plain)


def test_a_use_case_without_its_event_type_fails_with_the_reason(personalize, tmp_path):
    """A VIDEO_ON_DEMAND group whose interactions have no Watch events: most-popular counts Watch events."""
    group = personalize.create_dataset_group(name="domain-vod", domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    active(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    interactions, _, _ = ecommerce_shop(seed=3)
    path = tmp_path / "vod.csv"
    interactions.to_csv(path, index=False)
    schema = {"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
              "fields": SCHEMAS["Interactions"], "version": "1.0"}
    schema_arn = personalize.create_schema(name="domain-vod", schema=json.dumps(schema),
                                           domain="VIDEO_ON_DEMAND")["schemaArn"]
    dataset = personalize.create_dataset(name="domain-vod", schemaArn=schema_arn, datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    active(lambda: personalize.describe_dataset(datasetArn=dataset), "dataset")
    job = personalize.create_dataset_import_job(jobName="domain-vod", datasetArn=dataset, roleArn=ROLE,
                                                dataSource={"dataLocation": path.as_uri()})["datasetImportJobArn"]
    assert active(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
                  "datasetImportJob")["status"] == "ACTIVE"
    arn = personalize.create_recommender(name="domain-vod-popular", datasetGroupArn=group,
                                         recipeArn="arn:aws:personalize:::recipe/aws-vod-most-popular")["recommenderArn"]
    failed = active(lambda: personalize.describe_recommender(recommenderArn=arn), "recommender")
    assert failed["status"] == "CREATE FAILED"
    assert "Watch events" in failed["failureReason"] and "View" in failed["failureReason"]
    top = personalize.create_recommender(name="domain-vod-top", datasetGroupArn=group,
                                         recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks")["recommenderArn"]
    assert active(lambda: personalize.describe_recommender(recommenderArn=top), "recommender")["status"] == "ACTIVE"


def test_update_changes_the_config_through_latest_recommender_update(personalize, personalize_runtime, recommenders):
    arn = recommenders["recommended-for-you"]
    personalize.update_recommender(recommenderArn=arn, recommenderConfig={"minRecommendationRequestsPerSecond": 5})

    def update_status():
        return personalize.describe_recommender(recommenderArn=arn)["recommender"]["latestRecommenderUpdate"]["status"]

    assert wait_for(update_status, lambda s: s == "ACTIVE", timeout=30, interval=0.02) == "ACTIVE"
    rec = personalize.describe_recommender(recommenderArn=arn)["recommender"]
    assert rec["status"] == "ACTIVE" and rec["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 5
    # Excluding a column trains again; the recommender serves throughout.
    personalize.update_recommender(recommenderArn=arn, recommenderConfig={
        "trainingDataConfig": {"excludedDatasetColumns": {"ITEMS": ["PRICE"]}}})
    assert items_of(personalize_runtime, arn, userId="u3", numResults=5)
    assert wait_for(update_status, lambda s: s not in ("CREATE PENDING", "CREATE IN_PROGRESS"), timeout=120,
                    interval=0.05) == "ACTIVE"
    rec = personalize.describe_recommender(recommenderArn=arn)["recommender"]
    assert rec["recommenderConfig"]["trainingDataConfig"]["excludedDatasetColumns"] == {"ITEMS": ["PRICE"]}
    assert rec["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 5
    assert len(items_of(personalize_runtime, arn, userId="u3", numResults=5)) == 5


def test_stop_and_start(personalize, personalize_runtime, recommenders):
    arn = recommenders["popular-items-by-views"]
    seen = set()

    def status() -> str:
        s = personalize.describe_recommender(recommenderArn=arn)["recommender"]["status"]
        seen.add(s)
        return s

    personalize.stop_recommender(recommenderArn=arn)
    assert wait_for(status, lambda s: s == "INACTIVE", timeout=30, interval=0.01) == "INACTIVE"
    with pytest.raises(personalize_runtime.exceptions.ResourceNotFoundException, match="INACTIVE"):
        personalize_runtime.get_recommendations(recommenderArn=arn)
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.stop_recommender(recommenderArn=arn)
    with pytest.raises(personalize.exceptions.ResourceInUseException):
        personalize.update_recommender(recommenderArn=arn, recommenderConfig={"minRecommendationRequestsPerSecond": 3})
    personalize.start_recommender(recommenderArn=arn)
    assert wait_for(status, lambda s: s == "ACTIVE", timeout=30, interval=0.01) == "ACTIVE"
    assert seen & {"STOP PENDING", "STOP IN_PROGRESS"} and seen & {"START PENDING", "START IN_PROGRESS"}
    assert items_of(personalize_runtime, arn, numResults=3)[0] == "i1"


def gone(personalize, arn: str) -> bool:
    try:
        personalize.describe_recommender(recommenderArn=arn)
    except personalize.exceptions.ResourceNotFoundException:
        return True
    return False


def test_cleanup_on_the_delete_lifecycle(personalize, personalize_runtime, shop, recommenders):
    with pytest.raises(personalize.exceptions.ResourceInUseException, match="recommenders"):
        personalize.delete_dataset_group(datasetGroupArn=shop["group"])
    for arn in recommenders.values():
        personalize.delete_recommender(recommenderArn=arn)
    first = next(iter(recommenders.values()))
    assert personalize.describe_recommender(recommenderArn=first)["recommender"]["status"] in (
        "DELETE PENDING", "DELETE IN_PROGRESS")
    with pytest.raises(personalize_runtime.exceptions.ResourceNotFoundException):
        personalize_runtime.get_recommendations(recommenderArn=first, userId="u1")
    for arn in recommenders.values():
        assert wait_for(lambda arn=arn: gone(personalize, arn), bool, timeout=30, interval=0.02)
    assert personalize.list_recommenders(datasetGroupArn=shop["group"])["recommenders"] == []
    for dtype in ("Interactions", "Items"):
        personalize.delete_dataset(datasetArn=shop[dtype])
    personalize.delete_dataset_group(datasetGroupArn=shop["group"])


def test_a_restart_keeps_recommenders_as_they_were(tmp_path):
    """SIGKILL, then a new engine on the same data dir: ACTIVE serves the same list, INACTIVE stays stopped."""
    data = tmp_path / "data"
    first = EngineProcess.start(data)
    try:
        p, rt = first.client("personalize"), first.client("personalize-runtime")
        group = build_domain_shop(p, tmp_path)["group"]
        arns = [p.create_recommender(name=f"restart-{case}", datasetGroupArn=group,
                                     recipeArn=f"arn:aws:personalize:::recipe/aws-ecomm-{case}")["recommenderArn"]
                for case in ("recommended-for-you", "popular-items-by-views")]
        for arn in arns:
            assert active(lambda arn=arn: p.describe_recommender(recommenderArn=arn), "recommender")["status"] == \
                "ACTIVE"
        before = rt.get_recommendations(recommenderArn=arns[0], userId="u7")["itemList"]
        p.stop_recommender(recommenderArn=arns[1])
        wait_for(lambda: p.describe_recommender(recommenderArn=arns[1])["recommender"]["status"],
                 lambda s: s == "INACTIVE", timeout=30, interval=0.02)
    finally:
        first.stop(signal.SIGKILL)
    second = EngineProcess.start(data)
    try:
        p, rt = second.client("personalize"), second.client("personalize-runtime")
        assert p.describe_recommender(recommenderArn=arns[0])["recommender"]["status"] == "ACTIVE"
        assert rt.get_recommendations(recommenderArn=arns[0], userId="u7")["itemList"] == before
        assert p.describe_recommender(recommenderArn=arns[1])["recommender"]["status"] == "INACTIVE"
        p.start_recommender(recommenderArn=arns[1])
        wait_for(lambda: p.describe_recommender(recommenderArn=arns[1])["recommender"]["status"],
                 lambda s: s == "ACTIVE", timeout=30, interval=0.02)
        assert rt.get_recommendations(recommenderArn=arns[1], numResults=1)["itemList"][0]["itemId"] == "i1"
    finally:
        second.stop()


def test_every_response_matches_botocore_output_shapes(recorder):
    """Runs last in this module: every answer above against botocore's model."""
    assert recorder.problems() == []
    assert {"personalize:CreateRecommender", "personalize:DescribeRecommender", "personalize:ListRecommenders",
            "personalize:UpdateRecommender", "personalize:StopRecommender", "personalize:StartRecommender",
            "personalize-runtime:GetRecommendations"} <= set(recorder.seen)
