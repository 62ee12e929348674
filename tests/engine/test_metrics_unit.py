"""Offline metrics (`engine.metrics`) on planted lists, each value worked out by hand.

Complements `test_metrics.py`: every GetSolutionMetrics key at once (so a key wired to the wrong K shows),
the hold-out's rounding and edge cases, the newest input item of RELATED_ITEMS evaluation, and scoring in
chunks, on a planted model whose recommendations are known.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from engine import metrics
from engine.recipes.base import Interactions, Recommender, TrainingInput
from engine.recipes.registry import RECIPES, RELATED_ITEMS, USER_PERSONALIZATION


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [i for i, items in enumerate(rows) for _ in items]
    c = [it for items in rows for it in items]
    return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(rows), n_items))


def d(rank: int) -> float:
    return 1 / math.log2(1 + rank)


def test_every_metric_key_on_planted_lists():
    n_items = 40
    top = np.array([list(range(25)), list(range(10, 35)), [-1] * 25, list(range(25))])
    truth = csr([[1, 7, 20], [10], [39], []], n_items)  # hits: row 0 at ranks 2, 8, 21; row 1 at 1; none
    ideal3 = d(1) + d(2) + d(3)
    got = metrics.all_metrics(top, truth, n_items)
    expected = {
        "coverage": 35 / 40,  # items 0..34, the truthless row's list included
        "mean_reciprocal_rank_at_25": (1 / 2 + 1 + 0) / 3,
        "normalized_discounted_cumulative_gain_at_5": (d(2) / ideal3 + 1 + 0) / 3,
        "normalized_discounted_cumulative_gain_at_10": ((d(2) + d(8)) / ideal3 + 1 + 0) / 3,
        "normalized_discounted_cumulative_gain_at_25": ((d(2) + d(8) + d(21)) / ideal3 + 1 + 0) / 3,
        "precision_at_5": (1 / 5 + 1 / 5 + 0) / 3,
        "precision_at_10": (2 / 10 + 1 / 10 + 0) / 3,
        "precision_at_25": (3 / 25 + 1 / 25 + 0) / 3,
    }
    assert set(got) == set(metrics.METRIC_KEYS)
    assert got == pytest.approx(expected, rel=1e-6)
    assert all(isinstance(v, float) for v in got.values())


def test_no_truth_anywhere_scores_zero_and_coverage_still_counts():
    top = np.array([[0, 1, 2], [2, 3, -1]])
    got = metrics.all_metrics(top, csr([[], []], 5), 5)
    assert got.pop("coverage") == pytest.approx(4 / 5)
    assert set(got.values()) == {0.0}
    assert metrics.coverage(top, 0) == 0.0
    assert metrics.coverage(np.full((2, 3), -1), 5) == 0.0


def test_ndcg_ideal_is_capped_at_k_and_a_miss_beyond_k_does_not_count():
    top = np.array([[9, 1, 2, 3, 4, 5]])
    truth = csr([[1, 2, 3, 4, 5, 6, 7]], 10)
    assert metrics.ndcg_at_k(top, truth, 2) == pytest.approx(d(2) / (d(1) + d(2)))
    assert metrics.ndcg_at_k(top, truth, 6) == pytest.approx(sum(d(r) for r in range(2, 7)) / sum(
        d(r) for r in range(1, 7)))
    late = np.array([[0, 0, 0, 0, 5]])
    assert metrics.mean_reciprocal_rank_at_k(late, csr([[5]], 10), 4) == 0.0
    assert metrics.mean_reciprocal_rank_at_k(late, csr([[5]], 10), 5) == pytest.approx(1 / 5)
    assert metrics.mean_reciprocal_rank_at_k(late, csr([[5]], 10)) == pytest.approx(1 / 5)


def test_hits_count_a_truth_item_once_and_never_padding_or_other_rows():
    truth = sp.csr_matrix((np.ones(3, dtype=np.float32), ([0, 0, 1], [2, 2, 0])), shape=(2, 4))
    top = np.array([[2, 0, -1], [0, 2, 3]])
    assert metrics.hits(top, truth).tolist() == [[True, False, False], [True, False, False]]
    assert metrics.precision_at_k(top, truth, 3) == pytest.approx((1 / 3 + 1 / 3) / 2)
    # -1 padding of row 1 must not meet item n_items - 1 of row 0 (keys row * n_items + item).
    assert metrics.hits(np.array([[0], [-1]]), csr([[3], [1]], 4)).tolist() == [[False], [False]]


# -- the hold-out ----------------------------------------------------------------------------------
def data_of(events: list[tuple[int, int]], n_users: int, n_items: int) -> TrainingInput:
    """(user, item) events, already in time order."""
    users, items = (np.array(col, dtype=np.int32) for col in zip(*events, strict=True))
    return TrainingInput(
        interactions=Interactions(user_index=users, item_index=items, timestamp=np.arange(len(events), dtype=np.int64),
                                  weight=np.ones(len(events), dtype=np.float32), n_users=n_users, n_items=n_items),
        user_ids=np.array([f"u{k}" for k in range(n_users)], dtype=object),
        item_ids=np.array([f"i{k}" for k in range(n_items)], dtype=object),
    )


@pytest.mark.parametrize(("eligible", "held"), [(5, 1), (14, 1), (15, 2), (25, 2), (35, 4)])
def test_the_held_out_share_is_ten_percent_rounded_and_at_least_one(eligible, held):
    events = [(u, i) for u in range(eligible) for i in (0, 1)] + [(eligible, 0)]  # one single-event user
    _, histories, truth, users = metrics.holdout_split(data_of(events, eligible + 1, 2), seed=0)
    assert len(users) == held and eligible not in users.tolist()
    assert histories.shape == truth.shape == (held, 2)


def test_no_eligible_user_holds_nobody_out():
    train, histories, truth, users = metrics.holdout_split(data_of([(0, 0), (1, 1)], 2, 3), seed=0)
    assert users.tolist() == [] and histories.shape == truth.shape == (0, 3)
    assert len(train.interactions) == 2


def test_the_newest_tenth_is_the_truth_minus_what_the_input_already_has():
    # user 0: 25 events -> 2 truth (items 7 and 8, newest); user 1: 3 events, the newest repeats an input.
    events = [(0, k % 5) for k in range(23)] + [(1, 1), (1, 2), (0, 7), (1, 1), (0, 8)]
    data = data_of(events, 2, 9)
    seen = set()
    for seed in range(12):  # two eligible users, one held out: which one depends on the seed
        train, histories, truth, users = metrics.holdout_split(data, seed=seed)
        assert len(users) == 1
        held = int(users[0])
        seen.add(held)
        if held == 0:
            assert histories.toarray().tolist() == [[1, 1, 1, 1, 1, 0, 0, 0, 0]]  # binary, though items repeat
            assert truth.toarray().tolist() == [[0, 0, 0, 0, 0, 0, 0, 1, 1]]
        else:
            assert histories.toarray().tolist() == [[0, 1, 1, 0, 0, 0, 0, 0, 0]] and truth.nnz == 0
        assert not (train.interactions.user_index == held).any()
        assert len(train.interactions) == len(events) - (25 if held == 0 else 3)
        assert train.interactions.n_users == 2 and train.interactions.n_items == 9
    assert seen == {0, 1}


def test_the_truth_matrix_holds_ones_and_no_explicit_zeros():
    events = [(0, 1), (0, 2), (0, 1), (0, 3)] * 3 + [(0, 4), (1, 0)]  # user 1 has one event: never held
    _, histories, truth, users = metrics.holdout_split(data_of(events, 2, 5), seed=3)
    assert users.tolist() == [0] and truth.toarray().tolist() == [[0, 0, 0, 0, 1]]
    assert histories.toarray().tolist() == [[0, 1, 1, 1, 0]]
    for m in (histories, truth):
        assert isinstance(m, sp.csr_matrix) and m.dtype == np.float32
        assert (m.data == 1).all()


def test_newest_input_item_per_held_user():
    # held users 0 and 2; user 1 is not held; user 2 has no input.
    events = [(0, 3), (1, 6), (0, 1), (2, 5), (1, 2), (0, 4)]
    data = data_of(events, 3, 7)
    histories = csr([[3, 1], []], 7)
    assert metrics.newest_input_items(data, np.array([0, 2]), histories).tolist() == [1, -1]
    histories = csr([[3], [5]], 7)
    assert metrics.newest_input_items(data, np.array([0, 2]), histories).tolist() == [3, 5]


# -- scoring the held-out users --------------------------------------------------------------------
BASE = np.array([1, 5, 3, 4, 2], dtype=np.float32)


class Planted(Recommender):
    """scores = BASE + 10 x the item after each history item (item k boosts item k + 1)."""

    recipe_name = "planted"

    def __init__(self, params=None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.n_items = 5

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        shifted = np.roll(np.asarray(histories.todense()), 1, axis=1)
        return (BASE[None, :] + 10 * shifted).astype(np.float32)


def test_user_lists_exclude_seen_items_in_every_chunk():
    rows = [[0], [3], []] * 800  # 2400 rows: two chunks of scoring
    top = metrics.evaluate_model(Planted(), USER_PERSONALIZATION, csr(rows, 5), n=3)
    assert top.shape == (2400, 3) and top.dtype == np.int64
    assert top[:3].tolist() == [[1, 3, 2], [4, 1, 2], [1, 3, 2]]
    assert top.tolist() == [[1, 3, 2], [4, 1, 2], [1, 3, 2]] * 800


def test_related_items_lists_come_from_the_newest_input_item():
    histories = csr([[0, 2], [3], [1]] * 700, 5)  # 2100 rows
    newest = np.array([2, 3, -1] * 700)
    top = metrics.evaluate_model(Planted(), RELATED_ITEMS, histories, newest, n=2)
    # row 0: seed 2 boosts 3, seen 0 and 2 excluded; row 1: seed 3 boosts 4; row 2: no seed, BASE, 1 seen.
    assert top.tolist() == [[3, 1], [4, 1], [3, 2]] * 700
    with pytest.raises(ValueError, match="RELATED_ITEMS evaluation needs each row's newest input item"):
        metrics.evaluate_model(Planted(), RELATED_ITEMS, histories)


def test_no_held_out_rows_give_an_empty_list_of_the_asked_width():
    top = metrics.evaluate_model(Planted(), USER_PERSONALIZATION, csr([], 5), n=25)
    assert top.shape == (0, 25) and top.dtype == np.int64


def test_evaluate_fits_on_the_training_users_only_and_scores_the_held_out_ones():
    events = [(u, (u + k) % 6) for k in range(4) for u in range(20)]
    data = data_of(events, 20, 6)
    got, model = metrics.evaluate_fitted(RECIPES["aws-popularity-count"], data, seed=4)
    train, histories, truth, held = metrics.holdout_split(data, seed=4)
    assert len(held) == 2
    assert model.popularity.tolist() == np.bincount(train.interactions.item_index, minlength=6).tolist()
    top = model.recommend(histories, 25, exclude_seen=True)[0]
    assert got == metrics.all_metrics(top, truth, 6)
    assert metrics.evaluate(RECIPES["aws-popularity-count"], data, seed=4) == got


# -- what the first mutation run left ---------------------------------------------------------------
def test_each_key_uses_its_own_cutoff():
    # 30 truth items, hits at ranks 6, 11 and 26 of a 30-wide list: each lies just past a cutoff.
    n_items = 100
    top = np.array([[50, 51, 52, 53, 54, 0, 55, 56, 57, 58, 1, *range(59, 73), 2, 73, 74, 75, 76]])
    truth = csr([list(range(30))], n_items)
    got = metrics.all_metrics(top, truth, n_items)
    ideal = [sum(d(r) for r in range(1, k + 1)) for k in (5, 10, 25)]
    assert got["normalized_discounted_cumulative_gain_at_5"] == 0.0
    assert got["normalized_discounted_cumulative_gain_at_10"] == pytest.approx(d(6) / ideal[1])
    assert got["normalized_discounted_cumulative_gain_at_25"] == pytest.approx((d(6) + d(11)) / ideal[2])
    assert got["precision_at_5"] == 0.0 and got["precision_at_10"] == pytest.approx(0.1)
    assert got["precision_at_25"] == pytest.approx(2 / 25)
    assert got["mean_reciprocal_rank_at_25"] == pytest.approx(1 / 6)
    late = np.array([[*range(50, 75), 0, 76, 77, 78, 79]])  # the only hit at rank 26
    assert metrics.all_metrics(late, truth, n_items)["mean_reciprocal_rank_at_25"] == 0.0


def test_coverage_of_a_one_item_catalogue():
    assert metrics.coverage(np.array([[0]]), 1) == 1.0


def test_held_out_users_are_distinct_and_the_training_weights_follow_the_kept_events():
    events = [(u, i) for u in range(200) for i in range(3)]
    data = data_of(events, 200, 3)
    data.interactions.weight[:] = np.arange(len(events), dtype=np.float32)
    for seed in range(5):
        train, _, _, held = metrics.holdout_split(data, seed=seed)
        assert len(held) == 20 and len(set(held.tolist())) == 20
        keep = ~np.isin(data.interactions.user_index, held)
        assert train.interactions.weight.tolist() == data.interactions.weight[keep].tolist()
        assert train.interactions.timestamp.tolist() == data.interactions.timestamp[keep].tolist()
    assert metrics.holdout_split(data)[3].tolist() == metrics.holdout_split(data, seed=0)[3].tolist()


def test_another_users_events_never_give_the_newest_input_item():
    events = [(0, 3), (1, 6), (0, 1), (2, 5), (1, 2), (0, 4)]  # user 1 is not held; its item 2 is newer
    histories = csr([[3], [5, 2]], 7)
    assert metrics.newest_input_items(data_of(events, 3, 7), np.array([0, 2]), histories).tolist() == [3, 5]


class Related(Planted):
    """Planted, as a RELATED_ITEMS recipe that records its hyperparameters and seed."""

    made: ClassVar[list[Related]] = []

    def __init__(self, params=None, seed: int = 0) -> None:
        super().__init__(params, seed)
        Related.made.append(self)


def test_evaluation_passes_params_and_seed_and_asks_related_items_from_the_newest_input():
    from engine.recipes.registry import RecipeSpec

    # Each user: u, u+2, u+1, then the truth u+3. Histories point at u+3 (u+2 boosts it); the newest
    # input item alone (u+1) points at u+2, already seen.
    events = [(u, (u + k) % 5) for k in (0, 2, 1, 3) for u in range(30)]
    data = data_of(events, 30, 5)
    data.params = {"x": "1"}
    for recipe_type in (RELATED_ITEMS, USER_PERSONALIZATION):
        spec = RecipeSpec("planted", recipe_type, "", Related)
        got, model = metrics.evaluate_fitted(spec, data, seed=6)
        assert model is Related.made[-1] and model.params == {"x": "1"} and model.seed == 6
        _, histories, truth, held = metrics.holdout_split(data, seed=6)
        newest = metrics.newest_input_items(data, held, histories) if recipe_type == RELATED_ITEMS else None
        top = metrics.evaluate_model(model, recipe_type, histories, newest)
        assert got == metrics.all_metrics(top, truth, 5)
    related = RecipeSpec("planted", RELATED_ITEMS, "", Related)
    assert metrics.evaluate(related, data) == metrics.evaluate_fitted(related, data, 0)[0]
    assert metrics.evaluate_fitted(related, data)[0] == metrics.evaluate_fitted(related, data, 0)[0]


def test_a_seed_on_item_zero_counts_and_the_missing_newest_item_is_named():
    histories = csr([[3], [1]], 5)
    top = metrics.evaluate_model(Planted(), RELATED_ITEMS, histories, np.array([0, -1]), n=1)
    assert top.tolist() == [[1], [3]]  # item 0 boosts item 1; no seed: BASE's best unseen item
    with pytest.raises(ValueError, match=r"^RELATED_ITEMS evaluation needs each row's newest input item$"):
        metrics.evaluate_model(Planted(), RELATED_ITEMS, histories)


class Cached(Planted):
    """Returns the same score array each call (a model may hand out what it keeps): evaluation must not
    write into it."""

    def __init__(self, params=None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.kept = np.tile(BASE, (4, 1)).astype(np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return self.kept[: histories.shape[0]]


def test_evaluation_never_writes_into_the_models_scores():
    model = Cached()
    histories = csr([[1], [3]], 5)
    first = metrics.evaluate_model(model, RELATED_ITEMS, histories, np.array([-1, -1]), n=2)
    assert model.kept.tolist() == np.tile(BASE, (4, 1)).tolist()
    assert metrics.evaluate_model(model, RELATED_ITEMS, histories, np.array([-1, -1]), n=2).tolist() == first.tolist()


class ZeroPointsAtFour(Planted):
    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        dense = np.asarray(histories.todense())
        return (BASE[None, :] + 20 * dense[:, [0]] * (np.arange(5) == 4)).astype(np.float32)


def test_a_related_items_seed_on_the_first_item_is_used():
    top = metrics.evaluate_model(ZeroPointsAtFour(), RELATED_ITEMS, csr([[3]], 5), np.array([0]), n=1)
    assert top.tolist() == [[4]]  # without the seed BASE's best, item 1, would lead
