"""Times and dataset types as AWS sends them, through the services, against a real engine.

botocore hands out datetimes in the machine's local zone (dateutil's tzlocal). In a zone with daylight
saving, pyarrow cannot convert those (tzlocal.utcoffset(None) fails), so a table that reaches
st.dataframe crashes the page. These tests read with a plain boto3 client (not the dashboard's) in
Europe/Berlin, so each service must make its datetimes UTC itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest

from services.core.clients import Clients
from services.core.waiting import wait_until
from services.core.wording import as_sentence
from services.data import imports
from services.data.import_files import active_imports
from services.data.schemas import dataset_type_description
from services.demo.shop_data import generate_shop
from services.models import comparison
from tests.support.shops import interactions_dataset


@pytest.fixture
def berlin(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """What st.dataframe does with a frame: the conversion that fails on tzlocal datetimes."""
    return pa.Table.from_pandas(frame)


def test_import_jobs_table_converts_to_arrow_in_a_daylight_saving_zone(clients: Clients, engine, berlin) -> None:
    group, dataset = interactions_dataset(clients, "tz-imports")
    launched = imports.stage_and_import(clients, dataset, generate_shop(60, 30, 1_200, seed=5).interactions)
    p = engine.client("personalize")  # botocore's own parsing: tzlocal datetimes
    wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=launched.job_arn)["datasetImportJob"],
               "import", timeout=60, interval=0.05)
    jobs = imports.list_import_jobs(p, group)
    assert jobs[0].started is not None and jobs[0].started.utcoffset().total_seconds() == 0
    table = imports.jobs_table(jobs)
    assert "started (UTC)" in table.columns
    _arrow(table)  # raises AttributeError on tzlocal datetimes
    files = active_imports(p, dataset)
    assert files and files[0].created.utcoffset().total_seconds() == 0


def test_every_datetime_the_dashboard_reads_is_utc(engine, berlin) -> None:
    """The dashboard's own clients parse every timestamp to aware UTC, whatever service reads it."""
    from services.core.config import LOCAL, BackendInfo

    clients = Clients(BackendInfo(LOCAL, "us-east-1", engine.url, None))
    clients.personalize.create_dataset_group(name="tz-groups")
    groups = clients.personalize.list_dataset_groups()["datasetGroups"]
    assert groups and all(g["creationDateTime"].utcoffset().total_seconds() == 0 for g in groups)
    assert all(str(g["creationDateTime"].tzinfo) == "UTC" for g in groups)


def test_version_tables_survive_missing_times() -> None:
    """A summary without creationDateTime (optional in botocore's model) is labelled and sorted, not fatal."""
    frame = pd.DataFrame([{"solution": "s", "recipe": "r", "solution_version_arn": "arn:x/solution/s/1",
                           "created": None}])
    assert "s · 1" in comparison.version_label(frame.iloc[0])


@pytest.mark.parametrize(("dataset_type", "title"), [
    ("INTERACTIONS", "Interactions"), ("Items", "Items"), ("users", "Users"), ("ACTIONS", "Actions"),
    ("Action_Interactions", "Action interactions"), ("ACTION_INTERACTIONS", "Action interactions"),
    ("SOMETHING_NEW", "SOMETHING_NEW"),
])
def test_every_dataset_type_has_a_title_and_unknown_ones_keep_their_name(dataset_type: str, title: str) -> None:
    assert imports.dataset_type_title(dataset_type) == title
    described = dataset_type_description(dataset_type)
    assert described and (title == "SOMETHING_NEW") == ("does not know" in described)



@pytest.mark.parametrize(("reason", "sentence"), [
    (None, "AWS gave no reason."), ("", "AWS gave no reason."), ("  ", "AWS gave no reason."),
    ("Internal error. Please try again.", "Internal error. Please try again."),
    ("Access denied to s3://b/k", "Access denied to s3://b/k."), ("Retry later..", "Retry later."),
    ("Why?", "Why?"), ("To be continued...", "To be continued..."),
])
def test_a_reason_becomes_one_sentence(reason: str | None, sentence: str) -> None:
    assert as_sentence(reason) == sentence


def test_a_failed_import_without_a_reason_says_so() -> None:
    job = imports.ImportJob("ACTIONS", "j", "arn:j", "CREATE FAILED", "FULL", None, None, None)
    assert job.failure_sentence == "AWS gave no reason."
    assert imports.readable_failure("Please try again.") == "Please try again."
