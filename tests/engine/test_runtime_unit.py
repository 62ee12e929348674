"""Serving (`engine.runtime`) in process, on a planted model whose scores are worked out by hand.

The HTTP tests check serving through boto3; these pin its arithmetic (history fold-in, exclusion, score
shares, ranking, interaction filters) so mutation testing can see which small change no test notices.
The planted model is test data: a fixed popularity vector plus an item-to-item boost, served through the
same Recommender interface every recipe implements.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from engine import filters, runtime
from engine.errors import InvalidInputException
from engine.recipes.base import Recommender
from engine.recipes.registry import POPULAR_ITEMS, RELATED_ITEMS, USER_PERSONALIZATION
from engine.training import ModelBundle

ITEMS = np.array(["a", "b", "c", "d", "e"], dtype=object)
BASE = np.array([5, 4, 3, 2, -1], dtype=np.float32)  # e scores below zero on its own
BOOST = np.zeros((5, 5), dtype=np.float32)
BOOST[0, 3] = 10  # having a boosts d
BOOST[3] = [1, 3, 2, 0, 6]  # what d is related to
BOOST[1, 4] = 20  # having b boosts e
BOOST[4, :2] = [0.1, 0.3]  # e is related to a and b only, weakly (their positive total is below 1)
TRAINED_UNTIL = 1000


class Planted(Recommender):
    """scores = BASE + history @ BOOST; related items of i = BOOST[i] with a -1 padding slot."""

    recipe_name = "planted"

    def __init__(self) -> None:
        super().__init__()
        self.n_items = len(ITEMS)
        self.popularity = np.array([1, 7, 3, 9, 2], dtype=np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return (BASE[None, :] + np.asarray(histories @ BOOST)).astype(np.float32)

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        assert n == len(ITEMS)  # serving asks for every item: filters and exclusions come after
        row = BOOST[items[0]]
        order = [i for i in np.argsort(-row, kind="stable") if row[i] > 0]  # like SIMS: only related items
        # A padding slot (-1) carrying a value: serving must ignore it, not write it to the last item.
        return np.array([[*order, -1]]), np.array([[*row[order], 99.0]], dtype=np.float32)


class Shortcut(Planted):
    """The same scores through `score_one`, the single-history shortcut serving tries first."""

    def score_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray:
        row = np.zeros(len(ITEMS), dtype=np.float32)
        row[cols] = data
        return (BASE + row @ BOOST).astype(np.float32)


class WithNaN(Planted):
    """A model that scores one item NaN: that item is never served and does not spoil the shares."""

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        out = super().score(histories)
        out[:, 2] = np.nan
        return out


class Explorer(Planted):
    """Records what serving asked of exploration and pushes e to the top when asked."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, float, float]] = []
        self.nows: list[int] = []

    def explore(self, scores, exploration_weight, item_age_cutoff_days, now, rng):
        self.calls.append((exploration_weight, item_age_cutoff_days, float(rng.random())))
        self.nows.append(now)
        out = scores.copy()
        out[:, 4] = 100
        return out


def bundle(model: Recommender | None = None, recipe_type: str = USER_PERSONALIZATION,
           history: sp.csr_matrix | None = None, typed: dict | None = None) -> ModelBundle:
    if history is None:  # u1 had a once; u2 had b twice and c once
        history = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 2, 1, 0, 0]], dtype=np.float32))
    return ModelBundle(model=model or Planted(), recipe_name="planted", recipe_type=recipe_type,
                       user_ids=np.array(["u1", "u2"], dtype=object), item_ids=ITEMS, history=history,
                       item_created=np.zeros(5, dtype=np.int64), trained_until=TRAINED_UNTIL,
                       typed_history=typed or {})


def recommend(b: ModelBundle, user=None, item=None, n=3, events=(), allowed=None, campaign=None):
    return runtime.recommend(b, campaign or {}, user, item, n, list(events), allowed)


