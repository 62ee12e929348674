"""Benchmark: the duplication report on 10,000 users x 25 items (target: under 2 s).

Run: python -m bench.bench_duplication

Two shapes of the same size, both from a DataFrame (user_id, rank, item_id) as the page builds it:
- cold start: 70% of users get one popular list, the rest personal lists (the exact-Jaccard path);
- personal: every user's list differs (more distinct lists than EXACT_MAX_DISTINCT_LISTS, so the mean
  Jaccard is the sampled estimate; the exact all-pairs figure is timed too, to show the estimate's error).
Reference, measured in the same run: a naive pure-Python pairwise Jaccard on a 500-user sample,
extrapolated to all 10,000 users by the number of pairs (x ~400).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from services.recommendations.duplication import duplication_report
from services.recommendations.list_metrics import mean_pairwise_jaccard, recommendation_matrix

N_USERS, K, N_ITEMS = 10_000, 25, 3_000
REFERENCE_SAMPLE = 500


def _personal_lists(rng: np.random.Generator, n: int) -> np.ndarray:
    """n x K distinct item indices per row, Zipf-like popularity (Gumbel top-k sampling)."""
    log_p = -0.9 * np.log(np.arange(1, N_ITEMS + 1))
    out = np.empty((n, K), dtype=np.int64)
    for start in range(0, n, 2_000):  # bounded memory while generating, not timed
        g = log_p[None, :] + rng.gumbel(size=(min(2_000, n - start), N_ITEMS))
        top = np.argpartition(-g, K, axis=1)[:, :K]
        by_score = np.argsort(-np.take_along_axis(g, top, 1), axis=1)
        out[start:start + top.shape[0]] = np.take_along_axis(top, by_score, 1)
    return out


def _frame(index: np.ndarray) -> pd.DataFrame:
    n = index.shape[0]
    return pd.DataFrame({
        "user_id": np.repeat(np.array([f"user{u}" for u in range(n)], dtype=object), K),
        "rank": np.tile(np.arange(1, K + 1), n),
        "item_id": np.array([f"item{j}" for j in range(N_ITEMS)], dtype=object)[index.ravel()],
    })


def _naive_mean_jaccard(lists: list[list[str]]) -> float:
    sets = [set(x) for x in lists]
    total = sum(len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2))
    return total / (len(sets) * (len(sets) - 1) / 2)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(0)
    personal = _personal_lists(rng, N_USERS)
    cold = personal.copy()
    cold[rng.random(N_USERS) < 0.7] = np.arange(K)  # the 25 most popular items, in order
    history = pd.Series(np.where((cold == np.arange(K)).all(1), rng.integers(0, 3, N_USERS),
                                 rng.integers(3, 60, N_USERS)),
                        index=[f"user{u}" for u in range(N_USERS)])
    popularity = pd.Series(1e6 / np.arange(1, N_ITEMS + 1), index=[f"item{j}" for j in range(N_ITEMS)])
    options = dict(history_lengths=history, item_popularity=popularity, catalogue_size=N_ITEMS)

    print(f"duplication report, {N_USERS:,} users x {K} items, catalogue {N_ITEMS:,}")
    times = {}
    for name, index in (("cold start", cold), ("personal", personal)):
        frame = _frame(index)
        report, seconds = _timed(duplication_report, frame, campaign=name, **options)
        times[name] = seconds
        m = report.overall
        how = "exact" if m.mean_jaccard_exact else f"sampled, stderr {m.mean_jaccard_stderr:.5f}"
        print(f"  {name:10s}: {seconds:6.3f} s  level={report.level:8s} mean Jaccard {m.mean_jaccard:.4f} "
              f"({how}), same list {m.same_list_share:.1%}, personalization {m.personalization:.4f}")
        print(f"              verdict: {report.verdict}")

    x = recommendation_matrix(_frame(personal)).matrix
    exact, exact_s = _timed(mean_pairwise_jaccard, x, exact_max_distinct=N_USERS)
    sampled = mean_pairwise_jaccard(x)
    print(f"  exact all-pairs Jaccard on the personal case: {exact.value:.5f} in {exact_s:.2f} s; "
          f"sampled estimate off by {abs(sampled.value - exact.value):.5f} "
          f"({abs(sampled.value - exact.value) / sampled.stderr:.1f} stderr)")

    item_names = np.array([f"item{j}" for j in range(N_ITEMS)], dtype=object)
    sample = [item_names[row].tolist() for row in personal[:REFERENCE_SAMPLE]]
    naive_value, naive_s = _timed(_naive_mean_jaccard, sample)
    scale = (N_USERS * (N_USERS - 1)) / (REFERENCE_SAMPLE * (REFERENCE_SAMPLE - 1))
    naive_full = naive_s * scale
    print(f"  reference: naive Python pairwise Jaccard on {REFERENCE_SAMPLE} users {naive_s:.3f} s "
          f"(mean {naive_value:.4f}); extrapolated to {N_USERS:,} users: {naive_full:.0f} s")
    for name, seconds in times.items():
        verdict = "PASS" if seconds < 2.0 else "FAIL"
        print(f"  {name:10s}: {naive_full / seconds:,.0f}x faster than the naive reference; "
              f"target < 2 s: {verdict}")


if __name__ == "__main__":
    main()
