"""`engine.metrics.input_recency` worked out by hand: the held-out users' input cells valued 1 + the rank
of the item's newest input event, counted from the user's newest input event (the truth left out)."""

from __future__ import annotations

import numpy as np

from engine import metrics
from tests.engine.test_metrics_unit import data_of


def test_input_recency_ranks_each_held_users_input_items_by_their_newest_event() -> None:
    # User 0: 3, 1, 3, 5, 2 (five events: the newest tenth, at least one, is item 2, the truth).
    # User 1 is not held out. User 2: items 0..19 in order (twenty events: the truth is 19 and 18).
    events = [(0, 3), (1, 4), (0, 1), (0, 3), (1, 6), (0, 5), (0, 2)] + [(2, k) for k in range(20)]
    recency = metrics.input_recency(data_of(events, 3, 20), np.array([2, 0]))
    assert recency.shape == (2, 20) and recency.dtype == np.float32 and recency.has_sorted_indices
    expected = np.zeros((2, 20), dtype=np.float32)
    expected[0, :18] = 18 - np.arange(18)  # item 17 is the newest input event: 1; item 0: 18
    expected[1, [5, 3, 1]] = [1, 2, 3]  # item 3 by its newer event (rank 1), not its older one (3)
    assert recency.toarray().tolist() == expected.tolist()


def test_input_recency_of_no_held_users_is_empty() -> None:
    recency = metrics.input_recency(data_of([(0, 1), (0, 2)], 1, 3), np.zeros(0, dtype=np.int64))
    assert recency.shape == (0, 3) and recency.nnz == 0