# -- the user's history ----------------------------------------------------------------------------
def test_since_training_keeps_every_event_of_an_unknown_user_and_only_newer_ones_of_a_known_one():
    events = [("a", TRAINED_UNTIL - 1, "view"), ("b", TRAINED_UNTIL, "view"), ("c", TRAINED_UNTIL + 1, "view")]
    b = bundle()
    assert runtime.since_training(b, None, events) == events
    assert runtime.since_training(b, 0, events) == [("c", TRAINED_UNTIL + 1, "view")]


def test_history_is_the_training_row_plus_fresh_events_each_counted():
    b = bundle()
    fresh = [("e", TRAINED_UNTIL + 5, "view"), ("e", TRAINED_UNTIL + 6, "view"), ("b", TRAINED_UNTIL + 7, "x"),
             ("unknown-item", TRAINED_UNTIL + 8, "view"), ("c", TRAINED_UNTIL, "view")]
    cols, data = runtime.history_arrays(b, "u2", fresh)
    assert cols.tolist() == [1, 2, 4] and data.tolist() == [3.0, 1.0, 2.0]
    assert cols.dtype == np.int32 and data.dtype == np.float32
    cols, data = runtime.history_arrays(b, "nobody", [("a", 1, "view"), ("a", 2, "view")])
    assert cols.tolist() == [0] and data.tolist() == [2.0]
    cols, data = runtime.history_arrays(b, None, [("a", 1, "view")])
    assert cols.tolist() == [0] and data.tolist() == [1.0]
    cols, data = runtime.history_arrays(b, "nobody", [])
    assert cols.tolist() == [] and data.tolist() == [] and data.dtype == np.float32 and cols.dtype == np.int32
    row = runtime.history_row(b, "u2", fresh)
    assert row.shape == (1, 5) and row.toarray().tolist() == [[0, 3, 1, 0, 2]]


def test_history_of_a_known_user_is_sorted_and_never_a_view_of_the_bundle():
    unsorted = sp.csr_matrix((np.array([7, 1], dtype=np.float32), np.array([3, 0], dtype=np.int32),
                              np.array([0, 2, 2], dtype=np.int32)), shape=(2, 5))
    assert not unsorted.has_sorted_indices
    b = bundle(history=unsorted)
    cols, data = runtime.history_arrays(b, "u1", [])
    assert cols.tolist() == [0, 3] and data.tolist() == [1.0, 7.0]
    ordered = bundle()
    cols, data = runtime.history_arrays(ordered, "u2", [])
    assert cols.tolist() == [1, 2] and data.tolist() == [2.0, 1.0] and data.dtype == np.float32
    cols[:] = 4
    data[:] = 0
    assert ordered.history.indices.tolist() == [0, 1, 2] and ordered.history.data.tolist() == [1, 2, 1]


def test_a_single_row_equals_what_scipys_constructor_builds():
    cols, data = np.array([1, 3], dtype=np.int32), np.array([2.0, 5.0], dtype=np.float32)
    row = runtime._single_row(data, cols, 5)
    assert row.shape == (1, 5) and row.toarray().tolist() == [[0, 2, 0, 5, 0]]
    assert row.indptr.tolist() == [0, 2] and row.nnz == 2
    built = sp.csr_matrix((data, cols, np.array([0, 2], dtype=np.int32)), shape=(1, 5))
    assert (row.indptr.dtype, row.indices.dtype, row.data.dtype) == (
        built.indptr.dtype, built.indices.dtype, built.data.dtype)
    other = runtime._single_row(np.array([1.0], dtype=np.float32), np.array([0], dtype=np.int32), 5)
    assert other.toarray().tolist() == [[1, 0, 0, 0, 0]] and row.toarray().tolist() == [[0, 2, 0, 5, 0]]
    wide = runtime._single_row(data, cols, 2**31 + 5)
    assert wide.shape == (1, 2**31 + 5) and wide.indices.tolist() == [1, 3] and wide.data.tolist() == [2, 5]


