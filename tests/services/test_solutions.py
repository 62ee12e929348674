"""services.models.solutions against the engine: listing, creating, training, versions, the recipe guide."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from services.core import resources
from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("solutions"), "sol-shop") as s:
        yield s


def test_solutions_table_shows_recipe_event_type_and_auto_training(shop):
    table = solutions.solutions_table(shop.p, shop.result.dataset_group_arn)
    assert set(table["recipe"]) == {"aws-popularity-count", "aws-user-personalization", "aws-similar-items"}
    assert set(table["auto-training"]) == {"off"}
    assert set(table["latest version"]) == {"ACTIVE"}


def test_create_solution_leaves_auto_training_off_unless_chosen(shop):
    off = solutions.create_solution(shop.p, shop.result.dataset_group_arn, "sol-purchases",
                                    "aws-user-personalization", event_type="purchase")
    on = solutions.create_solution(shop.p, shop.result.dataset_group_arn, "sol-auto", "aws-sims",
                                   auto_training=True, schedule="rate(14 days)")
    off_d = shop.p.describe_solution(solutionArn=off)["solution"]
    on_d = shop.p.describe_solution(solutionArn=on)["solution"]
    assert off_d["performAutoTraining"] is False and off_d["eventType"] == "purchase"
    assert on_d["performAutoTraining"] is True
    assert on_d["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == "rate(14 days)"
    table = solutions.solutions_table(shop.p, shop.result.dataset_group_arn).set_index("name")
    assert table.loc["sol-auto", "auto-training"] == "on, rate(14 days)"
    assert table.loc["sol-auto", "auto-training $/week"] == pytest.approx(
        solutions.weekly_auto_training_cost("rate(7 days)") / 2)
    assert table.loc["sol-purchases", "event type"] == "purchase"
    with pytest.raises(ValueError, match="name"):
        solutions.create_solution(shop.p, shop.result.dataset_group_arn, "  ", "aws-sims")


def test_train_full_then_update_and_read_the_versions_table(shop):
    arn = shop.result.solutions["aws-user-personalization"]
    version = solutions.train(shop.p, arn, "UPDATE")
    table = wait_for(lambda: solutions.versions_table(shop.p, arn),
                     lambda t: not solutions.is_training(t), timeout=60)
    newest = table.iloc[0]
    assert newest["solution_version_arn"] == version
    assert newest["status"] == "ACTIVE" and newest["mode"] == "UPDATE"
    assert newest["duration_s"] >= 0 and newest["training hours"] >= 0
    assert list(table["created"]) == sorted(table["created"], reverse=True)
    assert resources.newest_active_version(shop.p, arn) == version
    with pytest.raises(ValueError, match="FULL or UPDATE"):
        solutions.train(shop.p, arn, "PARTIAL")


def test_stop_refuses_a_finished_version_in_words(shop):
    arn = shop.result.versions["aws-popularity-count"]
    with pytest.raises(ClientError) as err:
        solutions.stop(shop.p, arn)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_recipe_catalogue_explains_every_engine_recipe(shop):
    catalogue = solutions.recipe_catalogue(shop.p)
    names = [r.name for r in catalogue]
    assert names[0] == "aws-popularity-count"
    assert set(solutions.RECIPE_GUIDE) <= set(names)
    for recipe in catalogue:
        text = recipe.explanation()
        assert "When to use it" in text and recipe.recipe_type


def test_find_solution_names_the_choices(shop):
    with pytest.raises(ValueError, match="sol-shop-popularity-count"):
        resources.find_solution(shop.p, shop.result.dataset_group_arn, "nope")
