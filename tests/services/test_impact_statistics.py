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


def test_revenue_per_visit_has_a_normal_interval_computed_by_hand():
    rows = []
    for i in range(4):  # campaign A: 4 lists of one item each; lists 0 and 1 sell (10 + 20, and 5)
        rows.append((0, i, f"u{i}", "A", f"a{i}", "impression", f"i{i}", 0, 10.0))
    rows += [(10, 0, "u0", "A", "a0", "purchase", "i0", 0, 10.0), (11, 0, "u0", "A", "a0", "impression", "j0", 1, 20.0),
             (12, 0, "u0", "A", "a0", "purchase", "j0", 1, 20.0), (13, 1, "u1", "A", "a1", "purchase", "i1", 0, 5.0),
             (14, 2, "u2", "A", "a2", "purchase", "zz", 0, 99.0)]  # never shown: not A's revenue
    rows.append((0, 9, "u9", "B", "b0", "impression", "i9", 0, 10.0))  # B: one list, no spread
    table = impact_table(_log(rows)).set_index("campaign")
    per_visit = np.array([30.0, 5.0, 0.0, 0.0])
    mean, sem = per_visit.mean(), per_visit.std(ddof=1) / np.sqrt(4)
    low, high = stats.norm.interval(0.95, loc=mean, scale=sem)
    assert low < 0  # four visits: the normal interval reaches below zero, and the table clips it
    low = 0.0
    assert table.loc["A", "revenue"] == 35.0 and table.loc["A", "lists"] == 4
    assert table.loc["A", "revenue_per_visit"] == pytest.approx(8.75)
    assert table.loc["A", "revenue_per_visit_low"] == pytest.approx(low)
    assert table.loc["A", "revenue_per_visit_high"] == pytest.approx(high)
    assert table.loc["A", "revenue_low"] == pytest.approx(4 * low)
    assert table.loc["A", "revenue_high"] == pytest.approx(4 * high)
    assert table.loc["B", "revenue_per_visit"] == 0.0 and np.isnan(table.loc["B", "revenue_per_visit_low"])


def test_revenue_interval_on_many_visits_matches_scipy_unclipped():
    rng = np.random.default_rng(7)
    earned = np.where(rng.random(500) < 0.1, rng.uniform(5, 50, 500), 0.0)
    rows = [(0, i, f"u{i}", "A", f"r{i}", "impression", f"i{i}", 0, float(e)) for i, e in enumerate(earned)]
    rows += [(5, i, f"u{i}", "A", f"r{i}", "purchase", f"i{i}", 0, float(e)) for i, e in enumerate(earned) if e]
    table = impact_table(_log(rows)).set_index("campaign")
    low, high = stats.norm.interval(0.95, loc=earned.mean(), scale=stats.sem(earned))
    assert low > 0
    assert table.loc["A", "revenue_per_visit_low"] == pytest.approx(low)
    assert table.loc["A", "revenue_per_visit_high"] == pytest.approx(high)
    assert table.loc["A", "revenue"] == pytest.approx(earned.sum())
