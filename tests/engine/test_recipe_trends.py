"""aws-trending-now's growth damping, chosen from the data's own past windows: growth that kept going is
extrapolated, growth that reverted is not."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.trending_now import DAY, UNCHECKED_DAMPING, TrendingNow


def weekly(counts: dict[int, list[int]], n_items: int, n_users: int = 300) -> TrainingInput:
    """Per item, exact event counts per week (oldest first), spread evenly inside each week."""
    rng = np.random.default_rng(0)
    u, i, t = [], [], []
    for item, per_week in counts.items():
        for week, c in enumerate(per_week):
            u.append(rng.integers(0, n_users, c))
            i.append(np.full(c, item))
            t.append(((week + (np.arange(c) + 0.5) / max(c, 1)) * 7 * DAY).astype(np.int64))
    user, item, ts = np.concatenate(u), np.concatenate(i), np.concatenate(t)
    order = np.argsort(ts, kind="stable")
    return TrainingInput(
        interactions=Interactions(user[order].astype(np.int32), item[order].astype(np.int32), ts[order],
                                  np.ones(len(ts), np.float32), n_users, n_items),
        user_ids=np.array([f"u{k}" for k in range(n_users)], dtype=object),
        item_ids=np.array([f"i{k}" for k in range(n_items)], dtype=object),
    )


def ranking(model: TrendingNow) -> list[int]:
    return model.recommend(sp.csr_matrix((1, model.n_items), dtype=np.float32), model.n_items)[0][0].tolist()


def steady(n: int, per_week: int, weeks: int = 4) -> dict[int, list[int]]:
    return {k: [per_week] * weeks for k in range(n)}


def test_growth_that_persisted_is_extrapolated() -> None:
    # Items 1-3 tripled every week, so a forecast that carries growth forward was right last week;
    # item 4 triples too, from lower: it outranks item 6, which has more recent events but is flat.
    counts = steady(12, 20) | {0: [100] * 4, 1: [4, 12, 36, 108], 2: [4, 12, 36, 108], 3: [4, 12, 36, 108],
                               4: [1, 3, 10, 30], 6: [60] * 4}
    model = TrendingNow({})
    model.fit(weekly(counts, 12))
    assert model.damping > 0
    order = ranking(model)
    assert order.index(4) < order.index(6)


def test_growth_that_reverted_is_not_extrapolated() -> None:
    # Item 1 jumped two weeks ago and fell back last week: extrapolating that jump would have put it
    # above item 0 wrongly. So this week's jump of item 2 is not extrapolated either: the list is the
    # recent window's popularity, and item 0 (100 a week, flat) stays above item 2 (60 this week).
    counts = steady(12, 20) | {0: [100] * 4, 1: [30, 30, 70, 30], 2: [20, 20, 20, 60]}
    model = TrendingNow({})
    model.fit(weekly(counts, 12))
    assert model.damping == 0.0
    order = ranking(model)
    assert order[:2] == [0, 2]
    assert order.index(1) < order.index(5)  # then by recent counts: item 1 had 30 last week, item 5 20


def test_short_data_keeps_the_middle_damping_and_still_favours_growth() -> None:
    # Two weeks: no earlier window to check a damping against.
    model = TrendingNow({})
    model.fit(weekly(steady(10, 10, weeks=2) | {0: [70, 70], 7: [2, 40]}, 10))
    assert model.damping == UNCHECKED_DAMPING
    assert ranking(model)[0] == 7