def test_the_row_templates_are_bounded():
    runtime._ROW_TEMPLATES.clear()
    for n in range(6, 6 + 70):
        runtime._single_row(np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int32), n)
    assert 0 < len(runtime._ROW_TEMPLATES) <= 65


# -- top-n, shares, exploration settings -----------------------------------------------------------
def test_top_n_masks_excluded_and_disallowed_items_and_orders_ties_stably():
    scores = np.array([1, 5, 5, 3, 9], dtype=np.float32)
    idx, vals = runtime.top_n(scores.copy(), 3, np.array([4]), None)
    assert idx.tolist() == [1, 2, 3] and vals.tolist() == [5, 5, 3]
    idx, _ = runtime.top_n(scores.copy(), 2, None, np.array([True, False, True, True, True]))
    assert idx.tolist() == [4, 2]
    idx, vals = runtime.top_n(scores.copy(), 9, np.array([], dtype=int), None)
    assert idx.tolist() == [4, 1, 2, 3, 0] and vals.dtype == np.float32
    idx, vals = runtime.top_n(scores.copy(), 0, None, None)
    assert idx.tolist() == [] and vals.tolist() == [] and idx.dtype == np.int64 and vals.dtype == np.float32
    idx, vals = runtime.top_n(scores.copy(), 5, np.array([4]), np.array([True, True, False, True, True]))
    assert idx.tolist()[:3] == [1, 3, 0] and vals.tolist() == [5, 3, 1, -np.inf, -np.inf]
    idx, _ = runtime.top_n(scores.copy(), 1, None, None)
    assert idx.tolist() == [4]


def test_top_n_is_the_batch_top_k_for_one_row():
    from engine.recipes.base import top_k

    rng = np.random.default_rng(5)
    for trial in range(300):
        n_items = int(rng.integers(20, 1000))
        scores = rng.integers(0, 40, n_items).astype(np.float32)  # many ties
        n = int(rng.integers(1, n_items))
        idx, vals = runtime.top_n(scores.copy(), n, None, None)
        expected_idx, expected_vals = top_k(scores[None, :].copy(), n)
        assert idx.tolist() == expected_idx[0].tolist(), trial
        assert vals.tolist() == expected_vals[0].tolist(), trial


def test_normalise_makes_shares_of_the_positive_total():
    shares = runtime.normalise(np.array([2, -1, np.nan, np.inf, 2, -np.inf]))
    assert shares.tolist() == [0.5, 0, 0, 0, 0.5, 0]
    assert runtime.normalise(np.array([-1.0, 0.0])).tolist() == [0, 0]
    assert runtime.normalise(np.array([0.2, 0.6, -0.1])).tolist() == pytest.approx([0.25, 0.75, 0])


def test_exploration_settings_from_campaign_or_recommender_config():
    assert runtime._exploration({}) == (0.3, 30.0)
    config = {"itemExplorationConfig": {"explorationWeight": "0.5", "explorationItemAgeCutOff": "7"}}
    assert runtime._exploration({"campaignConfig": config}) == (0.5, 7.0)
    assert runtime._exploration({"recommenderConfig": config}) == (0.5, 7.0)
    bad = {"itemExplorationConfig": {"explorationWeight": "lots"}}
    assert runtime._exploration({"campaignConfig": bad}) is None
    bad_cutoff = {"itemExplorationConfig": {"explorationItemAgeCutOff": "soon"}}
    assert runtime._exploration({"campaignConfig": bad_cutoff}) is None


def test_user_random_is_seeded_by_the_user():
    expected = np.random.default_rng(zlib.crc32(b"u1")).random(3).tolist()
    assert runtime._UserRandom("u1").random(3).tolist() == expected
    assert runtime._UserRandom(None).random(2).tolist() == np.random.default_rng(0).random(2).tolist()
    drawn = runtime._UserRandom("u1")
    assert [drawn.random(), drawn.random()] == np.random.default_rng(zlib.crc32(b"u1")).random(2).tolist()


