"""The impact statistics against scipy on known cases, and the attribution window on a hand-made log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from services.evaluation.impact import attribute, compare, impact_table, wilson_interval


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (50, 100), (1234, 40_000), (40_000, 40_000)])
def test_wilson_interval_matches_scipy(k, n):
    low, high = wilson_interval(k, n, 0.95)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert float(low) == pytest.approx(ci.low, abs=1e-12)
    assert float(high) == pytest.approx(ci.high, abs=1e-12)


def test_wilson_interval_without_trials_is_unknown():
    low, high = wilson_interval(np.array([0]), np.array([0]))
    assert np.isnan(low[0]) and np.isnan(high[0])


@pytest.mark.parametrize("a, b", [((120, 4000), (160, 4000)), ((30, 1000), (31, 1000)), ((5, 200), (20, 180))])
def test_two_proportion_test_matches_scipys_chi_square(a, b):
    result = compare(a[0], a[1], b[0], b[1])
    table = [[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]]
    _, p, _, _ = stats.chi2_contingency(table, correction=False)  # the same test, squared
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.lift == pytest.approx((b[0] / b[1]) / (a[0] / a[1]) - 1)
    assert result.lift_low < result.lift < result.lift_high


def test_a_clear_difference_gets_a_verdict_and_a_tie_does_not():
    clear = compare(100, 10_000, 200, 10_000, "popularity", "personalized")
    assert clear.significant and "personalized earns more clicks" in clear.verdict("popularity", "personalized")
    tie = compare(100, 10_000, 101, 10_000)
    assert not tie.significant and "No significant difference" in tie.verdict("A", "B")


def _log(rows):
    cols = ["time", "visit", "user_id", "campaign_arn", "recommendation_id", "event_type", "item_id", "position",
            "price"]
    return pd.DataFrame(rows, columns=cols)


def test_clicks_count_only_after_an_impression_of_that_item_within_the_window():
    log = _log([
        (0, 0, "u1", "A", "r1", "impression", "i1", 0, 10.0),
        (0, 0, "u1", "A", "r1", "impression", "i2", 1, 20.0),
        (0, 1, "u2", "B", "r2", "impression", "i1", 0, 10.0),
        (30, 0, "u1", "A", "r1", "click", "i1", 0, 10.0),        # A's: shown to u1 30 s before
        (40, 0, "u1", "A", "r1", "click", "i9", 0, 99.0),        # never shown: unattributed
        (60, 0, "u1", "A", "r1", "purchase", "i1", 0, 10.0),     # A's revenue
        (5_000, 1, "u2", "B", "r2", "click", "i1", 0, 10.0),     # shown 5,000 s before: outside 30 min
        (-10, 1, "u2", "B", "r2", "click", "i1", 0, 10.0),       # before the impression: not caused by it
    ])
    acted = attribute(log, window_s=1800)
    assert acted["source_campaign"].isna().sum() == 3
    table = impact_table(log, window_s=1800).set_index("campaign")
    counted = ["lists", "impressions", "clicks", "purchases", "converted_lists"]
    assert table.loc["A", counted].tolist() == [1, 2, 1, 1, 1]
    assert table.loc["A", "revenue"] == 10.0
    assert table.loc["B", ["impressions", "clicks"]].tolist() == [1, 0]
    assert table.loc["A", "unattributed_clicks"] == 3
    low, high = wilson_interval(1, 2)
    assert table.loc["A", "click_through_low"] == pytest.approx(float(low))
    assert table.loc["A", "click_through_high"] == pytest.approx(float(high))
