"""The compiled serving loops (engine.compiled) against the numpy path they stand in for: the same
scores bit for bit, the same top n, and the same GetRecommendations answers from a model trained on a
catalogue large enough to use them. Also the per-cell recency weights serving slices for a known user
(ModelBundle.cell_weights) against ranking the row's items per request."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.sparse as sp

from engine import compiled, runtime, training
from engine.recipes.ease_scoring import _dense_rows, ease_row_sum, weighted_row_sum
from engine.recipes.registry import RECIPES
from tests.support.synthetic_shop import make_training_input

N_ITEMS = compiled.MIN_ITEMS + 904  # above the size the loops are used from

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")


def test_the_loops_compile() -> None:
    """With numba installed the loops must compile: a failure would only show as slower serving."""
    assert compiled.kernels() is not None


@contextlib.contextmanager
def numpy_only() -> Iterator[None]:
    """Serve with the numpy path whatever the catalogue's size, within the `with` block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled, "MIN_ITEMS", 10**12)
        yield


def _local_b(rng: np.random.Generator) -> sp.csr_matrix:
    """A B shaped like a local EASE's: most rows short, a few nearly dense, some empty, a -0.0 stored."""
    n = N_ITEMS
    lengths = rng.choice([0, 3, 12, 40], n, p=[0.1, 0.5, 0.3, 0.1])
    heavy = rng.choice(n, 30, replace=False)
    lengths[heavy] = rng.integers(n // 30, n // 2, len(heavy))
    rows = np.repeat(np.arange(n), lengths)
    cols = np.concatenate([rng.choice(n, k, replace=False) for k in lengths if k])
    b = sp.csr_matrix((rng.standard_normal(len(rows)).astype(np.float32), (rows, cols)), shape=(n, n))
    b.sort_indices()
    # Negative zeros stored in a light and in a heavy row: numpy's sums keep or lose their sign in ways
    # the loops must follow.
    b.data[b.indptr[np.argmax(lengths == 3)]] = -0.0
    b.data[b.indptr[heavy[0]]:b.indptr[heavy[0]] + 50] = -0.0
    return b


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.int32)


def _sums(b: sp.csr_matrix, cols: np.ndarray, weights: np.ndarray, plus: tuple) -> tuple[np.ndarray, ...]:
    return (ease_row_sum(b, cols), weighted_row_sum(b, cols, weights), ease_row_sum(b, cols, plus),
            weighted_row_sum(b, cols, weights, plus))


def test_row_sums_are_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    b = _local_b(rng)
    lengths = np.diff(b.indptr)
    heavy, light = np.flatnonzero(lengths > N_ITEMS / 40), np.flatnonzero((lengths > 0) & (lengths < 20))
    histories = [np.zeros(0, np.int32), light[:1], heavy[:1], light[:25], heavy[:6], [heavy[0]],
                 np.sort(np.concatenate([heavy[:1], light[:3]])),
                 np.sort(np.concatenate([heavy[:4], light[:40]])), np.unique(rng.integers(0, N_ITEMS, 300))]
    for cols in histories:
        cols = np.asarray(cols, dtype=np.int32)
        weights = rng.choice(np.array([1.0, 0.5, 2.0 ** -7, 1e-6, -0.5], np.float32), len(cols))
        weights[:1] = -0.5  # a zero of B times a negative weight is -0.0, which numpy's zeros + turns +0.0
        plus = (np.float32(1e-6), rng.random(N_ITEMS).astype(np.float32))
        plus[1][:40] = -0.0

        compiled_sums = _sums(b, cols, weights, plus)
        with numpy_only():
            numpy_sums = _sums(b, cols, weights, plus)
        for got, want in zip(compiled_sums, numpy_sums, strict=True):
            assert got.dtype == np.float32 and got.shape == (N_ITEMS,) and got.flags.writeable
            np.testing.assert_array_equal(_bits(got), _bits(want))
    assert not compiled._scratch(N_ITEMS).any()  # left zero for the next row


def _reference_rank(scores: np.ndarray, k: int, exclude: np.ndarray, allowed: np.ndarray | None):
    ok = np.isfinite(scores)
    ok[exclude] = False
    if allowed is not None:
        ok &= allowed
    items = np.flatnonzero(ok)
    order = np.lexsort((items, -scores[items].astype(np.float64)))[:k]  # best first, then the lower item
    finite = scores[np.isfinite(scores)].astype(np.float64)
    total = np.float32(finite[finite > 0].sum())
    return items[order], np.round((np.maximum(scores[items[order]], 0) / total).astype(np.float64), 7)


