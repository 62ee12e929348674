"""The story's four steps against a real engine, on the small demo shop: state comes from the engine,
each step is idempotent, and the report moves from red to green on the same panel of users."""

from __future__ import annotations

import pytest

from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan
from services.demo.story import (
    STEP_ACTIONS,
    SnapshotStore,
    record_snapshot,
    snapshots_frame,
    step_add_events,
    step_start,
    step_train,
    step_update_campaign,
    story_panel,
    story_report,
    story_status,
)
from services.models.campaign_health import campaign_health


@pytest.fixture(scope="module")
def clients(engine, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("story-data")))
    return Clients(BackendInfo("local", "us-east-1", engine.url, None))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_story_runs_red_to_green_one_step_at_a_time(clients, tmp_path):
    plan = DemoPlan.small(name="story-shop")
    store = SnapshotStore(tmp_path / "story")
    assert story_status(clients, plan).done == 0
    with pytest.raises(ValueError, match="Run step 1 first"):
        step_add_events(clients, plan)

    messages: list[str] = []
    step_start(clients, plan, lambda m, f: messages.append(m))
    assert messages  # progress was reported
    status = story_status(clients, plan)
    assert status.done == 1 and status.busy is None
    panel = story_panel(plan, per_cohort=10)
    assert set(panel.users["cohort"]) == {"none", "1–2", "3–9", "10+"}
    before = story_report(clients, status, panel)
    assert before.level == "critical"
    assert before.verdict.startswith("Cold-start duplication")
    assert before.cohorts["none"].same_list_share == 1.0  # no history: everyone gets the popular items
    record_snapshot(store, status, before)

    with pytest.raises(ValueError, match="Run step 2 first"):
        step_train(clients, plan)
    step_add_events(clients, plan)
    step_add_events(clients, plan)  # idempotent: no second import
    status = story_status(clients, plan)
    assert status.done == 2
    jobs = clients.personalize.list_dataset_import_jobs(datasetArn=status.interactions_dataset_arn)
    assert len(jobs["datasetImportJobs"]) == 2  # the initial FULL one and one INCREMENTAL one
    assert story_report(clients, status, panel).to_frame().equals(before.to_frame())  # nothing changes yet

    step_train(clients, plan)
    step_train(clients, plan)  # idempotent: no second version
    status = story_status(clients, plan)
    assert status.done == 3 and status.new_version
    versions = clients.personalize.list_solution_versions(solutionArn=status.solution_arn)["solutionVersions"]
    assert len(versions) == 2
    stale = [h for h in campaign_health(clients.personalize, status.group_arn) if h.campaign_arn == status.campaign_arn]
    assert stale[0].stale  # the warning the page shows
    unchanged = story_report(clients, status, panel)
    assert unchanged.level == "critical"
    assert unchanged.to_frame().equals(before.to_frame())
    record_snapshot(store, status, unchanged)

    step_update_campaign(clients, plan)
    status = story_status(clients, plan)
    assert status.done == 4
    assert not status.health or not [h for h in campaign_health(clients.personalize, status.group_arn)
                                     if h.campaign_arn == status.campaign_arn and h.stale]
    after = story_report(clients, status, panel)
    record_snapshot(store, status, after)
    assert after.level == "ok", after.verdict
    assert after.cohorts["≤2"].same_list_share < before.cohorts["≤2"].same_list_share
    assert after.overall.personalization > before.overall.personalization

    # Everything above is derived from the engine: a fresh look (a reload) finds the same place.
    assert story_status(clients, plan).done == 4
    assert step_update_campaign(clients, plan) == status.new_version  # idempotent at the end too
    table = snapshots_frame(store.load(status.group_arn))
    assert list(table["report"]) == ["red", "red", "green"]
    assert len(STEP_ACTIONS) == 4


def test_step_texts_take_their_counts_from_the_plan() -> None:
    from services.demo.story import steps_for

    for plan in (DemoPlan.small("words"), DemoPlan()):
        initial, additional = plan.phases()
        text = " ".join(f"{t} {d}" for t, d in steps_for(plan))
        assert f"~{round(len(initial), -2):,} interactions" in text
        assert f"Add ~{round(len(additional), -2):,} events" in text
        assert f"all ~{round(len(initial) + len(additional), -2):,} events" in text
    assert "7,000" not in " ".join(d for _, d in steps_for(DemoPlan.small("words")))