# -- GetRecommendations ----------------------------------------------------------------------------
def test_a_known_user_gets_unseen_items_with_their_share_of_the_positive_total():
    # u1 scores [5, 4, 3, 12, -1]: a is seen, e below zero; positive total 24.
    assert recommend(bundle(), "u1") == [("d", 0.5), ("b", 0.1666667), ("c", 0.125)]
    assert recommend(bundle(), "u1", n=9) == [("d", 0.5), ("b", 0.1666667), ("c", 0.125), ("e", 0.0)]
    allowed = np.array([True, True, False, True, True])
    assert recommend(bundle(), "u1", allowed=allowed) == [("d", 0.5), ("b", 0.1666667), ("e", 0.0)]


def test_events_since_training_change_a_known_users_list_and_older_ones_do_not():
    new_b = [("b", TRAINED_UNTIL + 1, "view")]
    # u1 with b: [5, 4, 3, 12, 19], a and b seen; total 43.
    assert recommend(bundle(), "u1", n=2, events=new_b) == [("e", 0.4418605), ("d", 0.2790698)]
    old_b = [("b", TRAINED_UNTIL, "view")]
    assert recommend(bundle(), "u1", n=2, events=old_b) == [("d", 0.5), ("b", 0.1666667)]


def test_an_unknown_user_is_served_from_their_events_or_popular_base_scores():
    assert recommend(bundle(), "new", n=2, events=[("a", 1, "view")]) == [("d", 0.5), ("b", 0.1666667)]
    assert recommend(bundle(), "new", n=2) == [("a", 0.3571429), ("b", 0.2857143)]


def test_exploration_runs_with_the_campaigns_settings_and_the_users_generator():
    model = Explorer()
    config = {"campaignConfig": {"itemExplorationConfig": {"explorationWeight": "0.5",
                                                           "explorationItemAgeCutOff": "7"}}}
    before = int(time.time())
    out = recommend(bundle(model), "u1", n=2, campaign=config)
    assert out[0][0] == "e"
    assert isinstance(model.nows[0], int) and before <= model.nows[0] <= time.time()
    first_draw = np.random.default_rng(zlib.crc32(b"u1")).random()
    assert model.calls == [(0.5, 7.0, first_draw)]
    recommend(bundle(model), "u1", n=2)
    assert model.calls[-1][:2] == (0.3, 30.0)
    for off in ("0", "nope"):
        calls = len(model.calls)
        cfg = {"campaignConfig": {"itemExplorationConfig": {"explorationWeight": off}}}
        assert recommend(bundle(model), "u1", n=2, campaign=cfg)[0][0] == "d"
        assert len(model.calls) == calls
    calls = len(model.calls)
    recommend(bundle(model, POPULAR_ITEMS), "u1", n=2)
    assert len(model.calls) == calls


def test_popular_items_recipes_do_not_exclude_what_the_user_has_seen():
    assert recommend(bundle(recipe_type=POPULAR_ITEMS), "u1", n=2) == [("d", 0.5), ("a", 0.2083333)]


def test_related_items_come_from_the_item_and_never_include_it():
    b = bundle(recipe_type=RELATED_ITEMS)
    # BOOST[d] = [1, 3, 2, 0, 6], d itself removed; total 12.
    assert recommend(b, item="d", n=3) == [("e", 0.5), ("b", 0.25), ("c", 0.1666667)]
    assert recommend(b, item="d", n=9) == [("e", 0.5), ("b", 0.25), ("c", 0.1666667), ("a", 0.0833333)]
    # An item the model never saw: popular items (popularity [1, 7, 3, 9, 2], total 22), none excluded.
    assert recommend(b, "u1", item="zz", n=2) == [("d", 0.4090909), ("b", 0.3181818)]
    # A user without an item on a related-items campaign is served from their history.
    assert recommend(b, "u1", n=1) == [("d", 0.5)]


