"""Serving's one-history shortcut for EASE, dense and local (sparse B, the form a 20k-item catalogue
trains): it must give bit for bit what the model's `score` gives the same one-row matrix, including
zero-valued entries (not seen) and repeated weights, and it must answer rather than decline."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.recipes.collaborative import binarize
from engine.recipes.ease_scoring import ease_row_sum
from engine.recipes.user_personalization import UserPersonalization
from tests.support.synthetic_shop import make_training_input


@pytest.fixture(scope="module")
def shop():
    return make_training_input(n_users=900, n_items=300, n_interactions=18_000, seed=7)


@pytest.mark.parametrize("kind", ["ease", "local_ease"])
def test_score_one_equals_score_bit_for_bit(shop, kind: str) -> None:
    model = UserPersonalization({"model": kind}, seed=0)
    model.fit(shop)
    assert model.engine == kind and (sp.issparse(model.ease_b) == (kind == "local_ease"))
    rng = np.random.default_rng(4)
    histories = [np.zeros(0, dtype=np.int32)] + [
        np.unique(rng.integers(0, model.n_items, size)).astype(np.int32) for size in (1, 2, 7, 30, 120)
    ]
    for cols in histories:
        data = rng.choice(np.array([0.0, 1.0, 3.0], dtype=np.float32), len(cols))
        data[: min(len(cols), 1)] = 1.0
        fast = model.score_one(cols, data)
        assert fast is not None, "EASE must take serving's shortcut"
        matrix = sp.csr_matrix((data, cols, np.array([0, len(cols)])), shape=(1, model.n_items), dtype=np.float32)
        np.testing.assert_array_equal(fast, model.score(matrix)[0])
        assert fast.dtype == np.float32 and fast.flags.writeable


def test_sparse_row_sum_is_scipys_product() -> None:
    """The sparse row sum against scipy's own product of a binarised row, on a B shaped like a local
    EASE's: most rows short, a few nearly dense (kept as dense vectors), some empty."""
    rng = np.random.default_rng(0)
    b = sp.random(400, 400, density=0.004, format="lil", dtype=np.float32, random_state=rng)
    for heavy in (3, 50, 51, 399):
        b[heavy, rng.choice(400, 300, replace=False)] = 1.0
    b = b.tocsr()
    b.data = rng.standard_normal(len(b.data)).astype(np.float32)
    assert (np.diff(b.indptr) > 10).sum() == 4 and (np.diff(b.indptr) == 0).any()
    for cols in ([], [7], [3], [3, 4, 50, 51, 120], [*range(0, 400, 3)], [*range(400)]):
        cols = np.asarray(cols, dtype=np.int32)
        row = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, np.array([0, len(cols)])), shape=(1, 400))
        got = ease_row_sum(b, cols)
        assert got.dtype == np.float32 and got.shape == (400,)
        np.testing.assert_allclose(got, (binarize(row) @ b).toarray()[0], rtol=1e-5, atol=1e-6)


def _full_partition(scores: np.ndarray, n: int, exclude: np.ndarray, allowed: np.ndarray | None):
    scores = scores.copy()
    scores[exclude] = -np.inf
    if allowed is not None:
        scores[~allowed] = -np.inf
    k = min(n, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    order = np.argsort(-scores[part], kind="stable")
    return part[order], scores[part][order]


def test_top_n_picks_what_a_full_partition_picks() -> None:
    """The block-maximum preselection gives the same scores in the same order as partitioning every
    score, the same items above the cut, with ties, masked items, -inf runs and sizes on both sides
    of the preselection's threshold."""
    from engine.runtime import top_n

    rng = np.random.default_rng(0)
    for trial in range(300):
        size = int(rng.choice([10, 150, 5_000, 20_000, 20_001]))
        scores = rng.standard_normal(size).astype(np.float32)
        if trial % 3 == 0:
            scores = np.round(scores, 1)  # many ties
        if trial % 5 == 0:
            scores[rng.random(size) < 0.9] = -np.inf
        n = int(rng.choice([1, 10, 25, 500]))
        exclude = rng.choice(size, min(size, 30), replace=False)
        allowed = rng.random(size) < rng.choice([1.0, 0.3, 0.001]) if trial % 2 else None
        idx, vals = top_n(scores.copy(), n, exclude, allowed)
        want_idx, want_vals = _full_partition(scores, n, exclude, allowed)
        np.testing.assert_array_equal(vals, want_vals)
        assert len(set(idx.tolist())) == len(idx) == min(n, size)
        np.testing.assert_array_equal(np.sort(idx[vals > vals[-1]]), np.sort(want_idx[want_vals > want_vals[-1]]))
        kept = np.isfinite(vals)
        assert not set(idx[kept].tolist()) & set(exclude.tolist())
        if allowed is not None:
            assert allowed[idx[kept]].all()
