"""A shop in a running engine, built through the public API only (boto3), for benchmarks and tests
that need a live campaign: dataset group, schemas, datasets, imports, a trained version, a campaign
and an event tracker."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.core.waiting import poll_until
from services.data.schemas import demo_shop_schema
from services.demo.shop_data import generate_shop

ROLE = "arn:aws:iam::000000000000:role/bench"
FINAL = ("ACTIVE", "CREATE FAILED", "CREATE STOPPED")


def settle(describe: Callable[[], dict], key: str, timeout: float = 300, interval: float = 0.05) -> dict:
    """Poll a Describe* call until the resource reaches a final state (as AWS clients do); a failed
    resource is returned, not raised, so callers can look at its failureReason."""
    return poll_until(lambda: describe()[key], lambda record: record["status"] in FINAL, timeout, interval,
                      timeout_message=lambda record: f"{key} still {record['status']} after {timeout}s")


@dataclass
class LiveShop:
    group: str
    datasets: dict[str, str]
    files: dict[str, Path]
    users: list[str]
    items: list[str]
    solution: str = ""
    version: str = ""
    campaign: str = ""
    tracking_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def import_file(personalize, dataset_arn: str, path: Path, name: str, mode: str = "FULL") -> dict:
    job = personalize.create_dataset_import_job(
        jobName=name, datasetArn=dataset_arn, dataSource={"dataLocation": path.as_uri()}, roleArn=ROLE,
        importMode=mode,
    )["datasetImportJobArn"]
    return settle(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job), "datasetImportJob")


def dataset_from_file(personalize, group_arn: str, name: str, dataset_type: str, schema: dict, path: Path,
                      domain: str | None = None) -> tuple[str, str]:
    """A schema, a dataset of `dataset_type` and a FULL import of `path`, all settled ACTIVE:
    (dataset ARN, schema ARN). `schema` is the Avro record as a dict."""
    extra = {"domain": domain} if domain else {}
    schema_arn = personalize.create_schema(name=name, schema=json.dumps(schema), **extra)["schemaArn"]
    dataset = personalize.create_dataset(name=name, schemaArn=schema_arn, datasetGroupArn=group_arn,
                                         datasetType=dataset_type)["datasetArn"]
    settle(lambda: personalize.describe_dataset(datasetArn=dataset), "dataset")
    done = import_file(personalize, dataset, path, name)
    assert done["status"] == "ACTIVE", done.get("failureReason")
    return dataset, schema_arn


def build_shop(personalize, tmp: Path, name: str, n_users: int = 300, n_items: int = 150,
               n_interactions: int = 6_000, seed: int = 3) -> LiveShop:
    data = generate_shop(n_users, n_items, n_interactions, seed=seed)
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    settle(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    datasets, files = {}, {}
    for dtype, frame in (("Interactions", data.interactions), ("Items", data.items), ("Users", data.users)):
        schema = demo_shop_schema(dtype)
        schema_arn = personalize.create_schema(name=f"{name}-{dtype.lower()}",
                                               schema=json.dumps(schema.to_dict()))["schemaArn"]
        arn = personalize.create_dataset(name=f"{name}-{dtype.lower()}", schemaArn=schema_arn,
                                         datasetGroupArn=group, datasetType=dtype)["datasetArn"]
        settle(lambda arn=arn: personalize.describe_dataset(datasetArn=arn), "dataset")
        path = tmp / f"{name}-{dtype.lower()}.csv"
        frame[[c for c in schema.names if c in frame.columns]].to_csv(path, index=False)
        job = import_file(personalize, arn, path, f"{name}-{dtype.lower()}-first")
        if job["status"] != "ACTIVE":
            raise RuntimeError(f"import of {dtype} failed: {job.get('failureReason')}")
        datasets[dtype], files[dtype] = arn, path
    users = data.interactions["USER_ID"].value_counts().index.tolist()
    return LiveShop(group, datasets, files, users, data.items["ITEM_ID"].tolist())


def train_version(personalize, solution_arn: str, mode: str = "FULL") -> dict:
    version = personalize.create_solution_version(solutionArn=solution_arn, trainingMode=mode)["solutionVersionArn"]
    return settle(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")


def deploy(personalize, shop: LiveShop, name: str, recipe: str = "aws-user-personalization",
           exploration_weight: str = "0") -> LiveShop:
    """Solution, one trained version, a campaign (no exploration by default: answers are repeatable)
    and an event tracker."""
    shop.solution = personalize.create_solution(
        name=f"{name}-solution", datasetGroupArn=shop.group, recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
        performAutoTraining=False,
    )["solutionArn"]
    settle(lambda: personalize.describe_solution(solutionArn=shop.solution), "solution")
    version = train_version(personalize, shop.solution)
    if version["status"] != "ACTIVE":
        raise RuntimeError(f"training failed: {version.get('failureReason')}")
    shop.version = version["solutionVersionArn"]
    config: dict[str, Any] = {}
    if recipe.startswith("aws-user-personalization"):
        config = {"itemExplorationConfig": {"explorationWeight": exploration_weight,
                                            "explorationItemAgeCutOff": "30"}}
    shop.campaign = personalize.create_campaign(
        name=f"{name}-campaign", solutionVersionArn=shop.version, minProvisionedTPS=1, campaignConfig=config,
    )["campaignArn"]
    campaign = settle(lambda: personalize.describe_campaign(campaignArn=shop.campaign), "campaign")
    if campaign["status"] != "ACTIVE":
        raise RuntimeError(f"campaign failed: {campaign.get('failureReason')}")
    tracker = personalize.create_event_tracker(name=f"{name}-tracker", datasetGroupArn=shop.group)
    settle(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    shop.tracking_id = tracker["trackingId"]
    return shop