def test_the_wrong_kind_of_request_is_refused_with_what_to_pass():
    with pytest.raises(InvalidInputException, match=r"^This campaign's recipe \(planted\) recommends for users: "
                                                     r"pass userId, not itemId\.$"):
        recommend(bundle(), item="a")
    assert recommend(bundle(), "u1", item="a", n=1) == [("d", 0.5)]
    with pytest.raises(InvalidInputException, match=r"^Pass itemId for a related-items campaign\.$"):
        recommend(bundle(recipe_type=RELATED_ITEMS))


def test_related_items_are_only_those_the_model_relates_and_shares_below_one_are_still_shares():
    b = bundle(recipe_type=RELATED_ITEMS)
    assert recommend(b, item="c", n=9) == []  # BOOST[c] is all zeros: nothing related
    # e relates to a (0.1) and b (0.3): shares of 0.4.
    assert recommend(b, item="e", n=2) == [("b", 0.75), ("a", 0.25)]
    assert recommend(b, item="e", n=9) == [("b", 0.75), ("a", 0.25)]


def test_nothing_positive_gives_zero_shares():
    negative = bundle(model=Planted())
    negative.model.score = lambda h: np.full((1, 5), -2.0, dtype=np.float32)
    assert sorted(recommend(negative, "new", n=9)) == [("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0), ("e", 0.0)]


def test_the_single_history_shortcut_serves_the_same_lists():
    for user, events in (("u1", []), ("u2", [("e", TRAINED_UNTIL + 1, "view")]), ("new", [("a", 1, "view")])):
        assert recommend(bundle(Shortcut()), user, n=4, events=events) == recommend(bundle(), user, n=4, events=events)


def test_a_nan_score_is_never_served_and_leaves_the_other_shares_alone():
    # u1 scores [5, 4, nan, 12, -1]: positive total 21.
    assert recommend(bundle(WithNaN()), "u1", n=9) == [("d", 0.5714286), ("b", 0.1904762), ("e", 0.0)]


# -- GetPersonalizedRanking ------------------------------------------------------------------------
def test_ranking_orders_known_items_by_score_and_puts_unknown_ones_last():
    # u1 scores c 3, b 4, d 12: shares of 19.
    ranked = runtime.rank(bundle(), "u1", ["c", "zz", "b", "c", "d", "yy", "zz"], [], None)
    assert ranked == [("d", 0.6315789), ("b", 0.2105263), ("c", 0.1578947), ("zz", 0.0), ("yy", 0.0)]
    allowed = np.array([True, False, True, True, True])
    assert runtime.rank(bundle(), "u1", ["c", "b", "d"], [], allowed) == [("d", 0.6315789), ("c", 0.1578947)]
    assert runtime.rank(bundle(), "u1", ["zz"], [], None) == [("zz", 0.0)]
    fresh = [("b", TRAINED_UNTIL + 1, "view")]
    assert runtime.rank(bundle(), "u1", ["d", "e"], fresh, None)[0] == ("e", 0.6129032)
    assert runtime.rank(bundle(), "u1", ["zz", "yy"], [], allowed) == [("zz", 0.0), ("yy", 0.0)]


def test_ranking_keeps_the_input_order_among_equal_scores():
    b = many_items_bundle({})
    b.model.rank = lambda history, cand: np.ones(len(cand), dtype=np.float32)
    order = [f"i{k}" for k in np.random.default_rng(1).permutation(130)]
    assert [it for it, _ in runtime.rank(b, "u", order, [], None)] == order
    levels = np.random.default_rng(2).integers(0, 3, 130).astype(np.float32)  # three scores, many ties each
    b.model.rank = lambda history, cand: levels[: len(cand)]
    expected = [order[j] for level in (2, 1, 0) for j in range(130) if levels[j] == level]
    assert [it for it, _ in runtime.rank(b, "u", order, [], None)] == expected


# -- the model cache -------------------------------------------------------------------------------
def test_the_model_cache_keeps_the_most_recently_used_bundles(tmp_path: Path):
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.pkl"
        bundle().save(path)
        paths.append(path)
    cache = runtime.ModelCache(capacity=2)
    a, b = cache.get(paths[0]), cache.get(paths[1])
    assert cache.get(paths[0]) is a and a.item_ids.tolist() == ITEMS.tolist()
    cache.get(paths[2])  # b is the least recently used now
    assert cache.get(paths[0]) is a
    assert cache.get(paths[1]) is not b
    cache.drop(paths[0])
    assert cache.get(paths[0]) is not a
    cache.drop(tmp_path / "never-loaded.pkl")
    assert runtime.ModelCache().get(paths[0]).recipe_name == "planted"


def test_the_default_cache_holds_sixteen_bundles(tmp_path: Path):
    path = tmp_path / "x.pkl"
    bundle().save(path)
    cache = runtime.ModelCache()
    paths = [tmp_path / f"{i}.pkl" for i in range(17)]
    for p in paths:
        p.write_bytes(path.read_bytes())
    loaded = [cache.get(p) for p in paths[:16]]
    assert cache.get(paths[0]) is loaded[0]
    cache.get(paths[16])  # evicts paths[1], the least recently used
    assert cache.get(paths[0]) is loaded[0] and cache.get(paths[2]) is loaded[2]
    assert cache.get(paths[1]) is not loaded[1]


# -- interaction filters ---------------------------------------------------------------------------
def typed(rows: dict[int, dict[int, int]], n_users: int = 2, n_items: int = 5) -> sp.csr_matrix:
    r = [u for u, items in rows.items() for _ in items]
    c = [i for items in rows.values() for i in items]
    v = [rank for items in rows.values() for rank in items.values()]
    m = sp.csr_matrix((np.array(v, dtype=np.float32), (r, c)), shape=(n_users, n_items))
    m.sort_indices()
    return m


EXCLUDE_VIEWED = filters.parse('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")')


def test_interaction_filters_see_training_and_fresh_events_but_not_other_types():
    b = bundle(typed={"view": typed({0: {0: 1, 2: 2}}), "buy": typed({0: {3: 1}})})
    events = [("b", TRAINED_UNTIL + 1, "view"), ("d", TRAINED_UNTIL, "view"), ("e", TRAINED_UNTIL + 2, "buy")]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u1", events, b.typed_history)
    assert mask.tolist() == [False, False, False, True, True]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "new", [("d", 1, "view")], b.typed_history)
    assert mask.tolist() == [True, True, True, False, True]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, None, [("d", 1, "view")], b.typed_history)
    assert mask.tolist() == [True, True, True, False, True]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u2", events, b.typed_history)
    assert mask.tolist() == [True, False, True, True, True]  # u2 viewed nothing in training; b since
    bought = filters.parse('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")')
    mask = runtime.filter_mask(b, bought, {}, no_item_condition, "u1", events, b.typed_history)
    assert mask.tolist() == [True, True, True, False, False]


