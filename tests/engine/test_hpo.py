"""performHPO runs trials over the declared ranges and reports the winner as tunedHPOParams; the version's
metrics are the usual protocol's, on the tuned hyperparameters."""

from __future__ import annotations

import pytest

from tests.engine.conftest import active, make_shop

RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization"
HPO = {
    "hpoObjective": {"type": "Maximize", "metricName": "normalized_discounted_cumulative_gain_at_25"},
    "hpoResourceConfig": {"maxNumberOfTrainingJobs": "4", "maxParallelTrainingJobs": "2"},
    "algorithmHyperParameterRanges": {
        "continuousHyperParameterRanges": [{"name": "ease_lambda", "minValue": 1.0, "maxValue": 2000.0}]},
}


@pytest.fixture(scope="module")
def shop(personalize, recorder, tmp_path_factory):
    return make_shop(personalize, tmp_path_factory.mktemp("hpo"), "hpo", seed=5)


def version_of(personalize, group: str, name: str, **kw) -> dict:
    solution = personalize.create_solution(name=name, datasetGroupArn=group, recipeArn=RECIPE,
                                           performAutoTraining=False, **kw)["solutionArn"]
    arn = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    done = active(lambda: personalize.describe_solution_version(solutionVersionArn=arn), "solutionVersion")
    assert done["status"] == "ACTIVE", done.get("failureReason")
    return done


def test_hpo_reports_the_tuned_hyperparameters(personalize, shop, recorder):
    tuned_version = version_of(personalize, shop.group, "hpo-tuned", performHPO=True,
                               solutionConfig={"hpoConfig": HPO})
    assert tuned_version["performHPO"] is True
    tuned = tuned_version["tunedHPOParams"]["algorithmHyperParameters"]
    # The first trial is the solution's own setting (here: the recipe's default, reported as no override).
    assert set(tuned) <= {"ease_lambda"}
    assert all(1.0 <= float(v) <= 2000.0 for v in tuned.values())
    # Honest metrics: the same protocol as any version, on the tuned values (the trials never saw its hold-out).
    replay = version_of(personalize, shop.group, "hpo-replay",
                        solutionConfig={"algorithmHyperParameters": tuned})
    assert "tunedHPOParams" not in replay
    metrics = personalize.get_solution_metrics(solutionVersionArn=tuned_version["solutionVersionArn"])["metrics"]
    again = personalize.get_solution_metrics(solutionVersionArn=replay["solutionVersionArn"])["metrics"]
    assert metrics == again
    assert recorder.problems() == []


@pytest.mark.parametrize("config, words", [
    ({**HPO, "hpoObjective": {"type": "Maximize", "metricName": "accuracy"}}, "not a solution metric"),
    ({**HPO, "algorithmHyperParameterRanges": {"integerHyperParameterRanges": [
        {"name": "bogus", "minValue": 1, "maxValue": 3}]}}, "cannot be tuned"),
    ({**HPO, "hpoResourceConfig": {"maxNumberOfTrainingJobs": "0"}}, "between 1 and 40"),
])
def test_hpo_configs_that_cannot_run_are_refused(personalize, shop, config, words):
    with pytest.raises(personalize.exceptions.InvalidInputException, match=words):
        personalize.create_solution(name="hpo-bad", datasetGroupArn=shop.group, recipeArn=RECIPE,
                                    performHPO=True, solutionConfig={"hpoConfig": config})


def test_describe_algorithm_shows_what_hpo_tunes_by_default(personalize):
    from botocore.validate import ParamValidator

    recipe = personalize.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")["recipe"]
    answer = personalize.describe_algorithm(algorithmArn=recipe["algorithmArn"])
    algorithm = answer["algorithm"]
    ranges = algorithm["defaultHyperParameterRanges"]["continuousHyperParameterRanges"]
    assert [(r["name"], r["isTunable"]) for r in ranges] == [("ease_lambda", True)]
    assert ranges[0]["minValue"] < ranges[0]["maxValue"]
    shape = personalize.meta.service_model.operation_model("DescribeAlgorithm").output_shape
    body = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    assert not ParamValidator().validate(body, shape).has_errors()
    popular = personalize.describe_algorithm(algorithmArn="arn:aws:personalize:::algorithm/aws-popularity-count")
    assert popular["algorithm"]["defaultHyperParameterRanges"] == {}
    with pytest.raises(personalize.exceptions.ResourceNotFoundException):
        personalize.describe_algorithm(algorithmArn="arn:aws:personalize:::algorithm/no-such-thing")
