"""The training path's shortcuts give what the plain computations give: the metrics' bounded top-k,
the selection's rank-based NDCG, the neighbour lists' count floor, ALS's screen on large data, and
many histories' scores with a local EASE's dense rows split off."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.metrics import bounded_top_k, ndcg_at_k
from engine.recipes import selection
from engine.recipes.base import top_k
from engine.recipes.collaborative import _top_neighbours, binarize
from engine.recipes.ease_scoring import _dense_rows, rows_product
from tests.support.synthetic_shop import make_training_input


def _histories(rng: np.random.Generator, n_rows: int, n_items: int, per_row: int) -> sp.csr_matrix:
    rows = np.repeat(np.arange(n_rows), per_row)
    cols = rng.integers(0, n_items, n_rows * per_row)
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_rows, n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def test_bounded_top_k_equals_top_k_on_distinct_scores() -> None:
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((40, 8_000)).astype(np.float32)  # 125 groups: the bounded path
    seen = _histories(rng, 40, 8_000, 30)
    # Row 0's best items are all seen: the bound must come from what is left.
    scores[0, seen[0].indices] += 100.0
    expected = top_k(scores.copy(), 25, seen)[0]
    np.testing.assert_array_equal(bounded_top_k(scores.copy(), 25, seen), expected)


def test_bounded_top_k_with_ties_and_short_catalogues_keeps_the_same_scores() -> None:
    rng = np.random.default_rng(2)
    scores = np.zeros((12, 8_000), dtype=np.float32)
    scores[:6] = rng.integers(0, 3, (6, 8_000))  # heavy ties at the cut
    seen = _histories(rng, 12, 8_000, 5)
    ours = bounded_top_k(scores.copy(), 25, seen)
    plain = top_k(scores.copy(), 25, seen)[0]
    masked = scores.copy()
    masked[seen.nonzero()] = -np.inf
    np.testing.assert_array_equal(np.take_along_axis(masked, ours, 1), np.take_along_axis(masked, plain, 1))
    assert not (seen[np.arange(12)[:, None].repeat(25, 1), ours].toarray() > 0).any()
    small = rng.standard_normal((3, 50)).astype(np.float32)  # too few groups: the plain path
    empty = sp.csr_matrix((3, 50), dtype=np.float32)
    np.testing.assert_array_equal(bounded_top_k(small.copy(), 25, empty), top_k(small.copy(), 25)[0])


def test_selection_ndcg_from_ranks_equals_the_metric_on_a_top_k() -> None:
    rng = np.random.default_rng(3)
    n_rows, n_items = 60, 2_000
    scores = rng.standard_normal((n_rows, n_items)).astype(np.float32)
    seen = _histories(rng, n_rows, n_items, 20)
    truth = _histories(rng, n_rows, n_items, 3)
    truth = (truth - truth.multiply(seen)).tocsr()
    truth.eliminate_zeros()
    truth = truth[: n_rows - 5].copy()  # the last rows have no truth: they do not count
    truth.resize((n_rows, n_items))
    # Plant hits at known ranks so the sum is not near zero.
    for r in range(0, n_rows - 5, 3):
        scores[r, truth[r].indices] += 5.0
    expected = ndcg_at_k(top_k(scores.copy(), 25, seen)[0], truth, 25) * (n_rows - 5)
    assert expected > 5.0
    assert selection._ndcg_sum(scores.copy(), seen, truth) == pytest.approx(expected, rel=1e-9)


def test_neighbour_lists_are_the_plain_sort_where_the_count_floor_prunes() -> None:
    data = make_training_input(n_users=1500, n_items=300, n_interactions=30_000, seed=7)
    xb = binarize(data.interactions.matrix())
    g = (xb.T @ xb).tocsr()
    g.sum_duplicates()
    g.sort_indices()
    k = 8
    off_diag = g.copy().tolil()
    off_diag.setdiag(0)
    off_diag = off_diag.tocsr()
    off_diag.eliminate_zeros()
    # The floor prunes here: many rows have k or more entries counted 2 or more.
    assert ((off_diag >= 2).sum(axis=1).A.ravel() >= k).sum() > 100
    nb, valid, vals = _top_neighbours(g, k)
    # Taken in parts of a few rows on several threads (how 20M interactions fit in memory): the same lists.
    for part, threads in ((500, 1), (2_000, 3)):
        in_parts = _top_neighbours(g, k, rows_per_part=part, threads=threads)
        for got, want in zip(in_parts, (nb, valid, vals), strict=True):
            np.testing.assert_array_equal(got, want)
    for j in range(g.shape[0]):
        cols, counts = off_diag[j].indices, off_diag[j].data
        order = np.lexsort((cols, -counts))[:k]  # largest count first, then the lower column
        assert sorted(cols[order].tolist()) == nb[j][valid[j]].tolist()
        assert sorted(counts[order].tolist()) == sorted(vals[j][valid[j]].tolist())


@pytest.mark.parametrize("floor", [0.0, 10.0])
def test_large_data_screens_als_and_fits_it_in_full_when_it_passes(floor: float,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_training_input(n_users=1200, n_items=400, n_interactions=24_000, seed=5)
    # floor 0: ALS always passes the screen; floor 10: it never does (nor could anything).
    monkeypatch.setattr(selection, "BLEND_FLOOR", floor)
    chosen, measured = selection.choose(data.interactions, seed=4, dense=False, neighbors=16,
                                        max_interactions=8_000)
    names = [name for name, _ in measured]
    # Each λ at each recency half-life, then ALS.
    ease_names = [selection.decayed(c, hl).name for c in selection.EASE_CANDIDATES for hl in selection.HALF_LIVES]
    n = len(ease_names)
    assert names[:n] == ease_names
    if floor == 0.0:
        assert names[n] == selection.ALS_CANDIDATE.name and len(names) == n + 3
        # The recorded ALS figure is the full 15-sweep fit's, measured again the plain way.
        split = selection.selection_split(data.interactions, 4, 8_000)
        from engine.recipes.collaborative import ALSCore

        als = ALSCore(64, 0.01, 1.0, 15, 4)
        als.fit(split.train)
        n_truth = int((np.diff(split.truth.indptr) > 0).sum())
        direct = ndcg_at_k(top_k(als.scores(split.histories), 25, split.histories)[0], split.truth, 25)
        assert dict(measured)[names[n]] == pytest.approx(direct, abs=2.0 / n_truth)
    else:
        assert names == [*ease_names, selection.SCREENED_ALS.name]
        assert chosen.name in ease_names  # the screened figure can never be the one chosen
    assert dict(measured)[chosen.name] == max(score for _, score in measured)


def test_auto_fit_with_its_support_built_alongside_the_selection_is_the_plain_refit() -> None:
    from engine.recipes.selection import _l2, candidate_named
    from engine.recipes.user_personalization import UserPersonalization

    data = make_training_input(n_users=1200, n_items=400, n_interactions=24_000, seed=5)
    model = UserPersonalization({"ease_max_items": "100", "neighbors": "16"}, seed=1)  # local EASE
    model.fit(data)
    chosen = candidate_named(model.chosen)
    assert model.engine in ("local_ease", "blend") and chosen.ease_scale > 0
    x = data.interactions.matrix()
    from engine.recipes.collaborative import local_ease_weights

    plain = local_ease_weights(x, _l2(x, chosen), 16, dropout=chosen.dropout)
    assert isinstance(model.ease_b, sp.csr_matrix)
    assert (model.ease_b != plain).nnz == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_many_histories_scores_are_scipys_product_with_dense_rows_split_off(threads: int) -> None:
    """A B shaped like a local EASE's (most rows short, a few nearly dense, some empty) times histories
    with binary and with recency-weighted values: rows of only dense-row items, of only light ones, of
    both, and empty rows; the same values as scipy's product to float32 rounding."""
    rng = np.random.default_rng(5)
    n = 600
    b = sp.random(n, n, density=0.01, format="lil", dtype=np.float32, random_state=rng)
    heavy = [2, 3, 100, 599]
    for r in heavy:
        b[r, rng.choice(n, 400, replace=False)] = 1.0
    b = b.tocsr()
    b.data = rng.standard_normal(len(b.data)).astype(np.float32)
    assert sorted(np.flatnonzero(_dense_rows(b)[0] >= 0)) == heavy  # the split this test is about
    h = _histories(rng, 60, n, 12).tolil()
    h[0] = 0.0
    h[1, :] = 0.0
    h[1, heavy] = 1.0  # only dense rows
    h[2, :] = 0.0
    h[2, [7, 8, 9]] = 1.0  # only light rows
    h = h.tocsr()
    h.eliminate_zeros()
    for values in (binarize(h), h.multiply(rng.random(h.shape)).astype(np.float32).tocsr()):
        got = rows_product(values, b, threads)
        assert got.dtype == np.float32 and got.flags.c_contiguous and got.shape == (60, n)
        np.testing.assert_allclose(got, (values @ b).toarray(), rtol=1e-5, atol=1e-5)
        assert not got[0].any()
