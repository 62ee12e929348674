"""Serving's one-history shortcut for EASE, dense and local (sparse B, the form a 20k-item catalogue
trains): it must give bit for bit what the model's `score` gives the same one-row matrix, including
zero-valued entries (not seen) and repeated weights, and it must answer rather than decline."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.recipes.collaborative import binarize, ease_row_sum
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
    """The sparse row sum against scipy's own product of a binarised row, on a B with uneven rows,
    empty rows and random values (float32 sums in the same order: equal, not close)."""
    rng = np.random.default_rng(0)
    b = sp.random(200, 200, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    b.data = rng.standard_normal(len(b.data)).astype(np.float32)
    for size in (0, 1, 5, 60, 200):
        cols = np.sort(rng.choice(200, size, replace=False)).astype(np.int32)
        row = sp.csr_matrix((np.ones(size, dtype=np.float32), cols, np.array([0, size])), shape=(1, 200))
        np.testing.assert_array_equal(ease_row_sum(b, cols), (binarize(row) @ b).toarray()[0])
