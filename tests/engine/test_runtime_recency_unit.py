"""Serving's recency weights (`engine.runtime.recency_weighted`) in process, on the planted model of
`test_runtime_unit.py`: which rank each history item gets from the events sent since training and the
training events' recorded ranks. The weights here are 1 + rank, so a history's values show the ranks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine import runtime
from tests.engine.test_runtime_unit import TRAINED_UNTIL, Planted, bundle

T = TRAINED_UNTIL


class Ranked(Planted):
    """Weighs a history item by 1 + its recency rank (0 = the newest), as floats."""

    def history_weights(self, ranks: np.ndarray) -> np.ndarray | None:
        return ranks.astype(np.float64) + 1.0


def ranked_bundle(model=None):
    b = bundle(model or Ranked())
    # 1 + rank of each trained item: u1 had a (its newest); u2 had c newest, then b.
    b.recency = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 2, 1, 0, 0]], dtype=np.float32))
    return b


def test_a_known_users_training_items_are_weighted_by_their_recorded_rank() -> None:
    cols, data = runtime.history_arrays(ranked_bundle(), "u2", [])
    assert cols.tolist() == [1, 2] and data.tolist() == [2.0, 1.0] and data.dtype == np.float32


def test_events_sent_since_training_rank_first_newest_first_later_sent_first_within_a_second() -> None:
    sent = [("d", T + 5, "view"), ("a", T + 6, "view"), ("d", T + 6, "view"), ("c", T + 2, "view"),
            ("unknown-item", T + 9, "view"), ("e", T - 1, "view")]
    cols, data = runtime.history_arrays(ranked_bundle(), "u2", sent)
    # Sent, newest first: d (T+6, sent after a), a, d again, c; the unknown item takes no rank and e
    # was trained on. The trained ranks come behind those four: b 1 + 4, c 0 + 4 (its sent rank 3 wins).
    assert cols.tolist() == [0, 1, 2, 3]
    assert data.tolist() == [2.0, 6.0, 4.0, 1.0]


def test_an_unknown_users_sent_events_are_ranked_alone() -> None:
    cols, data = runtime.history_arrays(ranked_bundle(), "nobody", [("a", 1, "view"), ("b", 2, "view")])
    assert cols.tolist() == [0, 1] and data.tolist() == [2.0, 1.0]


def test_a_model_that_does_not_weigh_gets_ones() -> None:
    cols, data = runtime.history_arrays(ranked_bundle(Planted()), "u2", [("d", T + 1, "view")])
    assert cols.tolist() == [1, 2, 3] and data.tolist() == [1.0, 1.0, 1.0] and data.dtype == np.float32


def test_without_recency_ranks_the_counts_are_kept() -> None:
    cols, data = runtime.history_arrays(bundle(Ranked()), "u2", [("b", T + 1, "view")])
    assert cols.tolist() == [1, 2] and data.tolist() == [3.0, 1.0]


def test_served_scores_use_the_weighted_history() -> None:
    """u2 with e sent since training: ranks e 0, c 1, b 2, so weights e 1, c 2, b 3. Scores are
    BASE + 3 * BOOST[1] + 1 * BOOST[4] = [5.1, 4.3, 3, 2, 59] (the counts, b 2, would give e 39)."""
    out = runtime.recommend(ranked_bundle(), {}, "u2", None, 5, [("e", T + 3, "view")], None)
    assert [item for item, _ in out] == ["a", "d"]
    assert [share for _, share in out] == pytest.approx([5.1 / 73.4, 2 / 73.4], abs=1e-6)
