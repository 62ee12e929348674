"""Safe imports on the Data page (AppTest, real engine): a dataset that holds data defaults to
INCREMENTAL, a FULL import asks again with what it replaces, ids the shop does not know are warned with
their rows, and a started import clears its file and its button."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from services.core.waiting import wait_until
from services.data import imports
from services.demo.shop_data import generate_shop
from tests.support.apptest import make_app
from tests.support.shops import interactions_dataset

PENDING = "data_pending"


def _filled_dataset(clients, name: str) -> tuple[str, str, pd.DataFrame]:
    group, dataset = interactions_dataset(clients, name)
    held = generate_shop(60, 30, 1_200, seed=11).interactions
    launched = imports.stage_and_import(clients, dataset, held)
    wait_until(lambda: clients.personalize.describe_dataset_import_job(
        datasetImportJobArn=launched.job_arn)["datasetImportJob"], "import", timeout=60, interval=0.05)
    return group, dataset, held


def _page(engine_url: str, monkeypatch, group: str, frame: pd.DataFrame) -> AppTest:
    at = make_app(monkeypatch, engine_url, group_arn=group)
    at.session_state[PENDING] = {"frame": frame, "label": "events.csv", "version": 1}
    at.run()
    return at.switch_page("pages/data.py").run()


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _buttons(at: AppTest, label: str) -> list:
    return [b for b in at.button if b.label == label]


def test_full_into_a_filled_dataset_asks_again_then_clears_the_file(engine, clients, monkeypatch) -> None:
    group, _dataset, held = _filled_dataset(clients, "page-safe-full")
    new = held.tail(44).copy()
    at = _page(engine.url, monkeypatch, group, new)
    assert not at.exception
    mode = next(r for r in at.radio if r.label == "Import mode")
    assert mode.value == "INCREMENTAL"

    mode.set_value("FULL").run()
    _buttons(at, "Stage and import")[0].click().run()
    assert not at.exception
    assert f"replaces {len(held):,} rows with 44 rows" in _texts(at.warning)
    assert len(imports.list_import_jobs(clients.personalize, group)) == 1  # nothing started yet

    next(b for b in at.button if b.key == "data_full_import-confirm").click().run()
    assert not at.exception
    jobs = imports.list_import_jobs(clients.personalize, group)
    assert len(jobs) == 2 and jobs[0].mode == "FULL"
    assert "(FULL) started from `file://" in _texts(at.success)
    assert PENDING not in at.session_state
    assert _buttons(at, "Stage and import") == []  # no second click can import the same file again


def test_cancel_keeps_the_data_and_incremental_needs_no_confirmation(engine, clients, monkeypatch) -> None:
    group, _dataset, held = _filled_dataset(clients, "page-safe-cancel")
    at = _page(engine.url, monkeypatch, group, held.tail(10))
    next(r for r in at.radio if r.label == "Import mode").set_value("FULL").run()
    _buttons(at, "Stage and import")[0].click().run()
    next(b for b in at.button if b.key == "data_full_import-cancel").click().run()
    assert not at.exception
    assert "replaces" not in _texts(at.warning)
    assert len(imports.list_import_jobs(clients.personalize, group)) == 1

    next(r for r in at.radio if r.label == "Import mode").set_value("INCREMENTAL").run()
    _buttons(at, "Stage and import")[0].click().run()
    assert not at.exception
    jobs = imports.list_import_jobs(clients.personalize, group)
    assert len(jobs) == 2 and jobs[0].mode == "INCREMENTAL"


def test_ids_in_another_format_are_warned_with_their_rows(engine, clients, monkeypatch) -> None:
    group, _dataset, held = _filled_dataset(clients, "page-safe-ids")
    bad = held.tail(44).assign(USER_ID=lambda f: "U" + f["USER_ID"].str[2:])  # U00138 -> U0138
    at = _page(engine.url, monkeypatch, group, bad)
    assert not at.exception
    warnings = _texts(at.warning)
    assert "44 of 44 rows (100%) have a USER_ID whose format differs" in warnings
    shown = [d.value for d in at.dataframe if "USER_ID" in d.value.columns and len(d.value) == 20]
    assert shown and shown[0]["USER_ID"].str.len().eq(5).all()