def test_an_excluding_filters_positions_are_what_its_mask_takes_out():
    """filter_exclusions (serving's form of a filter that only excludes interactions) against filter_mask,
    over training rows, fresh events, unknown items, several types and every type."""
    b = bundle(typed={"view": typed({0: {0: 1, 2: 2}, 1: {4: 1}}), "buy": typed({0: {3: 1, 2: 3}})})
    events = [("b", TRAINED_UNTIL + 1, "view"), ("d", TRAINED_UNTIL, "view"), ("e", TRAINED_UNTIL + 2, "buy"),
              ("zz", TRAINED_UNTIL + 3, "view"), ("b", TRAINED_UNTIL + 4, "View")]
    for expression in ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")',
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view", "BUY")',
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy") | '
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE = "view"',
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'):
        clauses = filters.parse(expression)
        wanted = filters.excluded_interaction_types(clauses, {})
        assert wanted is not None
        for user in ("u1", "u2", "new", None):
            for sent in ([], events):
                mask = runtime.filter_mask(b, clauses, {}, no_item_condition, user, sent, b.typed_history)
                excluded = runtime.filter_exclusions(b, wanted, user, sent, b.typed_history)
                assert runtime.without(5, excluded).tolist() == mask.tolist(), (expression, user, sent)


def test_interaction_filters_read_only_the_users_own_training_row():
    b = bundle(typed={"view": typed({0: {0: 1}, 1: {4: 1}})})
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u1", [], b.typed_history)
    assert mask.tolist() == [False, True, True, True, True]


