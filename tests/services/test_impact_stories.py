"""The demo's two stories in earned numbers, on the small demo shop with fixed seeds: click-through rises
once the stale campaign serves the version trained on more data, and user-personalization beats
popularity-count in an A/B test run to its planned sample size."""

from __future__ import annotations

import pytest

from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.demo.story import step_add_events, step_start, step_train, story_status
from services.evaluation.experiment import Experiment, ExperimentStore, readout
from services.evaluation.impact import compare, impact_table
from services.evaluation.rehearsal import DayStore, run_experiment
from services.evaluation.stories import AFTER, BEFORE, stale_campaign_story
from services.recommendations.events import ensure_tracker

START = 1_767_225_600.0


@pytest.fixture(scope="module")
def clients(engine, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("impact-stories")))
    yield Clients(BackendInfo("local", "us-east-1", engine.url, None))
    mp.undo()


def test_click_through_rises_after_the_stale_campaign_is_updated(clients):
    plan = DemoPlan.small(name="impact-story")
    group = step_start(clients, plan)
    ensure_tracker(clients.personalize, group, "impact-story-tracker")
    step_add_events(clients, plan)
    step_train(clients, plan)
    status = story_status(clients, plan)
    assert status.health is not None and status.health.stale
    day = stale_campaign_story(clients, plan, 800, seed=5)
    assert story_status(clients, plan).done == 4  # the rehearsal made the update
    table = impact_table(day.log).set_index("campaign")
    rows = [table.loc[f"{status.campaign_arn.rsplit('/', 1)[-1]} · {phase}"] for phase in (BEFORE, AFTER)]
    assert rows[0]["lists"] == rows[1]["lists"] == 800
    result = compare(int(rows[0]["clicks"]), int(rows[0]["impressions"]), int(rows[1]["clicks"]),
                     int(rows[1]["impressions"]), "before", "after")
    assert result.lift > 0 and result.significant, result
    # the two days are kept in the data directory: a reload finds them
    assert DayStore().load(group).log.equals(day.log)
    with pytest.raises(ValueError, match="story is at step 4"):
        stale_campaign_story(clients, plan, 10, seed=5)


def test_user_personalization_beats_popularity_in_a_planned_ab_test(clients):
    plan = DemoPlan.small(name="impact-ab")
    shop = create_demo_shop(clients, plan)
    ensure_tracker(clients.personalize, shop.dataset_group_arn, "impact-ab-tracker")
    experiment = Experiment("up-vs-pop", shop.dataset_group_arn, shop.campaigns["aws-popularity-count"],
                            shop.campaigns["aws-user-personalization"], baseline=0.05, min_lift=0.5, start=START)
    store = ExperimentStore()
    store.save(experiment)
    days = 0
    while not (state := readout(experiment, store.log(experiment.name))).decided:
        run_experiment(clients, experiment, plan, 1_000, seed=3)
        days += 1
        assert days <= 10, state.stopping_rule
    assert state.comparison.significant and state.comparison.lift > 0, state.comparison
    assert state.comparison.lift_low > 0
