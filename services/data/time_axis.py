"""The time axis of a per-day chart, clipped to the bulk of the data so one bad row cannot stretch it.

A single event dated 2030 among a year of 2025 events turns "Events per day" into five empty years with
a sliver of data. The chart is drawn over the bulk instead, and the days left out are named beside it.
A day is left out only when it lies beyond far fences around the quartiles of the events' dates (three
interquartile ranges) *and* within the outer 0.5 % of the events at its end (or the outer five events,
for little data): the fences keep the thin first days of a shop that is ramping up, and the share caps
what may be hidden, so a chart never drops more than a sliver of real data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TAIL_SHARE = 0.005  # at most this share of events is left out at either end
TAIL_EVENTS = 5  # ... or this many, when the data is small
FENCE_IQRS = 3.0


@dataclass(frozen=True)
class ClippedDays:
    """`shown`: the days drawn (date, events); `outliers`: the days left out, oldest first."""

    shown: pd.DataFrame
    outliers: pd.DataFrame

    @property
    def clipped(self) -> bool:
        return not self.outliers.empty

    @property
    def outlier_events(self) -> int:
        return int(self.outliers["events"].sum()) if self.clipped else 0

    def note(self, limit: int = 5) -> str:
        """The days left out, in words; empty when none were."""
        if not self.clipped:
            return ""
        n, days = self.outlier_events, len(self.outliers)
        listed = ", ".join(f"{d:%Y-%m-%d} ({e:,})" for d, e in
                           zip(self.outliers["date"][:limit], self.outliers["events"][:limit], strict=True))
        more = f" and {days - limit:,} more" if days > limit else ""
        first, last = self.shown["date"].min(), self.shown["date"].max()
        return (f"{n:,} {'event' if n == 1 else 'events'} on {days:,} {'day' if days == 1 else 'days'} far "
                f"outside the bulk of the data ({first:%Y-%m-%d} to {last:%Y-%m-%d}) are left out of the "
                f"chart: {listed}{more}. Check their timestamps.")


def _weighted_quantiles(days: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    cumulative = np.cumsum(weights) / weights.sum()
    return [float(days[min(np.searchsorted(cumulative, q), len(days) - 1)]) for q in qs]


def clip_days(per_day: pd.DataFrame) -> ClippedDays:
    """Split `per_day` (columns date, events) into the bulk of the data and the far outliers."""
    frame = per_day.loc[per_day["events"] > 0].sort_values("date").reset_index(drop=True)
    if len(frame) < 3:
        return ClippedDays(frame, frame.iloc[0:0])
    days = (frame["date"] - frame["date"].min()).dt.days.to_numpy(dtype=float)
    weights = frame["events"].to_numpy(dtype=float)
    q1, q3 = _weighted_quantiles(days, weights, [0.25, 0.75])
    spread = max(q3 - q1, 1.0)
    beyond = (days < q1 - FENCE_IQRS * spread) | (days > q3 + FENCE_IQRS * spread)
    tail = max(TAIL_SHARE * weights.sum(), TAIL_EVENTS)
    from_start, from_end = np.cumsum(weights), np.cumsum(weights[::-1])[::-1]
    in_tail = (from_start <= tail) | (from_end <= tail)
    out = beyond & in_tail
    return ClippedDays(frame.loc[~out].reset_index(drop=True), frame.loc[out].reset_index(drop=True))