def no_item_condition(cond, values):
    raise AssertionError(f"an interactions-only filter asked for an Items condition: {cond}")


def items_of(b: ModelBundle, meta: pd.DataFrame):
    """The Items conditions answered from `meta` (aligned with the bundle's items), as serving does."""
    return lambda cond, values: filters.item_condition_mask(cond, values, pd.Index(b.item_ids), meta)


def test_item_filters_with_placeholders_are_evaluated_for_the_request():
    meta = pd.DataFrame({"CATEGORY": ["x", "y", "x", "z", "y"]})
    clauses = filters.parse("INCLUDE ItemID WHERE Items.CATEGORY IN ($C)")
    b = bundle()
    mask = runtime.filter_mask(b, clauses, {"C": '"y"'}, items_of(b, meta), "u1", [], {})
    assert mask.tolist() == [False, True, False, False, True]


def many_items_bundle(typed_history: dict) -> ModelBundle:
    items = np.array([f"i{k}" for k in range(130)], dtype=object)
    history = sp.csr_matrix((1, 130), dtype=np.float32)
    return ModelBundle(model=Planted(), recipe_name="planted", recipe_type=USER_PERSONALIZATION,
                       user_ids=np.array(["u"], dtype=object), item_ids=items, history=history,
                       item_created=np.zeros(130, dtype=np.int64), trained_until=TRAINED_UNTIL,
                       typed_history=typed_history)


def test_interaction_filters_count_a_users_hundred_newest_per_type_fresh_first():
    assert runtime.RECENT_PER_TYPE == 100
    trained = typed({0: {k: k + 1 for k in range(10)}}, n_users=1, n_items=130)  # i0 newest ... i9 oldest
    b = many_items_bundle({"view": trained})
    fresh = [(f"i{k}", TRAINED_UNTIL + k, "view") for k in range(20, 115)]  # 95 fresh: 5 left for training
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u", fresh, b.typed_history)
    excluded = {f"i{k}" for k in np.flatnonzero(~mask)}
    assert excluded == {f"i{k}" for k in [*range(0, 5), *range(20, 115)]}


def test_without_fresh_events_the_hundred_newest_trained_interactions_count():
    trained = typed({0: {k: k + 1 for k in range(101)}}, n_users=1, n_items=130)  # i0 newest ... i100 oldest
    b = many_items_bundle({"view": trained})
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u", [], b.typed_history)
    assert {f"i{k}" for k in np.flatnonzero(~mask)} == {f"i{k}" for k in range(100)}


def test_only_the_hundred_newest_fresh_events_of_a_type_count():
    b = many_items_bundle({"view": typed({0: {120: 1}}, n_users=1, n_items=130)})
    fresh = [(f"i{k}", TRAINED_UNTIL + 1 + k, "view") for k in range(105)]
    mask = runtime.filter_mask(b, EXCLUDE_VIEWED, {}, no_item_condition, "u", fresh[::-1], b.typed_history)
    excluded = {f"i{k}" for k in np.flatnonzero(~mask)}
    assert excluded == {f"i{k}" for k in range(5, 105)}


def test_ranking_shares_are_computed_in_double_precision():
    b = bundle()
    b.model.rank = lambda history, cand: np.array([40, 32, 45], dtype=np.float32)
    # 40 / 117 = 0.34188034...: float32 arithmetic would print 0.3418804.
    assert runtime.rank(b, "u1", ["a", "b", "c"], [], None) == [("c", 0.3846154), ("a", 0.3418803), ("b", 0.2735043)]
