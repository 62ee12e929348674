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
    # Metrics as rows (human names, a short help each), one column per version: it fits a laptop screen.
    table = at.dataframe[0].value.set_index("Metric")
    versions = [c for c in table.columns if c != "What it measures"]
    assert set(table.loc["Recipe", versions]) == {"aws-popularity-count", "aws-user-personalization",
                                                  "aws-similar-items"}
    assert set(versions) == {"popularity-count", "user-personalization", "similar-items"}  # "pcmp-shop-" once
    assert any("without the “pcmp-shop-” they all start with" in c.value for c in at.caption)
    assert list(table.index[3:]) == ["NDCG@25", "NDCG@10", "NDCG@5", "MRR@25", "Precision@5", "Precision@10",
                                     "Precision@25", "Coverage"]
    assert table.loc["NDCG@25", "What it measures"] and table.loc["Coverage", "What it measures"]
    ndcg = table.loc["NDCG@25", versions]
    assert ndcg.str.contains("★").any() and ndcg.str.contains("%").any()
    # The numbers keep their formatting: four decimals, as GetSolutionMetrics reports them.
    reported = shop.p.get_solution_metrics(solutionVersionArn=shop.result.versions["aws-popularity-count"])
    assert table.loc["NDCG@25", "popularity-count"] == (
        f"{reported['metrics']['normalized_discounted_cumulative_gain_at_25']:.4f}")
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
