"""aws-trending-now: the items whose interactions grow fastest, the same list for everyone.

Windows: the *recent* window is the last `trend_window_days` days before the newest interaction, the
*previous* window the same length just before it. Default: 7 days, or half the data's time span when
that is shorter than two weeks (so small or short datasets still have two windows).

Score = (recent - previous) / sqrt(previous + 1): the growth measured in Poisson standard deviations
of the previous count, so an item going from 0 to 1 does not outrank one going from 100 to 300.
Ties break by the recent count, then overall popularity. Items that shrink score below zero.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender, TrainingInput
from .user_personalization import _param

DAY = 86_400


class TrendingNow(Recommender):
    recipe_name = "aws-trending-now"

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.window_days = _param(self.params, "trend_window_days", 0.0)  # 0: the default above
        self.trend = np.zeros(0, dtype=np.float32)
        self.window_seconds = 0.0

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
        recent_mask = ts > end - window
        prev_mask = (ts > end - 2 * window) & ~recent_mask
        recent = np.bincount(inter.item_index[recent_mask], minlength=n).astype(np.float64)
        previous = np.bincount(inter.item_index[prev_mask], minlength=n).astype(np.float64)
        growth = (recent - previous) / np.sqrt(previous + 1.0)
        total = self.popularity.astype(np.float64)
        tiebreak = 1e-3 * recent / (recent.max() + 1.0) + 1e-6 * total / (total.max() + 1.0)
        self.trend = (growth + tiebreak).astype(np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.trend, (histories.shape[0], self.n_items)).copy()
