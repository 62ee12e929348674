"""Training page (AppTest): the versions and solutions tables use human column names, as the other pages do
(no `trainingHours`, `failure_reason` or `latest_version_status` headers)."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.shops import open_page, small_shop

MACHINE_NAME = re.compile(r"_|[a-z][A-Z]")  # snake_case or camelCase


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-training-columns"), "ptcol-shop") as s:
        yield s


def _headers(frame) -> list[str]:
    """What the browser shows above each column: the column_config label, else the column's name."""
    config = json.loads(frame.proto.columns or "{}")
    hidden = {name for name, c in config.items() if c.get("hidden")}
    shown = list(frame.proto.column_order) or list(frame.value.columns)
    return [str(config.get(name, {}).get("label") or name) for name in shown if name not in hidden]


def test_versions_and_solutions_tables_have_human_column_names(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    at.selectbox(key="training_solution").set_value(shop.result.solutions["aws-user-personalization"]).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 2  # versions, then solutions
    versions, solutions_ = (_headers(f) for f in at.dataframe)
    assert {"training hours", "failure reason", "NDCG@25", "created (UTC)"} <= set(versions)
    assert {"auto-training", "$/week", "latest version"} <= set(solutions_)
    # What changes comes first; "all events" in every row says nothing, so it takes no room at 1,400 px.
    assert solutions_[:3] == ["name", "status", "latest version"] and "event type" not in solutions_
    machine = [h for h in versions + solutions_ if MACHINE_NAME.search(h)]
    assert not machine, machine


def test_the_event_type_column_shows_once_a_solution_trains_on_one_type(shop, monkeypatch):
    from services.models import solutions

    solutions.create_solution(shop.p, shop.result.dataset_group_arn, "ptcol-purchases", "aws-user-personalization",
                              event_type="purchase")
    at = open_page(monkeypatch, shop, "pages/training.py")
    table = next(f for f in at.dataframe if "latest version" in f.value.columns)
    assert "event type" in _headers(table)
    assert table.value.set_index("name").loc["ptcol-purchases", "event type"] == "purchase"
