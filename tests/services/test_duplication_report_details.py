"""The duplication report's details that the main tests pass over: the advice's figures, ties in
popularity, the defaults a page relies on, a baseline recipe, cohorts of users with no list, the exact
thresholds, and reproducible figures when the mean Jaccard is sampled."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from services.recommendations import duplication as dup
from services.recommendations.list_metrics import EXACT_MAX_DISTINCT_LISTS, recommendation_matrix


def test_the_wait_advice_counts_users_with_history_and_the_thin_ones():
    assert dup.remedy_wait(None) == dup.REMEDY_WAIT
    assert dup.remedy_wait({}) == dup.REMEDY_WAIT
    assert dup.remedy_wait({"u0": 0}) == dup.REMEDY_WAIT  # nobody with any history: no figures to give
    text = dup.remedy_wait({"a": 1, "b": 2, "c": 3, "d": 0})
    assert text == (
        "Wait for more interactions and retrain: the data holds 6 interactions over 3 users with any "
        "history, and 67% of them have only one or two, too little for a model to tell them apart from "
        "the popular items."
    )
    assert "1 users with any history, and 100%" in dup.remedy_wait(pd.Series({"a": 1}))


def test_ties_in_popularity_keep_the_order_given():
    # 50 items, the last ten more popular than the rest, the rest all tied: the top 1% of a 1,000-item
    # catalogue is 10 items, and the first of the tied items come in the order they were given.
    popularity = pd.Series([1] * 40 + [2] * 10, index=[f"i{i}" for i in range(50)])
    assert list(dup.top_popular_items(popularity, catalogue_size=1500)) == [f"i{i}" for i in range(40, 50)] + [
        "i0", "i1", "i2", "i3", "i4"]
    assert list(dup.top_popular_items(popularity)) == ["i40"]  # 1% of the 50 given, at least one


def test_the_popularity_check_uses_the_popular_items_in_order_with_ties():
    popularity = pd.Series([1] * 40 + [2] * 10, index=[f"i{i}" for i in range(50)])
    lists = [[f"i{i}" for i in range(40, 50)]] * 3 + [["i0", "i1"]]
    report = dup.duplication_report(lists, item_popularity=popularity)
    assert report.overall.most_common_is_popularity is True
    k12 = [[f"i{i}" for i in range(40, 50)] + ["i0", "i1"]] * 3
    assert dup.duplication_report(k12, item_popularity=popularity).overall.most_common_is_popularity is True


def test_a_top_one_list_is_measured_like_any_other():
    popularity = pd.Series({"a": 9, "b": 5, "c": 1})
    report = dup.duplication_report([["a"], ["a"], ["a"], ["b"]], item_popularity=popularity)
    assert report.k == 1 and report.overall.k == 1
    assert report.overall.n_users == 4 and report.overall.n_empty == 0
    assert report.overall.same_list_share == 0.75 and report.overall.most_common_list == ("a",)
    assert report.overall.most_common_is_popularity is True


def test_no_popularity_figures_without_any_popularity():
    report = dup.duplication_report([["a"], ["a"], ["a"]], item_popularity=pd.Series(dtype="int64"))
    assert report.overall.most_common_is_popularity is None
    assert report.overall.top_popular_slot_share is None


def test_the_popularity_match_is_a_jaccard_of_at_least_one_half():
    lists = [["a", "b", "c"]] * 3
    half = pd.Series({"a": 9, "b": 8, "d": 7, "c": 1, "e": 0})  # popular top 3 {a, b, d}: J = 2/4
    assert dup.duplication_report(lists, item_popularity=half).overall.most_common_is_popularity is True
    fifth = pd.Series({"a": 9, "d": 8, "e": 7, "b": 1, "c": 0})  # {a, d, e}: J = 1/5
    report = dup.duplication_report(lists, item_popularity=fifth)
    assert report.overall.most_common_is_popularity is False
    assert "it is not simply the most popular items" in report.verdict


def test_the_catalogue_size_sets_how_many_items_are_the_top_one_percent():
    popularity = pd.Series({f"i{i}": 100 - i for i in range(100)})
    lists = [["i0", "i5"], ["i1", "i6"], ["i2", "i7"]]
    small = dup.duplication_report(lists, item_popularity=popularity)  # top 1% of 100 items: i0
    large = dup.duplication_report(lists, item_popularity=popularity, catalogue_size=1000)  # i0..i9
    assert small.overall.top_popular_slot_share == pytest.approx(1 / 6)
    assert large.overall.top_popular_slot_share == 1.0
    assert large.overall.catalog_coverage == 6 / 1000


def test_defaults_a_page_relies_on():
    lists = {f"u{i}": [f"i{i}", f"i{i + 1}", f"i{i + 2}"] for i in range(60)}
    report = dup.duplication_report(lists)
    assert report.campaign == "" and report.history_as_of == "" and report.baseline is False
    assert report.k == 3 and report.overall.k == 3
    assert report.overlap.shape == (50, 50)  # the heatmap's default sample
    assert report.overlap.index.equals(dup.duplication_report(lists, seed=0).overlap.index)
    assert not report.overlap.index.equals(dup.duplication_report(lists, seed=1).overlap.index)
    assert report.overall.mean_jaccard_stderr == 0.0 and report.overall.mean_jaccard_exact


def test_k_cuts_the_lists_and_a_prebuilt_matrix_is_taken_as_it_is():
    lists = [["a", "b", "c", "d"], ["a", "b", "x", "y"], ["a", "b", "z", "w"]]
    cut = dup.duplication_report(lists, k=2)
    assert cut.k == 2 and cut.overall.same_list_share == 1.0 and cut.overall.distinct_items == 2
    matrix = recommendation_matrix(lists, 2)
    assert dup.duplication_report(matrix).overall == cut.overall
    assert dup.duplication_report(recommendation_matrix(lists)).overall.same_list_share == 0.0


def test_a_baseline_recipe_is_labelled_not_judged():
    report = dup.duplication_report([["a", "b"]] * 5, recipe="aws-popularity-count", campaign="floor")
    assert report.baseline is True and report.level == "ok" and report.remedies == []
    assert report.verdict.startswith("Baseline: aws-popularity-count gives every user much the same list")
    assert "100% of users get the same top 2" in report.verdict
    judged = dup.duplication_report([["a", "b"]] * 5, recipe="aws-user-personalization")
    assert judged.baseline is False and judged.level == "critical"


def test_the_cold_start_verdict_names_when_history_was_counted_and_the_wait_figures():
    lists = {f"u{i}": ["a", "b"] for i in range(6)}
    history = {f"u{i}": 1 for i in range(6)}
    report = dup.duplication_report(lists, history_lengths=history, history_as_of="when the story began")
    assert report.history_as_of == "when the story began"
    assert "users with ≤2 interactions when the story began" in report.verdict
    assert dup.remedy_wait(history) in report.remedies and dup.REMEDY_WAIT not in report.remedies


def test_users_missing_from_the_history_count_as_having_none():
    lists = {"u0": ["a"], "u1": ["b"], "u2": ["c"]}
    report = dup.duplication_report(lists, history_lengths=pd.Series({"u2": 12}))
    assert list(report.cohorts) == ["none", "10+", dup.COLD_START]
    assert report.cohorts["none"].n_users == 2
    assert report.overlap_cohorts == ["none", "none", "10+"]


def test_a_cohort_whose_users_got_nothing_has_no_figures_and_no_judgement():
    lists = {"u0": [], "u1": [], "u2": ["a"], "u3": ["b"], "u4": ["c"]}
    report = dup.duplication_report(lists, history_lengths={"u2": 5, "u3": 5, "u4": 5})
    empty = report.cohorts["none"]
    assert empty.n_users == 0 and empty.n_empty == 2
    assert math.isnan(empty.same_list_share) and math.isnan(empty.mean_jaccard)
    assert empty.mean_jaccard_exact is True and empty.mean_jaccard_stderr == 0.0
    assert empty.most_common_list == () and empty.level == "ok" and not empty.judged


def test_the_thresholds_are_inclusive():
    assert dup._level(0.0, dup.CRITICAL_MEAN_JACCARD) == "critical"
    assert dup._level(0.0, dup.WARNING_MEAN_JACCARD) == "warning"
    assert dup._level(dup.CRITICAL_SAME_LIST_SHARE, 0.0) == "critical"
    assert dup._level(dup.WARNING_SAME_LIST_SHARE, 0.0) == "warning"
    assert dup._level(0.19, 0.29) == "ok"


def test_cohort_words():
    assert dup.cohort_words("3–9") == "users with 3–9 interactions"
    assert dup.cohort_words("3–9", "last week") == "users with 3–9 interactions last week"
    assert dup.cohort_words(dup.ALL_USERS, "last week") == "users"
    assert dup.cohort_words("vip") == "users in vip"


def test_a_sampled_mean_jaccard_is_reproducible_for_a_seed():
    rng = np.random.default_rng(7)
    n = EXACT_MAX_DISTINCT_LISTS + 200
    lists = [list(rng.choice(400, 5, replace=False)) for _ in range(n)]
    first = dup.duplication_report(lists, seed=3, heatmap_users=5).overall
    again = dup.duplication_report(lists, seed=3, heatmap_users=5).overall
    assert first.mean_jaccard_exact is False and first.mean_jaccard_stderr > 0
    assert first.mean_jaccard == again.mean_jaccard
    assert first.mean_jaccard != dup.duplication_report(lists, seed=0, heatmap_users=5).overall.mean_jaccard
    assert dup.duplication_report(lists, heatmap_users=5).overall.mean_jaccard == dup.duplication_report(
        lists, seed=0, heatmap_users=5).overall.mean_jaccard


def test_popularity_ties_at_the_cut_are_broken_by_the_order_given():
    # Two items lead, 48 tie: the popular top 5 are the two leaders and the first three tied items.
    popularity = pd.Series([1] * 48 + [2] * 2, index=[f"i{i}" for i in range(50)])
    lists = [["i48", "i49", "i0", "i1", "i2"]] * 3
    assert dup.duplication_report(lists, item_popularity=popularity).overall.most_common_is_popularity is True


def test_a_baseline_without_a_shared_list_is_described_by_its_jaccard():
    report = dup.duplication_report([["a", "b"], ["a", "c"], ["b", "c"]], recipe="aws-trending-now")
    assert report.verdict == (
        "Baseline: aws-trending-now gives every user much the same list by design (mean pairwise Jaccard of "
        "the top-2 lists 0.33). It is the floor a personal recipe must clear, not a fault: compare the other "
        "campaigns with it.")


def test_an_ok_verdict_says_how_many_share_the_most_common_list():
    lists = [[f"i{i}", f"j{i}"] for i in range(18)] + [["a", "b"], ["a", "b"]]
    report = dup.duplication_report(lists)
    assert report.level == "ok" and report.verdict.endswith("; 10% of users get the most common list.")
    distinct = dup.duplication_report([[f"i{i}"] for i in range(5)])
    assert distinct.verdict.endswith("; no two users get the same list.")


def test_the_verdict_without_cohorts_names_the_cause_in_full():
    report = dup.duplication_report([["a", "b"]] * 4, item_popularity=pd.Series({"x": 3, "y": 2, "a": 1, "b": 0}))
    assert report.verdict == (
        "Duplication: 100% of users get the same top 2 — one list serves most users, and it is not simply "
        "the most popular items.")


def test_duplication_among_users_with_history_is_not_called_cold_start():
    lists = {f"u{i}": ["a", "b"] for i in range(4)}
    report = dup.duplication_report(lists, history_lengths={f"u{i}": 5 for i in range(4)},
                                    history_as_of="last week")
    assert report.verdict.startswith(
        "Duplication beyond cold start: 100% of users with 3–9 interactions last week get the same top 2")
    assert report.remedies[0] == dup.REMEDY_NEWEST_VERSION


def test_shared_lists_among_users_with_no_history_are_expected_not_a_fault():
    # Three users with no interactions share a list (any model gives them the cold-start answer); ten
    # users with one interaction each get their own lists.
    lists = {f"same{i}": ["a", "b"] for i in range(3)} | {f"own{i}": [f"i{i}", f"j{i}"] for i in range(10)}
    history = {f"same{i}": 0 for i in range(3)} | {f"own{i}": 1 for i in range(10)}
    report = dup.duplication_report(lists, history_lengths=history)
    assert report.cohorts["none"].expected and report.cohorts["none"].level != "critical"
    assert report.cohorts[dup.COLD_START].level == "ok"
    assert not report.verdict.startswith("Cold-start duplication")
    assert report.no_history_note.startswith("100% of users with no interactions get the same top 2")


def test_shared_lists_among_users_with_one_or_two_interactions_are_cold_start_duplication():
    # Three users with two interactions share a list; ten with none get their own: the users with history
    # among the ≤2 are all duplicated, which is the popularity fallback at work.
    lists = {f"same{i}": ["a", "b"] for i in range(3)} | {f"own{i}": [f"i{i}", f"j{i}"] for i in range(10)}
    history = {f"same{i}": 2 for i in range(3)} | {f"own{i}": 0 for i in range(10)}
    report = dup.duplication_report(lists, history_lengths=history)
    assert report.cohorts["1–2"].level == "critical" and not report.cohorts["1–2"].expected
    assert report.verdict.startswith("Cold-start duplication")


def test_the_heatmap_frame_is_indexed_by_user_id_both_ways():
    overlap = dup.duplication_report([["a"], ["b"]]).overlap
    assert overlap.index.name == "user_id" and overlap.columns.name == "user_id"
