"""s3:// locations against a real S3 server: imports (a key and a prefix), batch inference and
exports write back, and the dashboard stages import files in a bucket in AWS mode."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from services.core.clients import Clients
from services.core.config import AWS, BackendInfo
from services.data.schemas import demo_shop_schema
from services.data.staging import stage_frame
from services.demo.shop_data import generate_shop
from tests.engine.conftest import ROLE, active, train
from tests.support.engine_process import EngineProcess
from tests.support.s3_server import S3Server


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = S3Server.start(tmp_path_factory.mktemp("s3"))
    server.client().create_bucket(Bucket="shop-data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_engine(s3, tmp_path_factory):
    # Keyed with the S3 server's pair: in AWS mode one set of AWS credentials signs for both.
    engine = EngineProcess.start(tmp_path_factory.mktemp("s3-engine"), extra_env={
        "AWS_ENDPOINT_URL_S3": s3.url, "PERSONALIZE_ENGINE_ACCESS_KEY_ID": "testing",
        "PERSONALIZE_ENGINE_SECRET_ACCESS_KEY": "testing"})
    yield engine
    engine.stop()


def _dataset(p, name: str, dtype: str) -> tuple[str, str]:
    group = p.create_dataset_group(name=name)["datasetGroupArn"]
    active(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    schema = p.create_schema(name=f"{name}-{dtype.lower()}", schema=json.dumps(demo_shop_schema(dtype).to_dict()))
    arn = p.create_dataset(name=f"{name}-{dtype.lower()}", schemaArn=schema["schemaArn"], datasetGroupArn=group,
                           datasetType=dtype)["datasetArn"]
    active(lambda: p.describe_dataset(datasetArn=arn), "dataset")
    return group, arn


def _import(p, dataset: str, uri: str, name: str) -> dict:
    job = p.create_dataset_import_job(jobName=name, datasetArn=dataset, dataSource={"dataLocation": uri},
                                      roleArn=ROLE)["datasetImportJobArn"]
    return active(lambda: p.describe_dataset_import_job(datasetImportJobArn=job), "datasetImportJob")


def test_import_train_batch_and_export_through_s3(s3, s3_engine):
    p, bucket = s3_engine.client("personalize"), s3.client()
    shop = generate_shop(250, 120, 5000, seed=4)
    columns = demo_shop_schema("Interactions").names
    half = len(shop.interactions) // 2
    # A prefix with two parts: AWS imports every object under a folder.
    for part, frame in (("part-1.csv", shop.interactions.iloc[:half]), ("part-2.csv", shop.interactions.iloc[half:])):
        bucket.put_object(Bucket="shop-data", Key=f"interactions/{part}", Body=frame[columns].to_csv(index=False))
    group, dataset = _dataset(p, "s3-shop", "Interactions")
    job = _import(p, dataset, "s3://shop-data/interactions/", "s3-shop-prefix")
    assert job["status"] == "ACTIVE", job.get("failureReason")

    missing = _import(p, dataset, "s3://shop-data/nothing-here.csv", "s3-shop-missing")
    assert missing["status"] == "CREATE FAILED" and "nothing-here.csv" in missing["failureReason"]

    _, version = train(p, group, "s3-shop-up", "aws-user-personalization", performAutoTraining=False)
    users = shop.interactions["USER_ID"].drop_duplicates().head(4).tolist()
    bucket.put_object(Bucket="shop-data", Key="batch/in/users.json",
                      Body="".join(json.dumps({"userId": u}) + "\n" for u in users))
    batch = p.create_batch_inference_job(
        jobName="s3-shop-batch", solutionVersionArn=version, roleArn=ROLE, numResults=5,
        jobInput={"s3DataSource": {"path": "s3://shop-data/batch/in/users.json"}},
        jobOutput={"s3DataDestination": {"path": "s3://shop-data/batch/out/"}})["batchInferenceJobArn"]
    assert active(lambda: p.describe_batch_inference_job(batchInferenceJobArn=batch),
                  "batchInferenceJob")["status"] == "ACTIVE"
    out = bucket.get_object(Bucket="shop-data", Key="batch/out/users.json.out")["Body"].read().decode()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["input"]["userId"] for r in rows] == users
    assert all(len(r["output"]["recommendedItems"]) == 5 for r in rows)

    export = p.create_dataset_export_job(
        jobName="s3-shop-export", datasetArn=dataset, roleArn=ROLE, ingestionMode="BULK",
        jobOutput={"s3DataDestination": {"path": "s3://shop-data/export/"}})["datasetExportJobArn"]
    assert active(lambda: p.describe_dataset_export_job(datasetExportJobArn=export),
                  "datasetExportJob")["status"] == "ACTIVE"
    exported = bucket.get_object(Bucket="shop-data", Key="export/s3-shop-export.csv")["Body"].read().decode()
    assert len(exported.splitlines()) == len(shop.interactions) + 1


def test_dashboard_stages_imports_in_s3_in_aws_mode(s3, s3_engine, tmp_path, monkeypatch):
    """AWS mode: the dashboard uploads the validated file to the bucket and imports from s3://."""
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", s3_engine.url)
    clients = Clients(BackendInfo(AWS, "us-east-1", None, None))
    frame = pd.DataFrame({"ITEM_ID": ["i1", "i2"], "PRICE": [9.5, 3.0], "CATEGORY_L1": ["Toys", "Books"],
                          "CREATION_TIMESTAMP": [1735700000, 1735700001]})
    staged = stage_frame(frame, "items upload", clients.backend, clients.s3, "shop-data", prefix="staging/")
    assert staged.uri.startswith("s3://shop-data/staging/items-upload-")
    _, dataset = _dataset(clients.personalize, "s3-staged", "Items")
    job = _import(clients.personalize, dataset, staged.uri, "s3-staged-items")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    with pytest.raises(ValueError, match="S3 bucket"):
        stage_frame(frame, "no bucket", clients.backend, clients.s3, None)
