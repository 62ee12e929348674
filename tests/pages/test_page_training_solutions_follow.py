"""Training page (AppTest): the solutions table follows a training until it settles, then shows ACTIVE."""

from __future__ import annotations

import pytest

from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop

UP = "aws-user-personalization"
SETTLING = "_solutions_settling"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-training-solutions"), "pts-shop") as s:
        yield s


def latest_versions(at) -> dict[str, str]:
    table = next(d.value for d in at.dataframe if "latest version" in d.value.columns)
    return dict(zip(table["name"], table["latest version"], strict=True))


def test_the_solutions_table_follows_a_training_until_it_is_active(shop, monkeypatch):
    arn = shop.result.solutions[UP]
    solutions.train(shop.p, arn)
    at = open_page(monkeypatch, shop, "pages/training.py")
    assert not at.exception, at.exception
    # The small shop trains in seconds: the page may already see it ACTIVE, when there is nothing to follow.
    if latest_versions(at)["pts-shop-user-personalization"] in solutions.TRAINING_STATUSES:
        assert at.session_state[SETTLING] is True  # the table reruns on its own while it trains
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=60)
    at.run()
    assert latest_versions(at)["pts-shop-user-personalization"] == "ACTIVE"
    assert SETTLING not in at.session_state or at.session_state[SETTLING] is False  # settled: no more reruns
