"""services.models.comparison against the engine: Personalize's metrics, and the dashboard's forward hold-out."""

from __future__ import annotations

import pytest

from services.models import comparison as compare
from services.models.metric_table import winner_summary
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("compare"), "cmp-shop") as s:
        yield s


@pytest.fixture
def data_dir(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))


def test_reported_metrics_with_the_popularity_baseline(shop):
    versions = compare.active_versions(shop.p, shop.result.dataset_group_arn)
    assert versions["newest"].all() and len(versions) == 3
    cmp = compare.comparison(shop.p, versions)
    assert cmp.baseline_arn == shop.result.versions["aws-popularity-count"]
    assert "over popularity-count" in winner_summary(cmp) or "no recipe beats" in winner_summary(cmp)
    assert cmp.table.groupby("metric")["is_best"].any().all()


def test_own_metrics_need_interactions_none_of_the_versions_saw(shop, data_dir):
    versions = compare.active_versions(shop.p, shop.result.dataset_group_arn)
    own = compare.own_metrics(shop.p, shop.result.dataset_group_arn, versions)
    assert not own.available
    assert "No interactions were imported after" in own.notes[0]


def test_own_metrics_on_the_forward_hold_out(shop, data_dir):
    versions = compare.active_versions(shop.p, shop.result.dataset_group_arn)
    _, later = shop.plan.phases()
    assert shop.import_frame(later, "cmp-later") == "ACTIVE"
    own = compare.own_metrics(shop.p, shop.result.dataset_group_arn, versions, k=25, max_users=120)
    assert own.available and 0 < own.users <= 120 and own.truth_events > 0
    wide = own.table.pivot_table(index="recipe", columns="metric", values="value")
    assert set(wide.columns) == {"recall_at_k", "hit_rate_at_k", "novelty", "personalization",
                                 "catalog_coverage"}
    assert ((wide[["recall_at_k", "hit_rate_at_k", "catalog_coverage"]] >= 0)
            & (wide[["recall_at_k", "hit_rate_at_k", "catalog_coverage"]] <= 1)).all().all()
    # popularity gives everyone the same list; a personalised recipe does not
    assert wide.loc["aws-popularity-count", "personalization"] < wide.loc["aws-user-personalization",
                                                                           "personalization"]
    assert "computed by this dashboard" in compare.winner_by_metric(own)
    # the same question again gives the same answer (a seeded sample, deterministic models)
    again = compare.own_metrics(shop.p, shop.result.dataset_group_arn, versions, k=25, max_users=120)
    assert again.table["value"].round(9).tolist() == own.table["value"].round(9).tolist()
