"""Serving's fast paths (`engine.runtime`) against what they stand in for, in process.

top-n's group-maxima bound must choose what a full partition chooses; the cached one-row CSR template
must be reused and bounded; interaction filters must read fresh events, typed histories and Items
conditions together; every scoring path must print the same shares for the same scores. The planted
models and bundles are the ones `test_runtime_unit` works out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine import filters, runtime
from engine.recipes.registry import RELATED_ITEMS
from engine.topk import GROUP
from tests.engine.test_runtime_unit import (
    EXCLUDE_VIEWED,
    TRAINED_UNTIL,
    Planted,
    bundle,
    items_of,
    many_items_bundle,
    no_item_condition,
    recommend,
    typed,
)


# -- top-n: the bound picks what a full partition picks ---------------------------------------------
def full_top(scores: np.ndarray, k: int, exclude: np.ndarray | None, allowed: np.ndarray | None) -> np.ndarray:
    """The k best scores, best first, after the same masking: a full sort, the slow and obvious way."""
    masked = scores.astype(np.float64)
    if exclude is not None:
        masked[exclude] = -np.inf
    if allowed is not None:
        masked[~allowed] = -np.inf
    return -np.sort(-masked)[:k]  # NaN sorts last, as argpartition of -scores puts it


def check_top(scores: np.ndarray, n: int, exclude=None, allowed=None) -> None:
    masked = scores.copy()
    if exclude is not None:
        masked[exclude] = -np.inf
    if allowed is not None:
        masked[~allowed] = -np.inf
    idx, vals = runtime.top_n(scores.copy(), n, exclude, allowed)
    k = min(n, len(scores))
    expected = full_top(scores, k, exclude, allowed)
    assert len(idx) == k and len(set(idx.tolist())) == k  # k distinct items
    assert np.array_equal(vals.astype(np.float64), expected, equal_nan=True), (len(scores), n)
    assert np.array_equal(masked[idx], vals, equal_nan=True)  # each value is its item's score


def test_top_n_over_large_catalogues_chooses_the_best_scores_at_many_sizes():
    rng = np.random.default_rng(17)
    sizes = [4 * 64, 4 * 64 + 1, 8 * 64 - 1, 1000, 4097, 64 * 70, 64 * 70 + 63, 20_000]
    for n_items in sizes:
        blocks = n_items // GROUP
        for n in sorted({1, 2, 3, max(1, blocks // 8), max(1, blocks // 4), blocks // 4 + 1, 25}):
            check_top(rng.random(n_items).astype(np.float32), n)  # distinct scores
            check_top(rng.integers(0, 5, n_items).astype(np.float32), n)  # ties at the cut
            check_top(rng.integers(0, 3, n_items).astype(np.float32) - 10, n)  # all negative
            check_top(np.full(n_items, 2.0, dtype=np.float32), n)  # everything tied


def test_top_n_bound_with_exclusions_and_masks_that_leave_fewer_items_than_asked():
    rng = np.random.default_rng(3)
    for n_items in (512, 3000, 20_000):
        scores = rng.random(n_items).astype(np.float32)
        top = np.argsort(-scores)[:40]
        check_top(scores, 10, exclude=top)  # the best 40 excluded: the next 10
        allowed = np.zeros(n_items, dtype=bool)
        allowed[rng.choice(n_items, 4, replace=False)] = True
        check_top(scores, 10, allowed=allowed)  # four allowed, then -inf fills the rest
        check_top(scores, 10, exclude=top[:3], allowed=rng.random(n_items) < 0.01)
        only_inf = np.full(n_items, -np.inf, dtype=np.float32)
        check_top(only_inf, 5)


def test_top_n_with_nan_scores_serves_the_finite_ones_first_at_any_size():
    rng = np.random.default_rng(9)
    for n_items in (300, 5000, 20_000):
        scores = rng.random(n_items).astype(np.float32)
        scores[rng.random(n_items) < 0.7] = np.nan  # most groups hold a NaN
        check_top(scores, 3)
        scores[:] = np.nan
        scores[7] = 1.0
        idx, vals = runtime.top_n(scores.copy(), 2, None, None)
        assert idx[0] == 7 and vals[0] == 1.0 and np.isnan(vals[1])


def test_top_n_when_the_best_items_crowd_into_one_group():
    # Groups are every blocks-th item. With the best scores all in one group the bound is low and many
    # candidates pass it: the partition among them must still take exactly the k best.
    rng = np.random.default_rng(11)
    for blocks, n in ((40, 5), (40, 10), (100, 2), (100, 25), (313, 7)):
        scores = rng.random(blocks * GROUP).astype(np.float32)
        scores[3::blocks] += 10 + rng.random(GROUP).astype(np.float32)  # group 3 holds the best
        check_top(scores, n)


# -- the cached one-row CSR template -----------------------------------------------------------------
def test_a_row_template_is_built_once_per_catalogue_size_and_reused():
    runtime._ROW_TEMPLATES.clear()
    empty_cols, empty_data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    runtime._single_row(empty_data, empty_cols, 7)
    template = runtime._ROW_TEMPLATES[7]
    assert isinstance(template, sp.csr_matrix) and template.shape == (1, 7)
    row = runtime._single_row(np.array([3.0], dtype=np.float32), np.array([2], dtype=np.int32), 7)
    assert runtime._ROW_TEMPLATES[7] is template and template.nnz == 0  # reused, never written into
    assert row.toarray().tolist() == [[0, 0, 3, 0, 0, 0, 0]]


def test_the_row_templates_hold_sixty_five_sizes_then_start_over():
    runtime._ROW_TEMPLATES.clear()
    empty_cols, empty_data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    for count, n in enumerate(range(10, 10 + 65), start=1):
        runtime._single_row(empty_data, empty_cols, n)
        assert len(runtime._ROW_TEMPLATES) == count
    runtime._single_row(empty_data, empty_cols, 500)  # the 66th size: the others are dropped
    assert list(runtime._ROW_TEMPLATES) == [500]


# -- interaction filters: fresh events, typed histories and Items conditions together ------------------
def test_a_fresh_event_for_an_item_the_model_does_not_know_excludes_nothing():
    b = bundle(typed={"view": typed({0: {3: 1}})})
    events = [("not-in-catalogue", TRAINED_UNTIL + 1, "view")]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u1", events, b.typed_history)
    assert mask.tolist() == [True, True, True, False, True]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "new", events, b.typed_history)
    assert mask.tolist() == [True] * 5


def test_an_interaction_filter_takes_its_event_type_from_filter_values():
    b = bundle(typed={"view": typed({0: {0: 1}}), "buy": typed({0: {2: 1}})})
    clauses = filters.parse("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($TYPE)")
    events = [("e", TRAINED_UNTIL + 1, "buy")]
    mask = runtime.filter_mask(b, clauses, {"TYPE": '"buy"'}, no_item_condition, "u1", events, b.typed_history)
    assert mask.tolist() == [True, True, False, True, False]


def test_items_and_interactions_clauses_are_evaluated_together():
    b = bundle(typed={"view": typed({0: {0: 1}})})
    meta = pd.DataFrame({"CATEGORY": ["x", "y", "x", "x", "y"]})
    clauses = filters.parse('INCLUDE ItemID WHERE Items.CATEGORY IN ("x") | '
                            'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")')
    events = [("d", TRAINED_UNTIL + 1, "view")]
    mask = runtime.filter_mask(b, clauses, {}, items_of(b, meta), "u1", events, b.typed_history)
    assert mask.tolist() == [False, False, True, False, False]  # x items a, c, d; a and d viewed


def test_which_same_second_events_count_does_not_depend_on_how_items_are_spelt():
    # 101 events sent in one second: one of them falls past the hundred. The choice follows the order
    # they were sent in, whichever way their ids happen to sort.
    b = many_items_bundle({})
    excluded = []
    for spelling in (list(range(101)), list(range(100, -1, -1))):
        events = [(f"i{k}", TRAINED_UNTIL + 1, "view") for k in spelling]
        mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u", events, b.typed_history)
        hit = {f"i{k}" for k in np.flatnonzero(~mask)}
        assert len(hit) == 100
        excluded.append([sent for sent, k in enumerate(spelling) if f"i{k}" in hit])
    assert excluded[0] == excluded[1]
    # The one left out is the first sent: of two events in the same second, the later one is the newer.
    assert excluded[0] == list(range(1, 101))


# -- every path prints the same shares for the same scores --------------------------------------------
# Four float32 scores whose shares round differently at the seventh decimal in float32 and float64
# arithmetic: a path that widened its scores would print a different list.
SCORES = np.array([72.0, 86.71428680419922, 138.57142639160156, 104.14286041259766, 0.0], dtype=np.float32)


class Flat(Planted):
    """Every user scores SCORES; e is related to a-d by SCORES; popularity is SCORES."""

    def __init__(self) -> None:
        super().__init__()
        self.popularity = SCORES.copy()

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.repeat(SCORES[None, :], histories.shape[0], axis=0)

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.array([[0, 1, 2, 3]]), SCORES[None, :4].copy()


class FlatShortcut(Flat):
    def score_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray:
        return SCORES.copy()


def test_the_same_scores_print_the_same_shares_on_every_serving_path():
    lists = [
        recommend(bundle(Flat()), "new", n=4),  # a user, through score()
        recommend(bundle(FlatShortcut()), "new", n=4),  # a user, through the one-history shortcut
        recommend(bundle(Flat(), RELATED_ITEMS), item="e", n=4),  # related items
        recommend(bundle(Flat(), RELATED_ITEMS), item="zz", n=4),  # an unknown item: popularity
    ]
    assert [it for it, _ in lists[0]] == ["c", "d", "b", "a"]
    assert abs(sum(share for _, share in lists[0]) - 1) < 1e-6  # shares of the whole positive total
    assert all(served == lists[0] for served in lists[1:]), lists
