"""HPO through the dashboard's services against the real engine: the hpoConfig the form builds, the
versions table's tuned values beside NDCG@25, the honest progress text, and Compare's tuned column."""

from __future__ import annotations

import pytest

from services.models import solutions, tuning
from tests.support.engine_process import wait_for
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("tuning"), "tune-shop") as s:
        yield s


def test_a_solution_with_hpo_reports_its_tuned_values_beside_the_metric(shop):
    config = tuning.hpo_config("aws-user-personalization", "normalized_discounted_cumulative_gain_at_25", 2, 1,
                               {"ease_lambda": (5.0, 500.0)})
    arn = solutions.create_solution(shop.p, shop.result.dataset_group_arn, "tune-up", "aws-user-personalization",
                                    hpo=config)
    solution = shop.p.describe_solution(solutionArn=arn)["solution"]
    assert solution["performHPO"] is True
    assert solution["solutionConfig"]["hpoConfig"]["hpoResourceConfig"]["maxNumberOfTrainingJobs"] == "2"
    version_arn = solutions.train(shop.p, arn)
    described = shop.p.describe_solution_version(solutionVersionArn=version_arn)["solutionVersion"]
    progress = tuning.progress_text(described)
    assert "2 trials asked for" in progress and "%" not in progress and "no progress" in progress
    table = wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t),
                     timeout=120)
    row = table.iloc[0]
    assert row["status"] == "ACTIVE", row["failure reason"]
    tuned = shop.p.describe_solution_version(solutionVersionArn=version_arn)["solutionVersion"]["tunedHPOParams"]
    values = tuned["algorithmHyperParameters"]
    assert row["tuned"] == ("tuned: the solution's own setting won" if not values else
                            "tuned: " + ", ".join(f"{k} = {v}" for k, v in sorted(values.items())))
    metric = shop.p.get_solution_metrics(solutionVersionArn=version_arn)["metrics"][solutions.HEADLINE_METRIC]
    assert row["NDCG@25"] == pytest.approx(metric)
    assert row["HPO progress"] == ""  # finished: nothing to report
    compared = tuning.tuned_values(shop.p, [version_arn, shop.result.versions["aws-popularity-count"]])
    assert compared["tuned_hyperparameters"].tolist() == [row["tuned"], "no HPO"]


def test_versions_without_hpo_say_nothing_about_tuning(shop):
    table = solutions.versions_table(shop.p, shop.result.solutions["aws-popularity-count"])
    assert (table["tuned"] == "").all() and (table["HPO progress"] == "").all()
    assert table["NDCG@25"].notna().all()


@pytest.mark.parametrize("recipe", sorted(tuning.TUNABLE))
def test_every_range_the_form_offers_is_accepted_by_the_engine(shop, recipe):
    ranges = {r.name: (r.low, r.high) for r in tuning.tunable(recipe)}
    config = tuning.hpo_config(recipe, "precision_at_25", 1, 1, ranges)
    arn = solutions.create_solution(shop.p, shop.result.dataset_group_arn, f"tune-{recipe}", recipe, hpo=config)
    assert shop.p.describe_solution(solutionArn=arn)["solution"]["performHPO"] is True


@pytest.mark.parametrize("args, words", [
    (("aws-popularity-count", "precision_at_25", 2, 1, {"x": (1, 2)}), "no hyperparameters to tune"),
    (("aws-sims", "accuracy", 2, 1, {"popularity_discount_factor": (0, 1)}), "solution metrics"),
    (("aws-sims", "precision_at_25", 0, 1, {"popularity_discount_factor": (0, 1)}), "between 1 and 40"),
    (("aws-sims", "precision_at_25", 2, 3, {"popularity_discount_factor": (0, 1)}), "at a time"),
    (("aws-sims", "precision_at_25", 2, 1, {}), "at least one"),
    (("aws-sims", "precision_at_25", 2, 1, {"ease_lambda": (5, 50)}), "cannot be tuned for aws-sims"),
    (("aws-sims", "precision_at_25", 2, 1, {"popularity_discount_factor": (0.8, 0.2)}), "within 0 to 1"),
])
def test_configs_that_cannot_run_are_refused_in_words(args, words):
    with pytest.raises(ValueError, match=words):
        tuning.hpo_config(*args)


def test_the_cost_counts_every_trial_as_a_training():
    assert "up to 5 trial trainings" in tuning.cost_text(5) and "6 times" in tuning.cost_text(5)


@pytest.mark.parametrize("version, words", [
    ({"performHPO": True, "status": "CREATE IN_PROGRESS", "trainingMode": "FULL"}, "tuning…"),
    ({"performHPO": True, "status": "CREATE STOPPED", "trainingMode": "FULL"}, "did not finish"),
    ({"performHPO": True, "status": "ACTIVE", "trainingMode": "UPDATE"}, "FULL trainings only"),
    ({"performHPO": False, "status": "ACTIVE", "trainingMode": "FULL"}, ""),
])
def test_tuning_in_words_never_claims_a_tuning_that_is_not_running(version, words):
    text = tuning.tuned_text(version)
    assert (words in text) if words else text == ""
