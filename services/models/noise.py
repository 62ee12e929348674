"""How much of a metric is noise: bootstrap intervals over the users a metric was averaged over.

The one noise rule of the Compare page. A metric averaged over a few hundred users moves when other
users are drawn; resampling those users with replacement (a seeded bootstrap) shows by how much on this
data, instead of a spread measured once elsewhere. Two versions scored on the same users are compared
pair-wise: the interval of the per-user difference, resampled with the same draws, says whether a lead
is real (the interval excludes 0) or within noise (it includes 0). Percentile intervals; the seed fixes
the draws, so the same values give the same interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

LEVEL = 0.90
RESAMPLES = 1000
SEED = 0


@dataclass(frozen=True)
class Interval:
    value: float  # the metric itself (the mean over users)
    low: float
    high: float
    users: int
    level: float = LEVEL

    def contains(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    def words(self, digits: int = 3, signed: bool = False) -> str:
        """'0.183 (90% interval 0.171 to 0.196)'; NaN values read 'n/a'."""
        if np.isnan(self.value):
            return "n/a"
        f = f"{{:+.{digits}f}}" if signed else f"{{:.{digits}f}}"
        return f"{f.format(self.value)} ({self.level:.0%} interval {f.format(self.low)} to {f.format(self.high)})"

    def cell(self, digits: int = 3) -> str:
        """'0.183 (0.171–0.196)', short enough for a table cell."""
        if np.isnan(self.value):
            return "n/a"
        if np.isnan(self.low):
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def _draws(n: int, seed: int, resamples: int) -> np.ndarray:
    """resamples × n user indices; the same seed and n give the same draws, so versions scored on the same
    users are resampled identically (a paired bootstrap)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_mean(per_user: np.ndarray, seed: int = SEED, resamples: int = RESAMPLES, level: float = LEVEL
                   ) -> Interval:
    """The mean over users and its percentile interval. NaN entries (a user the metric does not apply
    to, e.g. novelty of an empty list) are left out of each resample's mean."""
    values = np.asarray(per_user, dtype=np.float64)
    n = values.shape[0]
    if n == 0 or np.isnan(values).all():
        return Interval(float("nan"), float("nan"), float("nan"), 0, level)
    with warnings.catch_warnings():  # a resample of only NaN users has no mean: it is left out
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(values[_draws(n, seed, resamples)], axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(means, [tail, 100 - tail])
    return Interval(float(np.nanmean(values)), float(low), float(high), int(np.count_nonzero(~np.isnan(values))),
                    level)


def bootstrap_difference(a: np.ndarray, b: np.ndarray, seed: int = SEED, resamples: int = RESAMPLES,
                         level: float = LEVEL) -> Interval:
    """Interval of mean(a) - mean(b) for two versions' values on the same users, in the same order."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("a paired comparison needs both versions' values on the same users")
    return bootstrap_mean(a - b, seed, resamples, level)


@dataclass(frozen=True)
class Lead:
    leader: str
    runner_up: str
    difference: Interval  # leader minus runner-up, paired over the same users

    @property
    def within_noise(self) -> bool:
        return self.difference.contains(0.0)

    def words(self) -> str:
        d = self.difference.words(signed=True)
        if self.within_noise:
            return (f"{self.runner_up} is within noise of it (difference {d}, which includes 0): the data "
                    "cannot tell them apart, so compare on more users before choosing")
        return f"ahead of {self.runner_up} beyond noise (difference {d}, which excludes 0)"


def lead(per_user: Mapping[str, np.ndarray], seed: int = SEED, resamples: int = RESAMPLES, level: float = LEVEL
         ) -> Lead | None:
    """The best and the second-best entry by mean, and whether the data can tell them apart; None with
    fewer than two entries. Every entry holds values for the same users in the same order."""
    means = {name: float(np.nanmean(v)) if len(v) and not np.isnan(v).all() else float("-inf")
             for name, v in per_user.items()}
    ranked = sorted(means, key=lambda name: -means[name])
    if len(ranked) < 2:
        return None
    top, runner = ranked[0], ranked[1]
    return Lead(top, runner, bootstrap_difference(per_user[top], per_user[runner], seed, resamples, level))
