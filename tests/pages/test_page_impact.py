"""AppTest of the Impact page: an operator simulates a day and sees the figures per campaign with their
intervals and an A/B verdict; a viewer cannot start one."""

from __future__ import annotations

import json

import pytest

from services.core.jobs import process_jobs
from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.recommendations.events import ensure_tracker
from tests.support.apptest import make_app
from tests.support.shops import clients_for


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the demo's files are staged inside the engine's file roots
        mp.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("page-impact")))
        clients = clients_for(engine.url)
        result = create_demo_shop(clients, DemoPlan.small(name="page-impact-shop"))
        ensure_tracker(clients.personalize, result.dataset_group_arn, "page-impact-tracker")
    return result


def _page(monkeypatch, engine, tmp_path, shop, **env):
    at = make_app(monkeypatch, engine.url, tmp_path, group_arn=shop.dataset_group_arn, timeout=120, **env)
    at.run()  # the entry page first: sign-in settles the role
    return at.switch_page("pages/impact.py").run()


def _submit(at, visits: int = 150):
    assert len(at.multiselect(key="impact_campaigns").value) == 2  # the two user campaigns, not SIMS
    at.number_input(key="impact_visits").set_value(visits)
    at.radio(key="impact_shop").set_value("small demo shop")
    next(b for b in at.button if b.label == "Simulate a day").click()
    return at.run()


def test_an_operator_simulates_a_day_and_sees_the_figures(monkeypatch, engine, tmp_path, shop):
    at = _page(monkeypatch, engine, tmp_path, shop)
    assert not at.exception
    assert any("What is attributable" in m.value for m in at.markdown)
    at = _submit(at)
    assert not at.exception
    job = process_jobs().get(f"impact-day:{shop.dataset_group_arn}")
    assert job is not None and job.wait(120) and job.succeeded, job.error
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "click_through" in d.value.columns)
    assert len(table) == 2
    assert (table["impressions"] == table["lists"] * 10).all()
    assert (table["click_through_low"] <= table["click_through"]).all()
    assert (table["click_through"] <= table["click_through_high"]).all()
    assert (table["revenue_low"] <= table["revenue"]).all() and (table["revenue"] <= table["revenue_high"]).all()
    assert (table["revenue_per_visit"] * table["lists"]).round(6).tolist() == table["revenue"].round(6).tolist()
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["data"][0]["type"] == "bar"
    assert any("earns more clicks" in m.value or "No significant difference" in m.value
               for m in list(at.success) + list(at.info))


def test_a_viewer_cannot_start_a_simulation(monkeypatch, engine, tmp_path, shop):
    process_jobs_before = process_jobs().get(f"impact-day:{shop.dataset_group_arn}")
    at = _page(monkeypatch, engine, tmp_path, shop, PERSONALIZE_DASHBOARD_ROLE="viewer")
    assert not at.exception
    at = _submit(at)
    assert not at.exception
    assert any("Viewers cannot change anything" in w.value for w in at.warning)
    assert process_jobs().get(f"impact-day:{shop.dataset_group_arn}") is process_jobs_before
