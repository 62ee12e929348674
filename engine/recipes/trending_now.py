"""aws-trending-now: the items whose interactions grow fastest, the same list for everyone.

Windows: the *recent* window is the last `trend_window_days` days before the newest interaction, the
*previous* window the same length just before it. Default: 7 days, or half the data's time span when
that is shorter than two weeks (so small or short datasets still have two windows).

Score = a forecast of each item's count in the *next* window, extrapolating its growth:
recent * ((recent + 1) / (previous + 1)) ** damping. Growth lifts an item above a steady one with the
same recent count, and an item that shrinks sinks. The damping (0 = no extrapolation, the recent
window's popularity; 1 = the full growth ratio carried forward) comes from the data: when it spans three
windows, each candidate damping forecasts the recent window from the two before it, and the one whose
top items caught most of the recent window's interactions (rank-discounted) wins. Growth that kept going in the data's
own past is extrapolated; where a jump up was as often followed by a fall (noise, no trends), the
recent counts are the better forecast and the damping goes to 0. With fewer than three windows there is
nothing to check against: the middle of the grid (0.5). Ties break by overall popularity.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender, TrainingInput
from .user_personalization import _param

DAY = 86_400
DAMPINGS = (0.0, 0.25, 0.5, 0.75, 1.0)
UNCHECKED_DAMPING = 0.5
# The length of the list the damping is judged on: AWS's default numResults.
CHECK_TOP = 25


def forecast(recent: np.ndarray, previous: np.ndarray, damping: float) -> np.ndarray:
    """Next-window counts: the recent counts times the growth ratio raised to `damping`."""
    return recent * ((recent + 1.0) / (previous + 1.0)) ** damping


def choose_damping(recent: np.ndarray, previous: np.ndarray, before: np.ndarray) -> float:
    """The damping whose forecast of `recent` from (`previous`, `before`), as a ranked list of its top
    CHECK_TOP items, catches the most of the recent window's interactions, discounted by rank as NDCG
    does (so the order within the list counts, also in catalogues shorter than the list). Ties go to
    the smaller damping: extrapolate no more than the data supports."""
    k = min(CHECK_TOP, len(recent))
    if k == 0 or not recent.any():
        return UNCHECKED_DAMPING
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    best, chosen = -1.0, UNCHECKED_DAMPING
    for d in DAMPINGS:
        # Overall popularity in the past breaks ties among items the forecast cannot tell apart.
        f = forecast(previous, before, d) + 1e-6 * (previous + before)
        top = np.argsort(-f, kind="stable")[:k]
        caught = float((recent[top] * discount).sum())
        if caught > best + 1e-9:
            best, chosen = caught, d
    return chosen


class TrendingNow(Recommender):
    recipe_name = "aws-trending-now"

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.window_days = _param(self.params, "trend_window_days", 0.0)  # 0: the default above
        self.trend = np.zeros(0, dtype=np.float32)
        self.window_seconds = 0.0
        self.damping = UNCHECKED_DAMPING

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        inter = data.interactions
        n = self.n_items
        if not len(inter):
            self.trend = np.zeros(n, dtype=np.float32)
            return
        ts = inter.timestamp.astype(np.int64)
        end = int(ts.max())
        span = end - int(ts.min())
        window = self.window_days * DAY if self.window_days > 0 else min(7 * DAY, max(span / 2, 1.0))
        self.window_seconds = float(window)

        def counts(newer: int, older: int) -> np.ndarray:
            """Per item, events in (end - older windows, end - newer windows]."""
            mask = (ts > end - older * window) & (ts <= end - newer * window)
            return np.bincount(inter.item_index[mask], minlength=n).astype(np.float64)

        recent, previous = counts(0, 1), counts(1, 2)
        self.damping = (choose_damping(recent, previous, counts(2, 3)) if span >= 3 * window
                        else UNCHECKED_DAMPING)
        total = self.popularity.astype(np.float64)
        score = forecast(recent, previous, self.damping)
        self.trend = (score + 1e-3 * total / (total.max() + 1.0)).astype(np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.trend, (histories.shape[0], self.n_items)).copy()
