"""services.data.dataset_status against a real engine: figures from staged files, unknown otherwise."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from services.core.clients import Clients
from services.core.waiting import wait_until
from services.data import dataset_status, imports
from services.data.file_profile import profile_frame
from services.demo.shop_data import generate_shop
from services.demo.shop_setup import DemoPlan, create_demo_shop
from tests.support.shops import interactions_dataset


def _import(clients: Clients, dataset: str, frame: pd.DataFrame, mode: str = "FULL") -> None:
    launched = imports.stage_and_import(clients, dataset, frame, mode)
    wait_until(
        lambda: clients.personalize.describe_dataset_import_job(datasetImportJobArn=launched.job_arn)[
            "datasetImportJob"
        ],
        "import",
        timeout=60,
        interval=0.05,
    )


def test_demo_shop_status_has_true_figures(clients: Clients) -> None:
    plan = DemoPlan.small("status-demo")
    result = create_demo_shop(clients, plan)
    initial, _ = plan.phases()
    shop = plan.shop()

    status = dataset_status.dataset_group_status(clients.personalize, result.dataset_group_arn)
    assert status.name == "status-demo"
    assert [d.dataset_type for d in status.datasets] == ["INTERACTIONS", "ITEMS", "USERS"]
    inter = status.dataset("interactions")
    assert inter.figures_known and inter.imported
    assert inter.profile.rows == len(initial)
    assert inter.profile.n_users == initial["USER_ID"].nunique()
    assert inter.profile.n_items == initial["ITEM_ID"].nunique()
    assert inter.profile.time_min == initial["TIMESTAMP"].min()
    shares = inter.profile.event_types.set_index("EVENT_TYPE")["share"]
    assert shares["view"] == pytest.approx((initial["EVENT_TYPE"] == "view").mean())
    assert "staged" in inter.figures_note and "TIMESTAMP (long)" in inter.schema_fields()
    assert status.dataset("items").profile.rows == len(shop.items)
    assert status.dataset("users").profile.rows == len(shop.users)
    assert inter.last_import.status == "ACTIVE" and len(status.jobs) == 3
    assert status.ready is True and {c.state for c in status.readiness} == {"ok"}
    assert any("single interaction" in f.message for f in status.findings)
    assert any("Long tail" in f.message for f in status.findings)


def test_figures_follow_full_then_incremental_imports(clients: Clients) -> None:
    group, dataset = interactions_dataset(clients, "status-incr")
    events = generate_shop(80, 40, 1_600, seed=5).interactions
    _import(clients, dataset, events.iloc[:1_000])
    _import(clients, dataset, events.iloc[1_000:], "INCREMENTAL")
    status = dataset_status.dataset_group_status(clients.personalize, group)
    assert status.dataset("INTERACTIONS").profile.rows == 1_600
    assert "files" in status.dataset("INTERACTIONS").figures_note
    # A new FULL import replaces everything before it.
    _import(clients, dataset, events.iloc[:1_100])
    assert dataset_status.dataset_group_status(clients.personalize, group).dataset("INTERACTIONS").profile.rows == 1_100


def test_a_file_this_dashboard_did_not_stage_gives_unknown_not_invented(clients: Clients, tmp_path) -> None:
    group, dataset = interactions_dataset(clients, "status-unknown")
    outside = tmp_path / "elsewhere" / "events.csv"
    outside.parent.mkdir()
    generate_shop(80, 40, 1_500, seed=2).interactions.to_csv(outside, index=False)
    arn = imports.launch_import(clients.personalize, dataset, outside.as_uri())
    wait_until(
        lambda: clients.personalize.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"],
        "import",
        timeout=60,
        interval=0.05,
    )
    status = dataset_status.dataset_group_status(clients.personalize, group)
    inter = status.dataset("INTERACTIONS")
    assert inter.imported and not inter.figures_known and inter.profile is None
    assert inter.figures_note.startswith("Unknown") and "did not stage" in inter.figures_note
    states = {c.requirement: c.state for c in status.readiness}
    assert states["At least 1,000 interactions"] == "unknown"
    assert status.ready is None and status.findings == []


def test_empty_group_is_not_ready(clients: Clients) -> None:
    group = imports.create_dataset_group(clients.personalize, "status-empty")
    status = dataset_status.dataset_group_status(clients.personalize, group)
    assert status.datasets == [] and status.jobs == []
    assert status.ready is False and status.readiness[0].state == "missing"

    _, dataset = interactions_dataset(clients, "status-noimport")
    group2 = clients.personalize.describe_dataset(datasetArn=dataset)["dataset"]["datasetGroupArn"]
    status2 = dataset_status.dataset_group_status(clients.personalize, group2)
    assert not status2.dataset("INTERACTIONS").imported
    assert [c.state for c in status2.readiness] == ["ok", "missing", "missing", "missing"]


def _status_for(frame: pd.DataFrame) -> dataset_status.DatasetStatus:
    return dataset_status.DatasetStatus(
        "INTERACTIONS", "x", "arn", "ACTIVE", None, None, profile=profile_frame(frame), empty_values={"USER_ID": 2}
    )


def test_quality_findings_name_what_is_wrong() -> None:
    now = time.time()
    base = generate_shop(60, 30, 1_200, seed=1).interactions
    millis = base.assign(TIMESTAMP=base["TIMESTAMP"] * 1000)
    messages = " ".join(f.message for f in dataset_status.quality_findings(_status_for(millis), now))
    assert "milliseconds" in messages and "USER_ID is empty in 2 rows" in messages

    future = base.copy()
    future.loc[0, "TIMESTAMP"] = int(now) + 86_400 * 30
    doubled = pd.concat([future, future.iloc[:7]], ignore_index=True)
    findings = dataset_status.quality_findings(_status_for(doubled), now)
    by_text = {f.message.split(" ")[0]: f.severity for f in findings}
    assert any("future" in f.message and f.severity == "warning" for f in findings)
    assert any(f.message.startswith("7 rows repeat") for f in findings)
    assert by_text  # every finding has words
    assert (
        dataset_status.quality_findings(dataset_status.DatasetStatus("ITEMS", "x", "arn", "ACTIVE", None, None), now)
        == []
    )
