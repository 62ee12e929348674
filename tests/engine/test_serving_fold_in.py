"""Serving's one-history path for ALS and the EASE+ALS blend: the user's factor from one small k x k
solve instead of implicit's batch least squares over a one-row sparse matrix.

- the direct fold-in equals implicit's `recalculate_user` (the half-step ALS training makes) to float
  tolerance: implicit solves in float32, the direct solve in float64;
- `score_one` answers for ALS and blend models and gives bit for bit what `score` gives the same one-row
  matrix, and to float tolerance what `score` gives that row inside a batch (implicit's path)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.recipes.collaborative import ALSCore
from engine.recipes.selection import all_candidates
from engine.recipes.user_personalization import UserPersonalization
from tests.support.synthetic_shop import make_training_input


@pytest.fixture(scope="module")
def shop():
    return make_training_input(n_users=600, n_items=200, n_interactions=12_000, seed=5)


def _histories(n_items: int, seed: int, zeros: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sorted unique columns with repeated counts, explicit zeros (unless `zeros` is False), one item,
    and many items."""
    rng = np.random.default_rng(seed)
    out = []
    values = np.array([0.0, 1.0, 2.0, 7.0] if zeros else [1.0, 2.0, 7.0], dtype=np.float32)
    for size in (1, 2, 9, 40, 150):
        cols = np.unique(rng.integers(0, n_items, size)).astype(np.int32)
        data = rng.choice(values, len(cols))
        data[0] = 1.0
        out.append((cols, data))
    return out


def _row(cols: np.ndarray, data: np.ndarray, n_items: int) -> sp.csr_matrix:
    return sp.csr_matrix((data, cols, np.array([0, len(cols)])), shape=(1, n_items), dtype=np.float32)


@pytest.mark.parametrize("factors,regularization,alpha", [(64, 0.01, 1.0), (128, 5.0, 20.0), (16, 0.0, 3.0)])
def test_direct_fold_in_equals_implicits_least_squares(shop, factors: int, regularization: float,
                                                       alpha: float) -> None:
    core = ALSCore(factors, regularization, alpha, 10, seed=0)
    core.fit(shop.interactions.matrix())
    n_items = len(core.item_factors)
    histories = _histories(n_items, seed=factors)
    # implicit's batch least squares over all histories at once (several rows: not the direct path).
    batch = sp.vstack([_row(c, d, n_items) for c, d in histories], format="csr")
    want = core.fold_in(batch)
    scale = float(np.abs(want).max())  # one history may hold only items with zero factors (never seen)
    assert scale > 0
    for (cols, data), expected in zip(histories, want, strict=True):
        got = core.fold_in_one(cols, data)
        assert got.dtype == np.float32 and got.shape == (factors,)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * scale)
    np.testing.assert_array_equal(core.fold_in_one(np.zeros(0, np.int32), np.zeros(0, np.float32)),
                                  np.zeros(factors, np.float32))


def _blend_name() -> str:
    return next(c.name for c in all_candidates() if c.ease_scale > 0 and c.als_weight > 0)


@pytest.mark.parametrize("params", [{"model": "als"}, {"candidate": "blend"}])
def test_score_one_answers_for_als_and_blend(shop, params: dict[str, str]) -> None:
    if params.get("candidate") == "blend":
        params = {"candidate": _blend_name()}
    model = UserPersonalization(params, seed=0)
    model.fit(shop)
    assert model.engine == ("als" if params.get("model") == "als" else "blend")
    # No explicit zeros here: a batch's EASE counts a stored 0 as seen, one row's does not (serving's
    # histories hold event counts, never 0); the bit-for-bit comparison below has them.
    histories = _histories(model.n_items, seed=1, zeros=False)
    batch = model.score(sp.vstack([_row(c, d, model.n_items) for c, d in histories], format="csr"))
    for (cols, data), in_batch in zip(histories, batch, strict=True):
        fast = model.score_one(cols, data)
        assert fast is not None, "ALS and blends must take serving's shortcut"
        assert fast.dtype == np.float32 and fast.shape == (model.n_items,) and fast.flags.writeable
        np.testing.assert_array_equal(fast, model.score(_row(cols, data, model.n_items))[0])
        np.testing.assert_allclose(fast, in_batch, rtol=0, atol=1e-4 * float(np.abs(in_batch).max()))
        # The same items on top, but for near-ties at float tolerance.
        top = np.argsort(-fast, kind="stable")[:10]
        assert len(set(top.tolist()) & set(np.argsort(-in_batch, kind="stable")[:10].tolist())) >= 9
    for cols, data in _histories(model.n_items, seed=2):
        fast = model.score_one(cols, data)
        assert fast is not None
        np.testing.assert_array_equal(fast, model.score(_row(cols, data, model.n_items))[0])
    empty = model.score_one(np.zeros(0, np.int32), np.zeros(0, np.float32))
    np.testing.assert_array_equal(empty, model.score(_row(np.zeros(0, np.int32), np.zeros(0, np.float32),
                                                          model.n_items))[0])


def test_score_one_declines_a_row_beyond_the_models_items(shop) -> None:
    model = UserPersonalization({"model": "als"}, seed=0)
    model.fit(shop)
    assert model.score_one(np.array([0, model.n_items], dtype=np.int32), np.ones(2, np.float32)) is None


def test_group_bound_is_a_lower_bound_on_each_rows_kth_best_reached_by_k_items() -> None:
    """The one bound serving's top-n and the metrics' top-k share: never above a row's k-th best score,
    so no item of the top k is left out; None where it would not pay or with NaN."""
    from engine.topk import GROUP, GROUPS_PER_RESULT, group_bound

    rng = np.random.default_rng(2)
    for n_items in (GROUP * GROUPS_PER_RESULT, 5_000, 20_001):
        for k in (1, 7, 25):
            rows = rng.standard_normal((6, n_items)).astype(np.float32)
            rows[1] = np.round(rows[1])  # ties
            rows[2, rng.random(n_items) < 0.95] = -np.inf
            bound = group_bound(rows, k)
            if n_items // GROUP < GROUPS_PER_RESULT * k:
                assert bound is None
                continue
            assert bound is not None and bound.shape == (6,)
            kth = -np.partition(-rows, k - 1, axis=1)[:, k - 1]
            assert (bound <= kth).all()
            assert ((rows >= bound[:, None]).sum(axis=1) >= k).all()
            assert [group_bound(row, k) for row in rows] == bound.tolist()  # one row alike
    nan = rng.standard_normal((2, 5_000)).astype(np.float32)
    nan[1, 9] = np.nan
    assert group_bound(nan, 3) is None