@pytest.mark.parametrize("k", [1, 25, 500, 6000])
def test_the_ranking_takes_the_k_best_allowed_finite_scores_lower_item_first_on_ties(k: int) -> None:
    rng = np.random.default_rng(k)
    scores = rng.standard_normal(N_ITEMS).astype(np.float32)
    scores[rng.choice(N_ITEMS, 40, replace=False)] = scores[7]  # ties, some at the cut
    scores[[11, 12]] = np.nan
    scores[[13, 14]] = -np.inf
    scores[15] = np.inf  # never recommended, never counted in the total (as the numpy path does)
    exclude = np.unique(rng.integers(0, N_ITEMS, 30)).astype(np.int32)
    for allowed in (None, rng.random(N_ITEMS) < 0.3):
        before = scores.copy()
        idx, shares = compiled.kernels().rank_row(
            scores, exclude, allowed if allowed is not None else np.zeros(0, bool), allowed is not None, k)
        want_idx, want_shares = _reference_rank(scores, k, exclude, allowed)
        np.testing.assert_array_equal(idx, want_idx)
        assert shares.dtype == np.float64
        # The total is summed in vector lanes: in another order than here, so to within a rounding.
        np.testing.assert_allclose(shares, want_shares, rtol=1e-6, atol=1.01e-7)
        np.testing.assert_array_equal(_bits(scores), _bits(before))  # the row is left as it was


