"""`engine.topk.group_bound` at its edges: the cases where it must decline (None) rather than bound."""

from __future__ import annotations

import numpy as np
import pytest

from engine.topk import GROUP, GROUPS_PER_RESULT, group_bound


@pytest.mark.parametrize("k", [0, -1])
def test_no_bound_is_given_for_no_results(k: int) -> None:
    """Asking for no results (or fewer) has no k-th best to bound, on a row long enough for any k."""
    rows = np.random.default_rng(0).standard_normal((3, GROUP * GROUPS_PER_RESULT * 8)).astype(np.float32)
    assert group_bound(rows, k) is None
    assert group_bound(rows[0], k) is None


def test_no_bound_is_given_for_a_batch_without_rows() -> None:
    """A batch of no users over a large catalogue: nothing to bound, so None (not an empty array)."""
    assert group_bound(np.zeros((0, GROUP * GROUPS_PER_RESULT * 8), dtype=np.float32), 3) is None


def test_one_row_and_a_batch_of_it_give_the_same_bound() -> None:
    """The single-row reduction and the batch reduction pick the same k-th group maximum."""
    row = np.random.default_rng(1).standard_normal(GROUP * GROUPS_PER_RESULT * 5).astype(np.float32)
    single = group_bound(row, 5)
    batch = group_bound(row[None, :], 5)
    assert single is not None and batch is not None
    assert single.shape == () and batch.shape == (1,)
    assert float(single) == float(batch[0])
