"""Offline metrics computed by the dashboard: hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from services.models.ranking_metrics import OFFLINE_METRICS, compute

TOPK = {"u1": ["a", "b", "c"], "u2": ["a", "d", "e"]}
TRUTH = {"u1": {"b", "x"}, "u2": {"f"}, "u3": {"a"}, "u4": set()}
POPULARITY = pd.Series({"a": 5, "b": 3, "c": 1, "x": 0})  # total 9


def test_hand_computed_case():
    got = compute(TOPK, TRUTH, POPULARITY, catalogue_size=10, k=3)
    # recall: u1 1/2, u2 0, u3 0 (no list); u4 has no truth and is not evaluated.
    assert got["recall_at_k"] == pytest.approx(1 / 6)
    assert got["hit_rate_at_k"] == pytest.approx(1 / 3)
    assert got["users_evaluated"] == 3
    # p = (count + 1) / (9 + 10): a 6/19, b 4/19, c 2/19, d and e 1/19.
    u1 = (math.log2(19 / 6) + math.log2(19 / 4) + math.log2(19 / 2)) / 3
    u2 = (math.log2(19 / 6) + 2 * math.log2(19)) / 3
    assert got["novelty"] == pytest.approx((u1 + u2) / 2)
    # u1 and u2 share one of three items: cosine 1/3.
    assert got["personalization"] == pytest.approx(2 / 3)
    assert got["catalog_coverage"] == pytest.approx(5 / 10)
    assert set(OFFLINE_METRICS) <= set(got)


def test_k_cuts_the_lists():
    got = compute(TOPK, TRUTH, POPULARITY, catalogue_size=10, k=1)
    assert got["recall_at_k"] == 0.0  # u1's b is at rank 2
    assert got["hit_rate_at_k"] == 0.0
    assert got["personalization"] == pytest.approx(0.0)  # both get just "a"
    assert got["catalog_coverage"] == pytest.approx(0.1)


def test_index_matrix_matches_mapping():
    # Items 0..4 stand for a..e; -1 pads.
    index = np.array([[0, 1, 2], [0, 3, 4]])
    truth = {"u1": {1, 9}, "u2": {5}, "u3": {0}}
    popularity = pd.Series({0: 5, 1: 3, 2: 1, 9: 0})
    got = compute(index, truth, popularity, catalogue_size=10, k=3, user_ids=["u1", "u2"])
    want = compute(TOPK, TRUTH, POPULARITY, catalogue_size=10, k=3)
    assert got == pytest.approx(want)
    padded = compute(np.array([[1, -1], [-1, -1]]), {0: {1}, 1: {2}}, None, None, k=2)
    assert padded["recall_at_k"] == pytest.approx(0.5)
    assert math.isnan(padded["novelty"]) and math.isnan(padded["catalog_coverage"])


def test_perfect_and_popular_lists():
    topk = {u: [u + "_item"] for u in "abcd"}
    truth = {u: {u + "_item"} for u in "abcd"}
    got = compute(topk, truth, pd.Series(dtype=float), catalogue_size=4, k=1)
    assert got["recall_at_k"] == 1.0 and got["hit_rate_at_k"] == 1.0
    assert got["personalization"] == pytest.approx(1.0)
    assert got["catalog_coverage"] == 1.0
    assert got["novelty"] == pytest.approx(2.0)  # p = 1/4 for every item -> 2 bits