@pytest.mark.parametrize("k", [3, 25, 300])
def test_blocks_are_skipped_only_below_k_better_scores(k: int) -> None:
    """The ranking reads item by item only the blocks whose best eligible score reaches the k-th best
    block's. Planted: the best of many blocks excluded or filtered out (their blocks' best is then
    another item), and signed zeros, equal as floats, tied across blocks (the lower item first)."""
    rng = np.random.default_rng(k)
    scores = np.where(rng.random(N_ITEMS) < 0.5, np.float32(0.0), np.float32(-0.0)).astype(np.float32)
    peaks = np.arange(5, N_ITEMS, 64)  # one high score in every block
    scores[peaks] = rng.random(len(peaks)).astype(np.float32) + 1
    scores[rng.choice(N_ITEMS, 200, replace=False)] = -rng.random(200).astype(np.float32)
    exclude = np.sort(rng.choice(peaks, len(peaks) // 2, replace=False)).astype(np.int32)
    for allowed in (None, rng.random(N_ITEMS) < 0.7):
        idx, shares = compiled.kernels().rank_row(
            scores, exclude, allowed if allowed is not None else np.zeros(0, bool), allowed is not None, k)
        want_idx, want_shares = _reference_rank(scores, k, exclude, allowed)
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_allclose(shares, want_shares, rtol=1e-6, atol=1.01e-7)


def test_the_kth_largest_block_best_is_selected_as_a_sort_would() -> None:
    from engine import _kernels

    rng = np.random.default_rng(8)
    for trial in range(500):
        n = int(rng.integers(1, 400))
        values = rng.integers(-5, 5 if trial % 2 else 10**6, n).astype(np.int32)  # many repeats, or few
        k = int(rng.integers(1, n + 1))
        assert _kernels._kth_largest(values.copy(), k) == np.sort(values)[::-1][k - 1]
    ascending = np.arange(1000, dtype=np.int32)  # item order following the scores
    assert _kernels._kth_largest(ascending.copy(), 25) == 975
    assert _kernels._kth_largest(np.full(800, -7, np.int32), 300) == -7  # blocks all filtered out alike


def test_negative_and_positive_zeros_tie_across_blocks() -> None:
    """-0.0 == +0.0: a first block of negative zeros is not below the later blocks' positive zeros, so
    its items (the lower ones) fill the places left after the positive scores."""
    scores = np.zeros(N_ITEMS, dtype=np.float32)
    scores[:64] = -0.0
    scores[np.arange(100, 100 + 10 * 64, 64)] = np.arange(1, 11, dtype=np.float32)  # ten blocks' best
    scores[-64:] = -1
    idx, _ = compiled.kernels().rank_row(scores, np.zeros(0, np.int32), np.zeros(0, bool), False, 15)
    assert idx.tolist() == [*range(100 + 9 * 64, 99, -64), 0, 1, 2, 3, 4]


def test_the_ranking_equals_top_n_without_ties() -> None:
    rng = np.random.default_rng(1)
    scores = rng.permutation(N_ITEMS).astype(np.float32) / N_ITEMS - 0.2
    exclude = np.unique(rng.integers(0, N_ITEMS, 12)).astype(np.int32)
    allowed = rng.random(N_ITEMS) < 0.5
    idx, shares = compiled.kernels().rank_row(scores, exclude, allowed, True, 25)
    want_idx, want_shares = runtime._ranked(scores, 25, exclude, allowed)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(shares, want_shares, rtol=1e-6, atol=1.01e-7)


def test_a_row_without_positive_scores_has_zero_shares() -> None:
    scores = -np.arange(1, N_ITEMS + 1, dtype=np.float32)
    idx, shares = compiled.kernels().rank_row(scores, np.zeros(0, np.int32), np.zeros(0, bool), False, 3)
    assert idx.tolist() == [0, 1, 2] and shares.tolist() == [0.0, 0.0, 0.0]


@pytest.fixture(scope="module")
def bundle():
    """aws-user-personalization trained on a catalogue that uses the loops: local EASE, recency-weighted."""
    data = make_training_input(n_users=1_500, n_items=N_ITEMS, n_interactions=30_000, seed=11)
    data = dataclasses.replace(data, params={"model": "local_ease", "recency_half_life": "5"})
    b = training.train(RECIPES["aws-user-personalization"], data, "FULL", None, None)
    assert b.model.engine == "local_ease" and sp.issparse(b.model.ease_b) and b.recency is not None
    return b


def test_recommendations_are_the_numpy_paths(bundle) -> None:
    users = [str(u) for u in bundle.user_ids[:60]] + ["a-new-user"]
    item = str(bundle.item_ids[5])
    allowed = np.random.default_rng(0).random(N_ITEMS) < 0.4
    cases = [(u, events, mask) for u in users for events, mask in
             (([], None), ([(item, bundle.trained_until + 5, "click")], None), ([], allowed))]
    got = [runtime.recommend(bundle, {}, u, None, 25, events, mask) for u, events, mask in cases]
    with numpy_only():
        want = [runtime.recommend(bundle, {}, u, None, 25, events, mask) for u, events, mask in cases]
    for g, w in zip(got, want, strict=True):
        assert len(g) == 25
        # The total is summed in another order (float64 lanes, float32 pairwise): shares agree to ~1 ulp.
        np.testing.assert_allclose([s for _, s in g], [s for _, s in w], rtol=1e-6, atol=1.5e-7)
        # Equal scores come in another order (the loops list the lower item first, numpy's partition in
        # no set order), and which of the items tied at the cut make it is open in both.
        assert [s for _, s in g] == sorted((s for _, s in g), reverse=True)
        above_cut = w[-1][1] + 2e-7
        assert {it for it, s in g if s > above_cut} == {it for it, s in w if s > above_cut}


def test_a_known_users_weights_are_sliced_from_the_cells_as_ranking_them_gives(bundle) -> None:
    weights = bundle.cell_weights()
    assert weights is not None and weights.dtype == np.float32 and len(weights) == bundle.history.nnz
    h = bundle.history
    for pos in range(0, len(bundle.user_ids), 7):
        start, end = h.indptr[pos], h.indptr[pos + 1]
        ranked = runtime.recency_weighted(bundle, pos, h.indices[start:end].astype(np.int32), [])
        np.testing.assert_array_equal(_bits(weights[start:end]), _bits(ranked))
    _, data = runtime.history_arrays(bundle, str(bundle.user_ids[3]), [])
    data[:] = 0  # what serving gets is a copy: the next request's slice is intact
    np.testing.assert_array_equal(runtime.history_arrays(bundle, str(bundle.user_ids[3]), [])[1],
                                  weights[h.indptr[3]:h.indptr[4]])


def test_cells_laid_out_otherwise_are_not_sliced(bundle) -> None:
    other = dataclasses.replace(bundle, recency=bundle.recency[::-1], _cell_weights=None)
    assert other.cell_weights() is None
    cols, data = runtime.history_arrays(other, str(other.user_ids[0]), [])
    pos = 0
    want = runtime.recency_weighted(other, pos, cols, [])
    np.testing.assert_array_equal(data, want)


def test_a_trained_row_is_ranked_in_one_call_as_the_general_path_ranks_it(bundle) -> None:
    """Known users without events since training take the bundle's trained-row ranker: the very items
    and shares of scoring history_arrays' row and ranking it, with and without a filter's mask."""
    allowed = np.random.default_rng(1).random(N_ITEMS) < 0.3
    users = [str(u) for u in bundle.user_ids[::9]]
    ranker = bundle.trained_row_ranker()
    assert ranker is not None and bundle.trained_row_ranker() is ranker  # prepared once
    for user in users:
        for mask in (None, allowed):
            pos = bundle.user_pos[user]
            assert ranker(pos, 25, mask, None) is not None
            fused = runtime.recommend(bundle, {}, user, None, 25, [], mask)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(runtime, "_trained_row_ranking", lambda *args: None)
                general = runtime.recommend(bundle, {}, user, None, 25, [], mask)
            assert fused == general
            seen = set(bundle.item_ids[bundle.history[pos].indices].tolist())
            assert len(fused) == 25 and not seen & {it for it, _ in fused}


def test_the_one_call_ranking_sums_an_unweighted_row_as_ease_row_sum() -> None:
    """`unweighted`: the row's items with a nonzero value summed as ease_row_sum sums them (a zero
    value neither sums nor excludes its item), then ranked."""
    rng = np.random.default_rng(5)
    b = _local_b(rng)
    history = sp.csr_matrix(sp.random(3, N_ITEMS, density=0.004, random_state=2, dtype=np.float32))
    history.sort_indices()
    values = np.ones(history.nnz, dtype=np.float32)
    values[::4] = 0
    plus = (np.float32(1e-6), rng.random(N_ITEMS).astype(np.float32))
    slot, block = _dense_rows(b)
    for pos in range(3):
        start, end = history.indptr[pos], history.indptr[pos + 1]
        cols, row_values = history.indices[start:end], values[start:end]
        for unweighted in (True, False):
            ranker = compiled.trained_row_ranker(b, slot, block, history, values, unweighted, plus)
            assert ranker is not None
            got = ranker(pos, 25, None, None)
            assert got is not None
            kept = cols[row_values != 0]
            scores = (ease_row_sum(b, kept, plus) if unweighted else weighted_row_sum(b, cols, row_values, plus))
            want = compiled.kernels().rank_row(scores, kept, np.zeros(0, bool), False, 25)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


def test_rows_of_other_index_types_take_the_general_path(bundle) -> None:
    """The loop is compiled for int32 indices: other arrays get None, never a compile while serving."""
    h = bundle.history
    wide = h.copy()
    wide.indices, wide.indptr = h.indices.astype(np.int64), h.indptr.astype(np.int64)  # scipy would narrow them
    assert bundle.model.trained_row_ranker(wide, bundle.cell_weights()) is None
    assert bundle.trained_row_ranker()(0, 25, None, np.array([3], np.int64)) is None
    # A bundle copied with another history prepares its own ranker, never the original's.
    other = dataclasses.replace(bundle, history=wide)
    assert other.trained_row_ranker() is None and bundle.trained_row_ranker() is not None


@pytest.mark.parametrize("weight", [0.0, -1.0, 0.3, float("nan")])
@pytest.mark.parametrize("age_days", [1.0, 1e6, float("nan")])
def test_explores_says_whether_explore_changes_the_scores(bundle, weight: float, age_days: float) -> None:
    """The one-call ranking skips exploration only where `explore` would return the scores as they are."""
    model = bundle.model
    now = int(bundle.trained_until)
    scores = np.random.default_rng(0).random((1, N_ITEMS)).astype(np.float32)
    explored = model.explore(scores.copy(), weight, age_days, now, np.random.default_rng(1))
    unchanged = np.array_equal(explored, scores, equal_nan=True)
    assert model.explores(weight, age_days, now) == (not unchanged)


def test_a_filters_excluded_positions_rank_as_its_mask(bundle) -> None:
    """A filter that only excludes interactions reaches the ranking as positions (any order, repeats, -1
    for unknown items): the same answers as the mask they stand for, in the one-call ranking (known
    users) and on the general path (a user with events since training, a new user)."""
    rng = np.random.default_rng(4)
    item = str(bundle.item_ids[5])
    for user in [str(u) for u in bundle.user_ids[::25]] + ["a-new-user"]:
        for events in ([], [(item, bundle.trained_until + 5, "click")]):
            excluded = rng.integers(-1, N_ITEMS, 40).astype(np.int32)
            got = runtime.recommend(bundle, {}, user, None, 25, events, None, excluded)
            want = runtime.recommend(bundle, {}, user, None, 25, events, runtime.without(N_ITEMS, excluded))
            assert got == want
            assert not {it for it, _ in got} & set(bundle.item_ids[excluded[excluded >= 0]].tolist())
