"""services.data.imports against a real engine: create group/schema/dataset, stage, import, list jobs."""

from __future__ import annotations

import pandas as pd
import pytest

from services.core import resources
from services.core.clients import Clients
from services.core.config import AWS, BackendInfo
from services.core.waiting import Failed, wait_until
from services.data import imports
from services.data.schemas import ecommerce_schema
from services.demo.shop_data import generate_shop
from tests.support.shops import interactions_dataset


def _wait_job(p, arn: str) -> dict:
    return wait_until(
        lambda: p.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"],
        "import",
        timeout=60,
        interval=0.05,
    )


def _events(n_users: int = 60, n_items: int = 30, n: int = 1_200, seed: int = 3) -> pd.DataFrame:
    return generate_shop(n_users, n_items, n, seed=seed).interactions


def test_stage_and_import_becomes_active_and_is_listed(clients: Clients) -> None:
    group, dataset = interactions_dataset(clients, "imp-happy")
    frame = _events().assign(SESSION_COLOUR="red")  # a column the schema lacks is left out, not fatal
    launched = imports.stage_and_import(clients, dataset, frame, "FULL")
    assert launched.staged.uri.startswith("file://") and launched.staged.rows == len(frame)
    assert launched.staged.local_copy is not None
    assert "SESSION_COLOUR" not in launched.staged.local_copy.read_text().splitlines()[0]
    assert _wait_job(clients.personalize, launched.job_arn)["status"] == "ACTIVE"

    jobs = imports.list_import_jobs(clients.personalize, group)
    assert [j.job_name for j in jobs] == [launched.job_name]
    job = jobs[0]
    assert (job.dataset_type, job.status, job.mode, job.failure) == ("INTERACTIONS", "ACTIVE", "FULL", None)
    assert job.duration_s is not None and job.duration_s >= 0
    table = imports.jobs_table(jobs)
    assert table.loc[0, "dataset"] == "Interactions" and table.loc[0, "status"] == "ACTIVE"


def test_milliseconds_import_fails_with_a_reason_in_words(clients: Clients) -> None:
    group, dataset = interactions_dataset(clients, "imp-millis")
    frame = _events()
    frame["TIMESTAMP"] = frame["TIMESTAMP"] * 1000
    launched = imports.stage_and_import(clients, dataset, frame, "INCREMENTAL")
    with pytest.raises(Failed):
        _wait_job(clients.personalize, launched.job_arn)
    job = imports.list_import_jobs(clients.personalize, group)[0]
    assert job.failed and job.mode == "INCREMENTAL"
    assert "milliseconds" in job.failure and "timestamp fix" in job.failure


def test_refused_input_is_explained_before_any_call(clients: Clients) -> None:
    with pytest.raises(imports.ImportInputError, match="not allowed"):
        imports.create_dataset_group(clients.personalize, "no spaces please")
    _, dataset = interactions_dataset(clients, "imp-refused")
    with pytest.raises(imports.ImportInputError, match="no rows"):
        imports.stage_and_import(clients, dataset, _events().iloc[:0])
    with pytest.raises(imports.ImportInputError, match="FULL or INCREMENTAL"):
        imports.stage_and_import(clients, dataset, _events(), "APPEND")
    aws = Clients(BackendInfo(AWS, "us-east-1", None, None))
    with pytest.raises(imports.ImportInputError, match="S3 bucket"):
        imports.stage_and_import(aws, dataset, _events())


def test_dataset_schema_round_trips(clients: Clients) -> None:
    _, dataset = interactions_dataset(clients, "imp-schema")
    assert imports.dataset_schema(clients.personalize, dataset) == ecommerce_schema("Interactions")
    assert set(
        resources.datasets_by_type(
            clients.personalize, clients.personalize.describe_dataset(datasetArn=dataset)["dataset"]["datasetGroupArn"]
        )
    ) == {"INTERACTIONS"}


def test_job_names_are_valid_and_unique_per_second() -> None:
    name = imports.job_name_for("x" * 80, "FULL", now=0)
    assert len(name) <= 63 and "-full-19700101-000000-" in name
    assert imports.check_name(name, "Import job") == name
    assert imports.job_name_for("shop data", "FULL", now=1) != imports.job_name_for("shop data", "FULL", now=1)


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("Access Denied", "s3:GetObject"),
        ("Input CSV is missing the following columns: [EVENT_TYPE]", "header match"),
        ("No file at /x.csv. Check the path (it must be absolute).", "stage the data again"),
        ("Something odd", None),
    ],
)
def test_readable_failure_adds_the_next_step(reason: str, hint: str | None) -> None:
    text = imports.readable_failure(reason)
    assert text.startswith(reason.rstrip("."))
    if hint:
        assert hint in text
    assert imports.readable_failure(None) is None
