"""The Overview page in AppTest against a real engine: figures, campaign health, empty and failed states."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from services.core.clients import Clients
from services.core.config import LOCAL, BackendInfo
from services.core.waiting import Failed, wait_until
from services.data import imports
from services.data.schemas import ecommerce_schema
from services.demo.shop_data import generate_shop
from services.demo.shop_setup import DemoPlan, create_demo_shop
from tests.support.apptest import make_app
from tests.support.engine_process import EngineProcess

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    return tmp_path


def _app(engine_url: str, monkeypatch, group_arn: str | None = None) -> AppTest:
    at = make_app(monkeypatch, engine_url, group_arn=group_arn)
    at.run()
    return at.switch_page("pages/overview.py").run()


def _values(encoded) -> np.ndarray:
    """Plotly sends numpy arrays as {"dtype", "bdata"} (base64); plain lists stay lists."""
    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])
    return np.asarray(encoded)


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    """A small trained demo shop whose staged files live in a module-wide data dir."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("overview-data")
    mp.setenv("PERSONALIZE_DATA_DIR", str(data))
    clients = Clients(BackendInfo(LOCAL, "us-east-1", engine.url, None))
    result = create_demo_shop(clients, DemoPlan.small("overview-shop"))
    yield clients, result, data
    mp.undo()


@pytest.fixture
def daylight_saving_zone() -> Iterator[None]:
    """Europe/Berlin: botocore's tzlocal datetimes broke pyarrow (and so the page) only in such zones."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "Europe/Berlin")
        time.tzset()
        yield
    time.tzset()


def test_happy_path_shows_true_figures_and_no_stale_warning(engine, shop, monkeypatch, daylight_saving_zone) -> None:
    _, result, data = shop
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(data))
    at = _app(engine.url, monkeypatch, result.dataset_group_arn)
    assert not at.exception
    initial, _ = DemoPlan.small("overview-shop").phases()
    assert "All 3 campaigns serve the newest ACTIVE solution version" in _texts(at.success)
    assert not any("still serves" in w.value for w in at.warning)  # never a warning when none is stale
    metrics: dict[str, str] = {}
    for m in at.metric:  # the Interactions dataset's figures come first
        metrics.setdefault(m.label, m.value)
    assert metrics["Interactions"] == f"{len(initial):,}"
    assert metrics["Users"] == f"{initial['USER_ID'].nunique():,}"
    assert "Meets AWS's minimum to train" in _texts(at.success)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert titles == ["Events per day", "Users by number of interactions"]
    assert _values(charts[0]["data"][0]["y"]).sum() == len(initial)
    jobs = next(d.value for d in at.dataframe if "started (UTC)" in d.value.columns)
    assert str(jobs["started (UTC)"].dt.tz) == "UTC" and jobs["started (UTC)"].notna().all()
    costs = at.dataframe[0].value
    assert list(costs["TPS cost / month (USD)"]) == [146.0] * 3


def test_a_stale_campaign_is_named_with_what_to_do(engine, shop, monkeypatch) -> None:
    clients, result, data = shop
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(data))
    p = clients.personalize
    solution = result.solutions["aws-popularity-count"]
    newer = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    wait_until(lambda: p.describe_solution_version(solutionVersionArn=newer)["solutionVersion"], "training",
               timeout=120, interval=0.1)
    at = _app(engine.url, monkeypatch, result.dataset_group_arn)
    assert not at.exception
    warnings = [w.value for w in at.warning if "still serves" in w.value]
    assert len(warnings) == 1 and "overview-shop-popularity-count" in warnings[0]
    assert "Update the campaign" in warnings[0]
    links = [e for e in at.main if getattr(e, "proto", None) is not None and e.type == "page_link"]
    assert any("Campaigns page" in link.proto.label for link in links)


def test_empty_engine_and_empty_group(tmp_path, data_dir, monkeypatch) -> None:
    empty = EngineProcess.start(tmp_path / "empty-engine")
    try:
        at = _app(empty.url, monkeypatch)
        assert not at.exception
        assert "No dataset group yet" in _texts(at.info)
        group = imports.create_dataset_group(empty.client("personalize"), "no-datasets")
        at = _app(empty.url, monkeypatch, group)
        assert not at.exception
        assert "no datasets yet" in _texts(at.info)
        assert "Not ready" in _texts(at.error)
        assert "No campaigns in this dataset group yet" in _texts(at.info)
    finally:
        empty.stop()


def test_a_failed_import_is_shown_in_words(engine, data_dir, monkeypatch) -> None:
    clients = Clients(BackendInfo(LOCAL, "us-east-1", engine.url, None))
    p = clients.personalize
    group = imports.create_dataset_group(p, "overview-failed")
    schema = imports.create_schema(p, "overview-failed-i", ecommerce_schema("Interactions"))
    dataset = imports.create_dataset(p, group, "Interactions", schema, "overview-failed-i")
    wait_until(lambda: p.describe_dataset(datasetArn=dataset)["dataset"], "dataset", timeout=30)
    frame = generate_shop(60, 30, 1_200, seed=4).interactions
    frame["TIMESTAMP"] *= 1000
    launched = imports.stage_and_import(clients, dataset, frame)
    with pytest.raises(Failed):
        wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=launched.job_arn)["datasetImportJob"],
                   "import", timeout=60, interval=0.05)
    at = _app(engine.url, monkeypatch, group)
    assert not at.exception
    errors = _texts(at.error)
    assert f"import **{launched.job_name}** failed" in errors and "milliseconds" in errors
    assert "Traceback" not in errors
