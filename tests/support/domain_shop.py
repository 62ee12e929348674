"""An ECOMMERCE domain dataset group on a real engine, with a few recommenders trained and ACTIVE.

The data and the group come from the engine's own recommender tests (each use case has a right answer
there); this adds the recommenders the dashboard's tests look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.engine.conftest import ROLE, active
from tests.engine.test_recommenders import SCHEMAS, ecommerce_shop

RECIPE = "arn:aws:personalize:::recipe/aws-ecomm-{}"
# name (after the caller's prefix: recommender names are unique in an account) -> (use case, minimum RPS)
RECOMMENDERS = {"for-you": ("recommended-for-you", 2),
                "also-viewed": ("customers-who-viewed-x-also-viewed", 1),
                "popular-views": ("popular-items-by-views", 1)}


def build_group(personalize: Any, tmp: Path, prefix: str) -> dict:
    """The engine tests' ECOMMERCE data in a domain group of its own (names start with `prefix`, so several
    test modules share one engine)."""
    interactions, items, _ = ecommerce_shop()
    arn = personalize.create_dataset_group(name=f"{prefix}-group", domain="ECOMMERCE")["datasetGroupArn"]
    active(lambda: personalize.describe_dataset_group(datasetGroupArn=arn), "datasetGroup")
    for dtype, frame in (("Interactions", interactions), ("Items", items)):
        path = tmp / f"{dtype.lower()}.csv"
        frame.to_csv(path, index=False)
        schema = {"type": "record", "name": dtype, "namespace": "com.amazonaws.personalize.schema",
                  "fields": SCHEMAS[dtype], "version": "1.0"}
        schema_arn = personalize.create_schema(name=f"{prefix}-{dtype.lower()}", schema=json.dumps(schema),
                                               domain="ECOMMERCE")["schemaArn"]
        dataset = personalize.create_dataset(name=f"{prefix}-{dtype.lower()}", schemaArn=schema_arn,
                                             datasetGroupArn=arn, datasetType=dtype)["datasetArn"]
        active(lambda dataset=dataset: personalize.describe_dataset(datasetArn=dataset), "dataset")
        job = personalize.create_dataset_import_job(jobName=f"{prefix}-{dtype.lower()}", datasetArn=dataset,
                                                    dataSource={"dataLocation": path.as_uri()}, roleArn=ROLE)
        done = active(lambda job=job: personalize.describe_dataset_import_job(
            datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")
        assert done["status"] == "ACTIVE", done.get("failureReason")
    return {"group": arn, "interactions": interactions}


def domain_shop(personalize: Any, tmp: Path, prefix: str, names: str = "dom") -> dict:
    """{"group": arn, "recommenders": {name: arn}, "interactions": frame}, every recommender ACTIVE."""
    shop = build_group(personalize, tmp, prefix)
    arns = {f"{names}-{name}": personalize.create_recommender(
        name=f"{names}-{name}", datasetGroupArn=shop["group"], recipeArn=RECIPE.format(case),
        recommenderConfig={"minRecommendationRequestsPerSecond": rps})["recommenderArn"]
        for name, (case, rps) in RECOMMENDERS.items()}
    for arn in arns.values():
        rec = active(lambda arn=arn: personalize.describe_recommender(recommenderArn=arn), "recommender")
        assert rec["status"] == "ACTIVE", rec.get("failureReason")
    shop["recommenders"] = arns
    return shop
