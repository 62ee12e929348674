"""Compare page (AppTest): item-to-item recipes ranked apart from user recipes, a warning when the
compared versions trained on different data, a history chart that starts on a solution with history,
and a first use that says what to do before anyone presses a button that can only fail."""

from __future__ import annotations

import pytest

from tests.support.engine_shop import settle
from tests.support.shops import open_page, small_shop, texts

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-compare-guard"), "pguard-shop") as s:
        yield s


def test_first_use_ranks_kinds_apart_and_says_what_to_do(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/compare.py")
    headline = at.success[0].value
    assert "leads on NDCG@25" in headline and "similar-items" not in headline
    assert any("aws-similar-items" in i.value and "Ranked apart from user recipes" in i.value for i in at.info)
    # All versions trained together on the same data: no warning.
    assert not any("trained on different data" in w.value for w in at.warning)
    # Nothing imported after the versions: the page says so and the button waits.
    assert any("Nothing to measure against yet" in i.value and "INCREMENTAL" in i.value for i in at.info)
    assert next(b for b in at.button if "Compute the dashboard" in b.label).disabled


def test_versions_trained_on_different_data_are_flagged(shop, monkeypatch):
    _, later = shop.plan.phases()
    with monkeypatch.context() as mp:
        mp.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
        assert shop.import_frame(later, "pguard-later") == "ACTIVE"
    solution = shop.p.describe_campaign(campaignArn=shop.result.campaigns[UP])["campaign"]["solutionVersionArn"]
    solution_arn = shop.p.describe_solution_version(solutionVersionArn=solution)["solutionVersion"]["solutionArn"]
    version = shop.p.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
    settle(lambda: shop.p.describe_solution_version(solutionVersionArn=version), "solutionVersion")

    at = open_page(monkeypatch, shop, "pages/compare.py")
    warning = next(w.value for w in at.warning if "trained on different data" in w.value)
    initial, _ = shop.plan.phases()
    assert f"{len(initial):,} interactions (1 import)" in warning
    assert f"{len(initial) + len(later):,} interactions (2 imports)" in warning
    # The history chart opens on the solution that has more than one version.
    assert at.selectbox(key="history_solution").value.endswith("user-personalization")
    assert not any("One version so far" in c.value for c in at.caption), texts(at)
