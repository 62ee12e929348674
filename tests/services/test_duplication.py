"""Duplication report: hand-checked small cases, and the fast paths against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from services.recommendations import duplication as dup
from services.recommendations import list_metrics
from services.recommendations.duplication import (
    COLD_START,
    REMEDY_NEWEST_VERSION,
    REMEDY_PUT_EVENTS,
    duplication_report,
    history_cohorts,
    shared_items,
    top_popular_items,
)
from services.recommendations.list_metrics import mean_pairwise_cosine, mean_pairwise_jaccard, recommendation_matrix

# A = {a,b,c}, B = {a,b,d}, C = {e,f,g}: J(A,B) = 2/4, others 0 -> mean 1/6;
# cos(A,B) = 2/3, others 0 -> mean 2/9 -> personalization 7/9.
THREE = {"A": ["a", "b", "c"], "B": ["a", "b", "d"], "C": ["e", "f", "g"]}


def _brute(lists: list[list[str]]) -> tuple[float, float]:
    """Mean pairwise Jaccard and cosine, pair by pair, with sets (the reference)."""
    sets = [set(x) for x in lists]
    jac, cos = [], []
    for a, b in itertools.combinations(sets, 2):
        inter = len(a & b)
        jac.append(inter / len(a | b))
        cos.append(inter / np.sqrt(len(a) * len(b)))
    return float(np.mean(jac)), float(np.mean(cos))


def _random_lists(n: int, n_items: int, seed: int, sizes: tuple[int, int] = (3, 8)) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_items + 1)
    p /= p.sum()
    return [
        [f"i{j}" for j in rng.choice(n_items, rng.integers(*sizes), replace=False, p=p)] for _ in range(n)
    ]


def test_hand_checked_three_users():
    report = duplication_report(THREE, catalogue_size=14)
    m = report.overall
    assert m.mean_jaccard == pytest.approx(1 / 6)
    assert m.mean_jaccard_exact
    assert m.personalization == pytest.approx(7 / 9)
    assert m.same_list_share == 0.0  # every list differs: there is no common list
    assert m.most_common_list == ()
    assert m.distinct_items == 7
    assert m.catalog_coverage == pytest.approx(0.5)
    assert m.top_popular_slot_share is None  # no popularity given
    assert report.level == "ok"
    assert report.remedies == []
    assert "personal" in report.verdict


def test_identical_lists_are_critical_and_order_does_not_matter():
    lists = {"u1": ["a", "b", "c"], "u2": ["c", "b", "a"], "u3": ["a", "b", "c"], "u4": ["b", "a", "c"]}
    report = duplication_report(lists)
    m = report.overall
    assert m.mean_jaccard == pytest.approx(1.0)
    assert m.personalization == pytest.approx(0.0)
    assert m.same_list_share == 1.0
    assert m.most_common_list == ("a", "b", "c")  # rank order of the first user holding it
    assert report.level == "critical"
    assert report.verdict == (
        "Duplication: 100% of users get the same top 3 — most likely the popularity fallback."
    )


def test_input_shapes_agree():
    frame = pd.DataFrame(
        [(u, r, item) for u, items in THREE.items() for r, item in enumerate(items, start=1)],
        columns=["user_id", "rank", "item_id"],
    ).sample(frac=1.0, random_state=3)  # shuffled: rank must restore the order
    from_frame = recommendation_matrix(frame)
    assert list(from_frame.user_ids) == list(frame["user_id"].drop_duplicates())
    for user in THREE:
        row = list(from_frame.user_ids).index(user)
        assert from_frame.list_of(row) == THREE[user]
    figures = []
    index = np.array([[0, 1, 2], [0, 1, 3], [4, 5, 6]])
    for recs in (THREE, list(THREE.values()), frame, index):
        m = duplication_report(recs).overall
        figures.append((m.mean_jaccard, m.personalization, m.same_list_share, m.distinct_items))
    assert all(f == pytest.approx(figures[0]) for f in figures)


def test_k_truncates_and_repeats_count_once():
    rm = recommendation_matrix({"u": ["a", "a", "b", "c", "d"]}, k=3)
    assert rm.k == 3
    assert rm.list_of(0) == ["a", "b"]  # first 3 slots are a, a, b
    assert rm.matrix.nnz == 2
    padded = recommendation_matrix(np.array([[5, -1, 7], [-1, -1, -1]]))
    assert padded.list_of(0) == [5, 7]
    assert padded.list_of(1) == []


def test_empty_lists_are_counted_but_left_out_of_pairs():
    m = duplication_report({"a": ["x", "y"], "b": ["x", "y"], "c": []}).overall
    assert m.n_users == 2 and m.n_empty == 1
    assert m.mean_jaccard == pytest.approx(1.0)
    assert m.same_list_share == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_figures_match_brute_force(seed, monkeypatch):
    lists = _random_lists(60, 30, seed)
    jac, cos = _brute(lists)
    x = recommendation_matrix(lists).matrix
    assert mean_pairwise_cosine(x) == pytest.approx(cos, rel=1e-9)
    # Small blocks force the block-by-block upper-triangle walk across many boundaries.
    monkeypatch.setattr(list_metrics, "_BLOCK_ENTRIES", 37)
    estimate = mean_pairwise_jaccard(x)
    assert estimate.exact
    assert estimate.value == pytest.approx(jac, rel=1e-9)


def test_grouping_identical_lists_keeps_jaccard_exact():
    base = _random_lists(15, 12, seed=4)
    lists = base * 4 + [list(reversed(x)) for x in base]  # many users share lists, in any order
    jac, _ = _brute(lists)
    x = recommendation_matrix(lists).matrix
    assert list_metrics.distinct_lists(x).first_row.shape[0] <= 15
    assert mean_pairwise_jaccard(x).value == pytest.approx(jac, rel=1e-9)


def test_sampled_jaccard_is_close_and_says_so():
    lists = _random_lists(300, 80, seed=5)
    jac, _ = _brute(lists)
    x = recommendation_matrix(lists).matrix
    estimate = mean_pairwise_jaccard(x, exact_max_distinct=10, sample_pairs=50_000, seed=1)
    assert not estimate.exact
    assert 0 < estimate.stderr < 0.01
    assert abs(estimate.value - jac) < 5 * estimate.stderr


def test_history_cohorts_bounds():
    labels = history_cohorts(np.array([0, 1, 2, 3, 9, 10, 250]))
    assert labels.tolist() == ["none", "1–2", "1–2", "3–9", "3–9", "10+", "10+"]


def test_top_popular_slot_share_hand_checked():
    popularity = pd.Series({f"i{j}": 1000 - j for j in range(200)})  # top 1% of 200 = i0, i1
    assert list(top_popular_items(popularity)) == ["i0", "i1"]
    lists = {"u1": ["i0", "i1", "i5", "i6"], "u2": ["i0", "i7", "i8", "i9"]}
    m = duplication_report(lists, item_popularity=popularity).overall
    assert m.top_popular_slot_share == pytest.approx(3 / 8)
    # With a larger known catalogue the top 1% grows: 1% of 300 = 3 items (i0, i1, i2).
    assert len(top_popular_items(popularity, catalogue_size=300)) == 3


def _cold_start_case() -> tuple[dict[str, list[str]], dict[str, int], pd.Series]:
    popular = ["p1", "p2", "p3", "p4"]
    popularity = pd.Series({"p1": 90, "p2": 80, "p3": 70, "p4": 60, **{f"x{j}": 5 for j in range(40)}})
    lists: dict[str, list[str]] = {}
    history: dict[str, int] = {}
    for j in range(12):  # cold users: all but one get the popular list
        lists[f"new{j}"] = popular if j else ["x0", "x1", "x2", "x3"]
        history[f"new{j}"] = j % 3  # 0, 1, 2 (users with 0 are also absent below)
    for j in range(8):  # users with history: personal lists
        lists[f"old{j}"] = [f"x{4 * j + t}" for t in range(4)]
        history[f"old{j}"] = 15
    history = {u: n for u, n in history.items() if n}  # value_counts has no row for users with none
    return lists, history, popularity


def test_cold_start_verdict_and_cohorts():
    lists, history, popularity = _cold_start_case()
    report = duplication_report(lists, history_lengths=history, item_popularity=popularity, k=4)
    assert set(report.cohorts) == {"none", "1–2", "10+", COLD_START}
    cold = report.cohorts[COLD_START]
    assert cold.n_users == 12
    assert cold.same_list_share == pytest.approx(11 / 12)
    assert cold.most_common_is_popularity is True
    assert report.cohorts["none"].n_users == 4  # the users missing from history count as 0
    assert report.cohorts["10+"].level == "ok"
    assert report.level == "critical"
    assert report.verdict == (
        "Cold-start duplication: 92% of users with ≤2 interactions get the same top 4 — "
        "the model falls back to popularity."
    )
    assert report.remedies[0] == REMEDY_PUT_EVENTS
    assert REMEDY_NEWEST_VERSION in report.remedies
    frame = report.to_frame()
    assert list(frame["group"]) == ["all", "none", "1–2", "10+", COLD_START]


def test_duplication_for_experienced_users_points_at_the_campaign():
    lists = {f"u{j}": ["a", "b", "c"] for j in range(10)}
    history = {f"u{j}": 20 for j in range(10)}
    report = duplication_report(lists, history_lengths=history)
    assert report.level == "critical"
    assert report.verdict.startswith("Duplication beyond cold start: 100% of users with 10 or more")
    assert report.remedies[0] == REMEDY_NEWEST_VERSION


def test_warning_level_from_partial_overlap():
    # Every pair shares 2 of 3 items (J = 2/4 = 0.5): no identical lists, but well above 0.3.
    lists = {f"u{j}": ["a", "b", f"own{j}"] for j in range(6)}
    m = duplication_report(lists).overall
    assert m.same_list_share == 0.0
    assert m.mean_jaccard == pytest.approx(0.5)
    assert m.level == "warning"


def test_too_few_users_are_not_judged():
    report = duplication_report({"a": ["x"], "b": ["x"]})
    assert not report.overall.judged
    assert report.level == "ok"
    assert "Too few users" in report.verdict


def test_overlap_sample_is_bounded_symmetric_and_grouped_by_cohort():
    lists, history, _ = _cold_start_case()
    report = duplication_report(lists, history_lengths=history, heatmap_users=9, seed=2)
    overlap = report.overlap
    assert overlap.shape == (9, 9)
    assert list(overlap.index) == list(overlap.columns)
    values = overlap.to_numpy()
    assert np.allclose(values, values.T)
    assert np.allclose(np.diag(values), 1.0)
    order = {name: i for i, name in enumerate(dup.COHORTS)}
    codes = [order[c] for c in report.overlap_cohorts]
    assert codes == sorted(codes)
    assert set(report.overlap_cohorts) == {"none", "1–2", "10+"}  # round-robin reaches every cohort
    u, v = overlap.index[0], overlap.index[-1]
    expected = len(set(lists[u]) & set(lists[v])) / len(set(lists[u]) | set(lists[v]))
    assert overlap.loc[u, v] == pytest.approx(expected)


def test_shared_items():
    lists = [["a", "b", "c"], ["a", "b", "d"], ["a", "e", "f"], ["g", "a", "a"]]
    assert shared_items(lists) == {"a", "b"}  # a in 4/4, b in 2/4
    assert shared_items(lists, min_share=0.75) == {"a"}
    assert shared_items([]) == set()
