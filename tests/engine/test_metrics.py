"""Personalize-style offline metrics: hand-computed cases and the split's properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from engine import metrics
from engine.metrics import (
    METRIC_KEYS,
    coverage,
    evaluate,
    hits,
    holdout_split,
    mean_reciprocal_rank_at_k,
    ndcg_at_k,
    precision_at_k,
)
from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.registry import RECIPES
from tests.support.synthetic_shop import make_training_input


def truth_of(rows: list[list[int]], n_items: int = 10) -> sp.csr_matrix:
    r = [i for i, items in enumerate(rows) for _ in items]
    c = [it for items in rows for it in items]
    return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(rows), n_items))


def test_hits_ignore_padding_and_other_rows() -> None:
    top = np.array([[3, 1, -1], [1, 2, 3]])
    truth = truth_of([[1], [3, 9]])
    assert hits(top, truth).tolist() == [[False, True, False], [False, False, True]]


def test_precision_hand_computed() -> None:
    top = np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 0]])
    truth = truth_of([[2, 5, 9], [0]])
    # row 0: 2 hits in 5 -> 0.4 ; row 1: 1 hit -> 0.2 ; @2: 1/2 and 0/2.
    assert precision_at_k(top, truth, 5) == pytest.approx(0.3)
    assert precision_at_k(top, truth, 2) == pytest.approx(0.25)


def test_mrr_hand_computed() -> None:
    top = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    truth = truth_of([[3, 2], [4], [0]])
    # first hits at ranks 2, 1, none -> (1/2 + 1 + 0) / 3
    assert mean_reciprocal_rank_at_k(top, truth, 25) == pytest.approx(0.5)


def test_ndcg_hand_computed() -> None:
    top = np.array([[1, 2, 3, 4, 5]])
    truth = truth_of([[2, 5, 9]])
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(top, truth, 5) == pytest.approx(dcg / idcg)
    # at 2: one hit at rank 2; the ideal has min(2, 3) = 2 relevant slots.
    assert ndcg_at_k(top, truth, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_ndcg_perfect_and_empty_truth_rows_skipped() -> None:
    top = np.array([[4, 0, 1], [1, 2, 3]])
    truth = truth_of([[4], []])
    assert ndcg_at_k(top, truth, 3) == pytest.approx(1.0)
    assert precision_at_k(top, truth, 3) == pytest.approx(1 / 3)


def test_coverage_hand_computed() -> None:
    top = np.array([[0, 1, -1], [1, 2, 3]])
    assert coverage(top, 8) == pytest.approx(4 / 8)


def tiny(n_users: int = 40, per_user: int = 20, n_items: int = 30) -> TrainingInput:
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(n_users), per_user)
    items = rng.integers(0, n_items, len(users))
    ts = np.tile(np.arange(per_user), n_users) * 100 + users  # distinct, per user ascending
    order = np.argsort(ts, kind="stable")
    return TrainingInput(
        interactions=Interactions(
            user_index=users[order].astype(np.int32),
            item_index=items[order].astype(np.int32),
            timestamp=ts[order].astype(np.int64),
            weight=np.ones(len(users), dtype=np.float32),
            n_users=n_users,
            n_items=n_items,
        ),
        user_ids=np.array([f"u{i}" for i in range(n_users)], dtype=object),
        item_ids=np.array([f"i{i}" for i in range(n_items)], dtype=object),
    )


def test_split_holds_out_ten_percent_not_trained_on() -> None:
    data = tiny()
    train, histories, truth, held = holdout_split(data, seed=1)
    assert len(held) == 4  # 10% of 40 eligible users
    assert not np.isin(train.interactions.user_index, held).any()
    assert len(train.interactions) == len(data.interactions) - 4 * 20
    assert histories.shape == truth.shape == (4, 30)


def test_split_oldest_ninety_percent_newest_ten() -> None:
    data = tiny()
    _, histories, truth, held = holdout_split(data, seed=1)
    inter = data.interactions
    for row, user in enumerate(held):
        ev = np.flatnonzero(inter.user_index == user)
        items = inter.item_index[ev[np.argsort(inter.timestamp[ev], kind="stable")]]
        expected_input = set(items[:18].tolist())  # 20 events: 18 oldest in, 2 newest truth
        expected_truth = set(items[18:].tolist()) - expected_input
        assert set(histories[row].indices.tolist()) == expected_input
        assert set(truth[row].indices.tolist()) == expected_truth


def test_split_at_least_one_truth_and_eligibility() -> None:
    # users with 1 event are never held out; with 2..19 events exactly one is truth.
    data = tiny(n_users=30, per_user=3)
    _, histories, _truth, held = holdout_split(data, seed=0)
    assert len(held) == 3
    assert (np.diff(histories.indptr) >= 1).all()
    single = TrainingInput(
        interactions=Interactions(
            user_index=np.array([0, 1, 1], dtype=np.int32),
            item_index=np.array([0, 1, 2], dtype=np.int32),
            timestamp=np.array([1, 2, 3], dtype=np.int64),
            weight=np.ones(3, dtype=np.float32),
            n_users=2,
            n_items=3,
        ),
        user_ids=np.array(["a", "b"], dtype=object),
        item_ids=np.array(["x", "y", "z"], dtype=object),
    )
    _, h, t, held = holdout_split(single, seed=0)
    assert held.tolist() == [1]
    assert h[0].indices.tolist() == [1] and t[0].indices.tolist() == [2]


def test_split_seed_determinism() -> None:
    data = tiny()
    a = holdout_split(data, seed=7)
    b = holdout_split(data, seed=7)
    c = holdout_split(data, seed=8)
    assert a[3].tolist() == b[3].tolist()
    assert (a[1] != b[1]).nnz == 0 and (a[2] != b[2]).nnz == 0
    assert a[3].tolist() != c[3].tolist()


def test_evaluate_returns_aws_keys_and_ranks_recipes() -> None:
    data = make_training_input(n_users=1500, n_items=400, n_interactions=30_000, seed=2)
    pop = evaluate(RECIPES["aws-popularity-count"], data, seed=0)
    up = evaluate(RECIPES["aws-user-personalization"], data, seed=0)
    sims = evaluate(RECIPES["aws-sims"], data, seed=0)
    assert set(pop) == set(METRIC_KEYS) == set(up) == set(sims)
    assert all(0.0 <= v <= 1.0 for v in (*pop.values(), *up.values(), *sims.values()))
    key = "normalized_discounted_cumulative_gain_at_25"
    assert up[key] > 1.6 * pop[key]
    assert sims[key] > pop[key]
    assert up["coverage"] > pop["coverage"]
    assert evaluate(RECIPES["aws-user-personalization"], data, seed=0) == up  # deterministic


def test_metrics_module_exposes_building_blocks() -> None:
    for name in (
        "holdout_split",
        "hits",
        "precision_at_k",
        "ndcg_at_k",
        "mean_reciprocal_rank_at_k",
        "coverage",
        "all_metrics",
        "evaluate_model",
        "evaluate",
    ):
        assert callable(getattr(metrics, name))
