"""Training and Compare pages (AppTest) with HPO: the create form's tuning part with its cost, refusals in
words, and the tuned values beside the metrics in the versions table and on Compare."""

from __future__ import annotations

import pytest

from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop, texts


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-hpo"), "phpo-shop") as s:
        yield s


def solution_named(shop, name: str) -> dict | None:
    for s in shop.p.list_solutions(datasetGroupArn=shop.result.dataset_group_arn)["solutions"]:
        if s["name"] == name:
            return shop.p.describe_solution(solutionArn=s["solutionArn"])["solution"]
    return None


def create_form(shop, monkeypatch, recipe: str, name: str):
    at = open_page(monkeypatch, shop, "pages/training.py")
    at.selectbox(key="new_solution_recipe").set_value(recipe).run()
    at.text_input[0].set_value(name)
    return at


def test_the_form_turns_on_hpo_with_its_cost_and_ranges(shop, monkeypatch):
    at = create_form(shop, monkeypatch, "aws-user-personalization", "phpo-tuned")
    assert "billed as one" in texts(at)  # the cost, before anything is created
    at.checkbox(key="hpo_on").check()
    at.number_input(key="hpo_trials").set_value(2)
    at.slider(key="hpo_range_ease_lambda").set_value((10.0, 200.0))
    at.button[-1].click().run()  # the form's "Create solution"
    assert not at.exception, at.exception
    created = solution_named(shop, "phpo-tuned")
    assert created["performHPO"] is True
    hpo = created["solutionConfig"]["hpoConfig"]
    assert hpo["hpoResourceConfig"]["maxNumberOfTrainingJobs"] == "2"
    assert hpo["algorithmHyperParameterRanges"]["continuousHyperParameterRanges"] == [
        {"name": "ease_lambda", "minValue": 10.0, "maxValue": 200.0}]
    # The solutions table says it in words, one short cell: the nested hpoConfig printed as it came was
    # wide enough to push the status and latest version off a 1,400 px screen.
    at.run()
    table = next(d.value for d in at.dataframe if "latest version" in d.value.columns).set_index("name")
    assert table.loc["phpo-tuned", "configuration"] == "HPO: 2 trials, NDCG@25"


def test_hpo_without_a_range_is_refused_in_words_and_creates_nothing(shop, monkeypatch):
    at = create_form(shop, monkeypatch, "aws-sims", "phpo-nothing")
    at.checkbox(key="hpo_on").check()
    at.checkbox(key="hpo_tune_popularity_discount_factor").uncheck()
    at.button[-1].click().run()
    assert not at.exception, at.exception
    assert any("at least one" in e.value for e in at.error)
    assert solution_named(shop, "phpo-nothing") is None


def test_a_recipe_with_nothing_to_tune_offers_no_hpo(shop, monkeypatch):
    at = create_form(shop, monkeypatch, "aws-popularity-count", "phpo-pop")
    assert "has no hyperparameters to tune" in texts(at)
    with pytest.raises(KeyError):
        at.checkbox(key="hpo_on")


def test_tuned_values_sit_beside_the_metrics_in_versions_and_compare(shop, monkeypatch):
    solution = solution_named(shop, "phpo-tuned")
    if solution is None:  # this test also runs alone
        from services.models import tuning
        arn = solutions.create_solution(shop.p, shop.result.dataset_group_arn, "phpo-tuned",
                                        "aws-user-personalization", hpo=tuning.hpo_config(
                                            "aws-user-personalization", "precision_at_25", 2, 1,
                                            {"ease_lambda": (10.0, 200.0)}))
    else:
        arn = solution["solutionArn"]
    version = solutions.train(shop.p, arn)
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=120)
    at = open_page(monkeypatch, shop, "pages/training.py")
    at.selectbox(key="training_solution").set_value(arn).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    row = table[table["version"] == version.rsplit("/", 1)[-1]].iloc[0]
    assert row["tuned"].startswith("tuned: ")
    assert row["NDCG@25"] == pytest.approx(
        shop.p.get_solution_metrics(solutionVersionArn=version)["metrics"][solutions.HEADLINE_METRIC])
    at = open_page(monkeypatch, shop, "pages/compare.py")
    at.multiselect(key="compare_versions").set_value([version, shop.result.versions["aws-popularity-count"]]).run()
    assert not at.exception, at.exception
    tall = at.dataframe[0].value.set_index("Metric").drop(columns="What it measures")
    assert dict(zip(tall.loc["Version"], tall.loc["Tuned (HPO)"], strict=True)) == {
        version.rsplit("/", 1)[-1]: row["tuned"].removeprefix("tuned: "),  # the row's name says "tuned"
        shop.result.versions["aws-popularity-count"].rsplit("/", 1)[-1]: "no HPO"}
