"""*Train* is billable: it asks once, states the cost, and reports success (AppTest, real engine)."""

from __future__ import annotations

import pytest

from services.models import solutions
from tests.support.shops import open_page, small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-train-confirm"), "ptconfirm-shop") as s:
        yield s


def _versions(shop, solution: str) -> int:
    return len(shop.p.list_solution_versions(solutionArn=solution)["solutionVersions"])


def test_train_asks_once_with_the_cost_then_reports_success(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    solution = shop.result.solutions["aws-user-personalization"]
    at.selectbox(key="training_solution").set_value(solution).run()
    before = _versions(shop, solution)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    assert any("billed per training hour" in w.value and "FULL" in w.value for w in at.warning)
    assert _versions(shop, solution) == before  # nothing trains before the Confirm

    at.button(key="train_button-confirm").click().run()
    assert not at.exception
    assert _versions(shop, solution) == before + 1
    assert any("Training of" in s.value and "started" in s.value for s in at.success)
    at.run()  # the versions table's own rerun must not swallow the report
    assert any("Training of" in s.value for s in at.success)
    assert not [w for w in at.warning if "billed per training hour" in w.value and "FULL" in w.value]


def test_cancel_trains_nothing(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    solution = shop.result.solutions["aws-user-personalization"]
    at.selectbox(key="training_solution").set_value(solution).run()
    before = _versions(shop, solution)
    next(b for b in at.button if b.label == "Train").click().run()
    at.button(key="train_button-cancel").click().run()
    assert not at.exception
    assert _versions(shop, solution) == before
    assert solutions.TRAINING_MODES
