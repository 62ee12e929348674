"""AppTest of the Impact page's A/B experiments and saved days: the preset creates user-personalization
against popularity-count, the stopping rule shows before any verdict, simulated days lead to a verdict
with the lift's interval, and a day simulated earlier is shown from the data directory."""

from __future__ import annotations

import json

import pytest

from services.core.jobs import process_jobs
from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.evaluation.experiment import ExperimentStore
from services.evaluation.rehearsal import rehearse_day
from services.recommendations.events import ensure_tracker
from tests.support.apptest import make_app
from tests.support.shops import clients_for, texts


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # the demo's files are staged inside the engine's file roots
        mp.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("page-impact-ab")))
        clients = clients_for(engine.url)
        result = create_demo_shop(clients, DemoPlan.small(name="page-impact-ab"))
        ensure_tracker(clients.personalize, result.dataset_group_arn, "page-impact-ab-tracker")
    return result


def _page(monkeypatch, engine, tmp_path, shop):
    at = make_app(monkeypatch, engine.url, tmp_path, group_arn=shop.dataset_group_arn, timeout=120)
    at.run()
    return at.switch_page("pages/impact.py").run()


def _progress_texts(at) -> list[str]:
    return [e.proto.text for e in at.get("progress")]


def test_an_ab_experiment_from_the_preset_to_its_verdict(monkeypatch, engine, tmp_path, shop):
    at = _page(monkeypatch, engine, tmp_path, shop)
    assert not at.exception
    at.button(key="exp_preset").click().run()
    assert at.text_input(key="exp_name").value == "personalization-vs-popularity"
    next(b for b in at.button if b.label == "Create the experiment").click()
    at.run()
    assert not at.exception, at.exception
    experiment = ExperimentStore(tmp_path / "experiments").load("personalization-vs-popularity")
    assert experiment.control == shop.campaigns["aws-popularity-count"]
    n = experiment.visits_needed
    assert f"0 of {n:,} visits; decide at {n:,}" in "\n".join(_progress_texts(at))
    assert "No verdict yet" in texts(at)
    assert any("--experiment personalization-vs-popularity --user USER_ID" in c.value for c in at.code)
    for _ in range(5):
        if "No verdict yet" not in texts(at):
            break
        at.radio(key="exp_shop").set_value("small demo shop")
        next(b for b in at.button if b.label == "Simulate a day of the experiment").click()
        at.run()
        assert not at.exception, at.exception
        job = process_jobs().get("impact-exp:personalization-vs-popularity")
        assert job is not None and job.wait(120) and job.succeeded, job and job.error
        at.run()
        assert not at.exception, at.exception
    assert f"{n:,} of {n:,} visits" in "\n".join(_progress_texts(at))
    assert any("earns more clicks per impression" in s.value for s in at.success), texts(at)
    assert any(t.value.startswith("Lift of the treatment: +") and "95% interval" in t.value for t in at.text)


def test_a_day_simulated_before_is_shown_after_a_reload(monkeypatch, engine, tmp_path, shop):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    clients = clients_for(engine.url)
    campaigns = [shop.campaigns["aws-popularity-count"], shop.campaigns["aws-user-personalization"]]
    assert process_jobs().get(f"impact-day:{shop.dataset_group_arn}") is None  # nothing in this process's memory
    day = rehearse_day(clients, shop.dataset_group_arn, campaigns, DemoPlan.small(), 300, seed=4)
    at = _page(monkeypatch, engine, tmp_path, shop)
    assert not at.exception, at.exception
    assert "as saved in the data directory" in texts(at)
    table = next(d.value for d in at.dataframe if "lists" in d.value.columns and "conversion" in d.value.columns)
    assert table["lists"].sum() == 300
    hourly = next(d.value for d in at.dataframe if "hour" in d.value.columns)
    assert hourly["impressions"].sum() == (day.log["event_type"] == "impression").sum()
    assert hourly["hour"].max() >= 20  # visits spread over the whole simulated day
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(t["type"] == "scatter" for c in charts for t in c["data"])


def test_the_stale_campaign_story_button_shows_before_and_after(monkeypatch, engine, tmp_path):
    from services.demo.story import step_add_events, step_start, step_train, story_status

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    clients, plan = clients_for(engine.url), DemoPlan.small(name="page-impact-story")
    group = step_start(clients, plan)
    ensure_tracker(clients.personalize, group, "page-impact-story-tracker")
    step_add_events(clients, plan)
    step_train(clients, plan)
    at = make_app(monkeypatch, engine.url, tmp_path, group_arn=group, timeout=120)
    at.run()
    at = at.switch_page("pages/impact.py").run()
    at.radio(key="impact_story_shop").set_value("small demo shop")
    next(b for b in at.button if b.label == "Rehearse before and after the update").click()
    at.run()
    assert not at.exception, at.exception
    job = process_jobs().get(f"impact-day:{group}")
    assert job is not None and job.wait(120) and job.succeeded, job and job.error
    at.run()
    assert not at.exception, at.exception
    assert story_status(clients, plan).done == 4
    table = next(d.value for d in at.dataframe if "conversion" in d.value.columns)
    assert sorted(table["name"].str.rsplit(" · ", n=1).str[-1]) == ["after the update", "before the update"]
    after, before = (table.set_index(table["name"].str.rsplit(" · ", n=1).str[-1])
                     .loc[["after the update", "before the update"], "click_through"])
    assert after > before
    assert any("earns more clicks" in m.value or "No significant difference" in m.value
               for m in list(at.success) + list(at.info))
