"""Recipe comparison against the popularity baseline: hand-checked tables and sentences."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from services.core.resources import arn_name as recipe_name
from services.models.metric_table import (
    METRICS,
    compare,
    metric_history,
    tidy_metrics,
    to_csv_bytes,
    winner_summaries,
    winner_summary,
)

NDCG = "normalized_discounted_cumulative_gain_at_25"
AWS_METRIC_KEYS = {
    "coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5", "precision_at_10", "precision_at_25",
}


def _row(solution, recipe, arn, day, ndcg, coverage, **extra):
    return {
        "solution_name": solution,
        "recipe_name": recipe,
        "solution_version_arn": arn,
        "created": datetime(2024, 1, day, tzinfo=UTC),
        "metrics": {NDCG: ndcg, "coverage": coverage, **extra},
    }


ROWS = [
    _row("pop", "arn:aws:personalize:::recipe/aws-popularity-count", "pop-v1", 1, 0.100, 0.02),
    _row("pop", "aws-popularity-count", "pop-v2", 3, 0.1157, 0.02),
    _row("up", "arn:aws:personalize:::recipe/aws-user-personalization", "up-v1", 2, 0.180, 0.30),
    _row("up", "aws-user-personalization", "up-v2", 4, 0.214, 0.40),
    _row("sims", "aws-similar-items", "sims-v1", 4, 0.150, 0.40),
]


def _value(table: pd.DataFrame, arn: str, metric: str, column: str):
    return table.loc[(table.solution_version_arn == arn) & (table.metric == metric), column].item()


def test_metric_constants_cover_what_aws_returns():
    assert set(METRICS) == AWS_METRIC_KEYS
    assert all("higher is better" in m.description.lower() for m in METRICS.values())


def test_tidy_table_and_recipe_names():
    assert recipe_name("arn:aws:personalize:::recipe/aws-sims") == "aws-sims"
    tidy = tidy_metrics(ROWS)
    assert len(tidy) == 10
    assert set(tidy.recipe) == {"aws-popularity-count", "aws-user-personalization", "aws-similar-items"}
    assert set(tidy.metric_name) == {"NDCG@25", "Coverage"}


def test_best_marked_and_change_against_newest_popularity():
    comparison = compare(ROWS)
    table = comparison.table
    assert comparison.baseline_arn == "pop-v2"  # the newer of the two popularity versions
    assert _value(table, "up-v2", NDCG, "is_best")
    assert not _value(table, "up-v1", NDCG, "is_best")
    # Coverage 0.40 for both; each is the best of its kind (user recipes and item-to-item are ranked apart).
    assert _value(table, "up-v2", "coverage", "is_best") and _value(table, "sims-v1", "coverage", "is_best")
    assert _value(table, "sims-v1", NDCG, "is_best")  # the only item-to-item recipe
    assert math.isnan(_value(table, "sims-v1", NDCG, "change_vs_baseline_pct"))  # popularity is no floor for it
    assert _value(table, "up-v2", NDCG, "change_vs_baseline_pct") == pytest.approx((0.214 / 0.1157 - 1) * 100)
    assert _value(table, "pop-v2", NDCG, "change_vs_baseline_pct") == 0.0
    assert _value(table, "up-v1", "coverage", "change_vs_baseline_pct") == pytest.approx(1400.0)
    assert winner_summary(comparison) == (
        "aws-user-personalization (up) leads on NDCG@25: 0.214, +85% over popularity-count."
    )


def test_explicit_baseline_and_missing_baseline():
    comparison = compare(ROWS, baseline_arn="pop-v1")
    assert _value(comparison.table, "up-v2", NDCG, "change_vs_baseline_pct") == pytest.approx(114.0)
    with pytest.raises(ValueError):
        compare(ROWS, baseline_arn="nope")
    without = compare([r for r in ROWS if r["solution_name"] != "pop"])
    assert without.baseline_arn is None
    assert "No aws-popularity-count version" in without.baseline_note
    assert without.table["change_vs_baseline_pct"].isna().all()
    assert winner_summary(without).endswith("(no aws-popularity-count version to compare with).")


def test_zero_baseline_gives_undefined_change():
    rows = [_row("pop", "aws-popularity-count", "p", 1, 0.0, 0.0),
            _row("up", "aws-user-personalization", "s", 2, 0.2, 0.0)]
    table = compare(rows).table
    assert math.isnan(_value(table, "s", NDCG, "change_vs_baseline_pct"))
    assert _value(table, "s", "coverage", "change_vs_baseline_pct") == 0.0
    assert winner_summary(compare(rows)) == (
        "aws-user-personalization leads on NDCG@25: 0.200, popularity-count scores 0.000.")


def test_popularity_winning_and_no_noise_verdict_without_intervals():
    rows = [_row("pop", "aws-popularity-count", "p", 1, 0.20, 0.1),
            _row("up", "aws-user-personalization", "s", 2, 0.12, 0.1)]
    assert winner_summary(compare(rows)).startswith(
        "aws-popularity-count leads on NDCG@25: 0.200 — no recipe beats the aws-popularity-count baseline"
    )
    close = [_row("pop", "aws-popularity-count", "p", 1, 0.10, 0.1),
             _row("a", "aws-user-personalization", "a", 2, 0.210, 0.1),
             _row("b", "aws-user-personalization-v2", "b", 2, 0.200, 0.1)]
    text = winner_summary(compare(close))
    assert text.startswith("aws-user-personalization leads on NDCG@25: 0.210, +110% over popularity-count")
    # One number per version gives no interval: the headline makes no noise claim from a fixed margin
    # (services.models.noise decides that where per-user values exist).
    assert "noise" not in text
    assert winner_summary(compare(close), metric="precision_at_5") == "No user recipe version reports Precision@5."


def test_item_to_item_recipes_are_ranked_apart_from_user_recipes():
    # similar-items scores higher, but it answers "items like this item": it must not head the user ranking.
    rows = [_row("pop", "aws-popularity-count", "p", 1, 0.10, 0.1),
            _row("up", "aws-user-personalization", "u", 2, 0.15, 0.3),
            _row("sims", "aws-similar-items", "s", 2, 0.30, 0.5)]
    first, second = winner_summaries(compare(rows))
    assert first == "aws-user-personalization leads on NDCG@25: 0.150, +50% over popularity-count."
    assert second.startswith("aws-similar-items (sims) scores NDCG@25 0.300. Ranked apart from user recipes")


def test_metric_history_oldest_first():
    history = metric_history(compare(ROWS), "up")
    assert list(history.solution_version_arn) == ["up-v1", "up-v1", "up-v2", "up-v2"]
    assert list(history.metric) == [NDCG, "coverage", NDCG, "coverage"]  # page order within a version
    assert list(metric_history(ROWS, "up").value) == list(history.value)


def test_csv_round_trip_and_wide_table():
    comparison = compare(ROWS)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(comparison.table)))
    assert len(back) == len(comparison.table)
    assert back.loc[(back.solution_version_arn == "up-v2") & (back.metric == NDCG), "value"].item() == 0.214
    assert comparison.to_csv() == to_csv_bytes(comparison.table)
    wide = comparison.wide()
    assert list(wide.columns[-2:]) == ["NDCG@25", "Coverage"]
    assert wide.solution_version_arn.iloc[0] == "up-v2"  # best NDCG@25 first
    assert compare([]).table.empty
