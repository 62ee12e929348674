"""A small shop in the engine, set up once per module through the public API only."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.validate import ParamValidator

from services.demo_data import generate_shop
from services.schemas import demo_shop_schema
from tests.engine_process import wait_for

ROLE = "arn:aws:iam::000000000000:role/test"


class ShapeRecorder:
    """Collects every parsed response of a client to check it against botocore's output shape."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict]] = {}

    def attach(self, client) -> None:
        client.meta.events.register("after-call.*.*", self._record)

    def _record(self, http_response, parsed, model, **kwargs) -> None:
        if 200 <= http_response.status_code < 300:
            body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            self.seen.setdefault(f"{model.service_model.service_name}:{model.name}", []).append((body, model))

    def problems(self) -> list[str]:
        out = []
        validator = ParamValidator()
        for op, calls in self.seen.items():
            for body, model in calls:
                if model.output_shape is None:
                    continue
                report = validator.validate(body, model.output_shape)
                if report.has_errors():
                    out.append(f"{op}: {report.generate_report()}")
        return out


@dataclass
class Shop:
    group: str
    datasets: dict[str, str]
    files: dict[str, Path]
    users: list[str]
    items: list[str]
    extra: dict = field(default_factory=dict)


def active(describe, key: str, timeout: float = 120) -> dict:
    return wait_for(lambda: describe()[key], lambda r: r["status"] in ("ACTIVE", "CREATE FAILED"), timeout)


def make_shop(personalize, tmp: Path, name: str, seed: int = 3, n_interactions: int = 5000) -> Shop:
    shop = generate_shop(250, 120, n_interactions, seed=seed)
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    active(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    datasets, files = {}, {}
    for dtype, frame in (("Interactions", shop.interactions), ("Items", shop.items), ("Users", shop.users)):
        schema = demo_shop_schema(dtype)
        schema_arn = personalize.create_schema(name=f"{name}-{dtype.lower()}",
                                               schema=json.dumps(schema.to_dict()))["schemaArn"]
        arn = personalize.create_dataset(name=f"{name}-{dtype.lower()}", schemaArn=schema_arn,
                                         datasetGroupArn=group, datasetType=dtype)["datasetArn"]
        active(lambda arn=arn: personalize.describe_dataset(datasetArn=arn), "dataset")
        path = tmp / f"{name}-{dtype.lower()}.csv"
        frame[[c for c in schema.names if c in frame.columns]].to_csv(path, index=False)
        datasets[dtype], files[dtype] = arn, path
        job = personalize.create_dataset_import_job(
            jobName=f"{name}-{dtype.lower()}-{int(time.time() * 1000) % 10**8}", datasetArn=arn,
            dataSource={"dataLocation": path.as_uri()}, roleArn=ROLE)["datasetImportJobArn"]
        rec = active(lambda job=job: personalize.describe_dataset_import_job(datasetImportJobArn=job),
                     "datasetImportJob")
        assert rec["status"] == "ACTIVE", rec.get("failureReason")
    users = shop.interactions["USER_ID"].value_counts().index.tolist()
    return Shop(group, datasets, files, users, shop.items["ITEM_ID"].tolist())


def train(personalize, group: str, name: str, recipe: str, **kw) -> tuple[str, str]:
    sol = personalize.create_solution(name=name, datasetGroupArn=group,
                                      recipeArn=f"arn:aws:personalize:::recipe/{recipe}", **kw)["solutionArn"]
    active(lambda: personalize.describe_solution(solutionArn=sol), "solution")
    version = personalize.create_solution_version(solutionArn=sol)["solutionVersionArn"]
    rec = active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert rec["status"] == "ACTIVE", rec.get("failureReason")
    return sol, version


def deploy(personalize, name: str, version: str, **kw) -> str:
    arn = personalize.create_campaign(name=name, solutionVersionArn=version, **kw)["campaignArn"]
    rec = active(lambda: personalize.describe_campaign(campaignArn=arn), "campaign")
    assert rec["status"] == "ACTIVE", rec.get("failureReason")
    return arn


@pytest.fixture(scope="module")
def recorder(personalize, personalize_runtime, personalize_events) -> ShapeRecorder:
    rec = ShapeRecorder()
    for client in (personalize, personalize_runtime, personalize_events):
        rec.attach(client)
    return rec
