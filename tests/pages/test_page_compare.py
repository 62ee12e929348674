"""Compare page (AppTest): the one-sentence answer, the marked table, the chart, CSV, own metrics."""

from __future__ import annotations

import json

import pytest

from tests.support.shops import open_page, small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-compare"), "pcmp-shop") as s:
        yield s


def test_answer_table_chart_and_csv(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/compare.py")
    answer = at.success[0].value
    assert "leads on NDCG@25" in answer and "popularity-count" in answer
    table = at.dataframe[0].value
    assert set(table["recipe"]) == {"aws-popularity-count", "aws-user-personalization", "aws-similar-items"}
    assert table["NDCG@25"].str.contains("★").any()
    assert table["NDCG@25"].str.contains("%").any()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["barmode"] == "group" and len(spec["data"]) == 3
    assert len(at.get("download_button")) >= 1


def test_dashboard_metrics_are_labelled_and_apart(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/compare.py")
    _, later = shop.plan.phases()
    with monkeypatch.context() as mp:
        mp.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
        assert shop.import_frame(later, "pcmp-later") == "ACTIVE"
    at.run()  # the page looks for held-out data on each run: the button is enabled once there is some
    at.button[-1].click().run(timeout=120)
    assert not at.exception, at.exception
    assert any("computed by this dashboard" in s.value for s in at.success)
    own = at.dataframe[-1].value
    assert {"Recall@25", "Hit rate@25", "Personalization"} <= set(own.columns)
    assert any("Computed by this dashboard" in c.value for c in at.caption)
