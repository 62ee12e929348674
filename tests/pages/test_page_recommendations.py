"""AppTest of the Side-by-side page: the grid, the verdicts, the heatmap, and the story's steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan, create_demo_shop
from tests.support.apptest import make_app

REPO = Path(__file__).resolve().parents[2]
PAGE = "pages/recommendations.py"


@pytest.fixture
def app(engine, tmp_path, monkeypatch):
    return make_app(monkeypatch, engine.url, tmp_path, timeout=120)


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("error", "warning", "success", "info", "markdown", "caption", "subheader")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def test_grid_and_report_on_a_demo_shop(app, engine, tmp_path):
    clients = Clients(BackendInfo("local", "us-east-1", engine.url, None))
    result = create_demo_shop(clients, DemoPlan.small(name="page-recs-shop"))
    app.session_state["dataset_group_arn"] = result.dataset_group_arn
    app.session_state["story_size"] = "small"
    at = app.switch_page(PAGE).run()
    assert not at.exception
    text = _texts(at)
    assert "Are users getting the same items?" in text
    # user-personalization: users with history get personal lists; the new users' shared cold-start list is
    # the expected baseline, shown neutral with the reason, not red.
    assert any("expected, not a fault" in i.value for i in at.info), _texts(at)
    assert not any("user-personalization" in e.value for e in at.error)
    # popularity-count gives everyone one list by design: a neutral baseline, not a red fault.
    assert any("Baseline: aws-popularity-count" in i.value for i in at.info), _texts(at)
    assert not any("popularity-count" in e.value for e in at.error)
    assert not any("~7,000" in e.value for e in at.error)
    assert "same list as" in text and "No history: a new user." in text
    # Each cell is narrow enough to sit two to a row: rank, "name · category leaf", price, shared count.
    cells = [d.value for d in at.dataframe if "shared" in d.value.columns]
    assert cells and all(list(c.columns) == ["#", "item", "price", "shared"] for c in cells)
    assert all(" · " in label for c in cells for label in c["item"]) and cells[0]["price"].notna().all()
    assert any("Recent history, newest first:" in c.value for c in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "heatmap"
    # The story tab, pointed at a group that does not exist yet: step 1 is the only one offered.
    buttons = {b.label: b for b in at.button}
    assert not buttons["Run step 1"].disabled and buttons["Run step 2"].disabled


def test_typed_users_and_a_bad_user_list(app, engine):
    clients = Clients(BackendInfo("local", "us-east-1", engine.url, None))
    result = create_demo_shop(clients, DemoPlan.small(name="page-typed-shop"))
    app.session_state["dataset_group_arn"] = result.dataset_group_arn
    app.session_state["story_size"] = "small"
    at = app.switch_page(PAGE).run()
    at.radio(key="rec_source").set_value("Type user ids").run()
    assert any("Type one or more user ids" in i.value for i in at.info)
    at.text_area(key="rec_typed").input("U00001, nobody-yet").run()
    assert not at.exception
    assert "nobody-yet" in _texts(at)


def test_story_steps_from_the_page(app, engine):
    app.session_state["story_size"] = "small"
    at = app.switch_page(PAGE).run()
    at.button(key="story_step_1").click().run()
    assert not at.exception
    assert any("Report red" in e.value for e in at.error)
    for step in (2, 3):
        at.button(key=f"story_step_{step}").click().run()
        assert not at.exception
    assert any("still serves" in w.value for w in at.warning)  # the stale campaign
    unchanged = next(i.value for i in at.info if "Nothing changed since step 1" in i.value)
    assert "~7,000" not in unchanged  # the small shop's first phase is far smaller: the count is read
    at.button(key="story_step_4").click().run()
    assert not at.exception
    assert any("Report green" in s.value for s in at.success), _texts(at)
    # The story's cohorts are as when it began, and the page says why the other tab may differ.
    assert "when the story began" in _texts(at) and "the two tabs can differ" in _texts(at)
    snapshot_rows = [d.value for d in at.dataframe if "after step" in d.value.columns]
    assert list(snapshot_rows[0]["report"]) == ["red", "red", "red", "green"]
    # The table holds each verdict's headline; the verdicts in full are under it, as text.
    assert all(":" not in v and v for v in snapshot_rows[0]["verdict"])
    assert snapshot_rows[0]["verdict"].iloc[-1] in next(m.value for m in at.markdown if m.value.startswith("**4"))


def test_a_story_step_running_in_the_background_is_followed_to_its_end(app):
    """A click elsewhere reran the page mid-step: the new run finds the step's job and watches it end."""
    import threading

    from services.core.jobs import process_jobs
    from services.demo import story

    plan = DemoPlan.small()
    gate = threading.Event()

    def step(progress):
        progress("Importing the later events", 0.4)
        gate.wait(30)
        return "arn:import"

    job = process_jobs().start(story.step_job_key(plan, 2), step)
    watched = job.wait

    def wait_then_release(timeout: float | None = None) -> bool:
        gate.set()  # the page is watching now: only then may the step end (no race with a slow page run)
        return watched(timeout)

    job.wait = wait_then_release
    app.session_state["story_size"] = "small"
    at = app.switch_page(PAGE).run()
    assert not at.exception
    assert job.succeeded and story.running_step(process_jobs(), plan) is None
    assert "Step 2 done" in _texts(at)
