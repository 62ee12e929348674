"""The recipes other than user-personalization, each against an open or obvious baseline, over 5 splits,
in one run (in process, like bench_quality).

    python -m bench.bench_recipes --movielens        # MovieLens-100k from the cached recbole wheel
    python -m bench.bench_recipes                    # the synthetic shop (100k interactions by default)
    python -m bench.bench_recipes --only sims,trending --seeds 0,1

Three comparisons:

- **similar-items / SIMS on a next-item hold-out.** Per split seed, 20% of the users with at least two
  events are held out; each one's newest event is the truth and the event before it the query item.
  Every model trains on all events except those truths. Each model answers "items related to the query"
  (the query item excluded, as a GetRecommendations with itemId); metrics are hit rate@25 and NDCG@25.
  Baseline: implicit's item-kNN (`CosineRecommender`) at several K, an oracle (the best K by mean on the
  evaluation splits themselves); its lists are padded with popular items, as ours are, so an item with
  few neighbours does not lose the baseline hits it could not have scored anyway.
- **personalized-ranking on a candidate list.** The solution metrics' split (engine/metrics.py, 10% of
  users held out, their newest 10% the truth); each held-out user gets 100 candidates: the truth items
  plus items drawn in proportion to popularity (harder than uniform ones). aws-personalized-ranking
  reranks them through `rank()` (the engine's GetPersonalizedRanking path); the reference is the same
  candidates ordered by aws-user-personalization's scores, and popularity as the floor. NDCG@25 and
  hit rate@10 within the candidates.
- **trending-now on the most recent window.** Train on everything before a cutoff, predict the next
  window (the recipe's own window, 7 days by default): each user active in it, their new items there
  are the truth, items seen before the cutoff excluded. Baselines: aws-popularity-count (all time) and
  popularity counted over the last window before the cutoff. Splits: on real data the 5 most recent
  windows (rolling origins); with `--trend` (the synthetic shop plus a planted trend: a seeded set of
  tail items whose events triple every week over the last four weeks, as many as the data's own in the
  last week) the last window, 5 trend seeds.

Prints per split, mean ± standard deviation, and ours / the best baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_quality import movielens_100k, read_ratings, training_input
from engine.metrics import holdout_split, ndcg_at_k
from engine.recipes.base import Interactions, TrainingInput, top_k
from engine.recipes.personalized_ranking import PersonalizedRanking
from engine.recipes.popularity_count import PopularityCount
from engine.recipes.sims import SimilarItems, Sims
from engine.recipes.trending_now import DAY, TrendingNow
from engine.recipes.user_personalization import UserPersonalization
from tests.support.synthetic_shop import make_training_input

KNN_K = [20, 50, 100, 200, 400]
TOP_N = 25
N_CANDIDATES = 100
NEXT_ITEM_SHARE = 0.2


def subset(data: TrainingInput, keep: np.ndarray) -> TrainingInput:
    """`data` with only the events where `keep` is true (index spaces unchanged)."""
    return dataclasses.replace(data, interactions=data.interactions.only(keep))


def hit_ndcg(top: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Hit rate and NDCG for one truth item per row (NDCG is then 1 / log2(1 + rank))."""
    match = top == truth[:, None]
    rank = np.argmax(match, axis=1)
    hit = match.any(axis=1)
    return float(hit.mean()), float(np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0).mean())


# -- similar items: next-item hold-out ----------------------------------------------------------------
def next_item_split(data: TrainingInput, seed: int) -> tuple[TrainingInput, np.ndarray, np.ndarray]:
    """(training data without the held-out truths, query items, truth items)."""
    inter = data.interactions
    n = len(inter)
    order = np.lexsort((np.arange(n), inter.user_index))  # by user, then time (events ascend in time)
    users = inter.user_index[order]
    last = np.r_[users[1:] != users[:-1], True]
    counts = np.bincount(inter.user_index, minlength=inter.n_users)
    eligible = np.flatnonzero(counts >= 2)
    rng = np.random.default_rng(seed)
    held = rng.choice(eligible, max(1, round(NEXT_ITEM_SHARE * len(eligible))), replace=False)
    is_held = np.zeros(inter.n_users, dtype=bool)
    is_held[held] = True
    pos_last = np.flatnonzero(last & is_held[users])
    truth_ev, query_ev = order[pos_last], order[pos_last - 1]
    query, truth = inter.item_index[query_ev].astype(np.int64), inter.item_index[truth_ev].astype(np.int64)
    keep = np.ones(n, dtype=bool)
    keep[truth_ev] = False
    useful = query != truth  # the query item itself is never recommended
    return subset(data, keep), query[useful], truth[useful]


def knn_top(train: TrainingInput, k: int, query: np.ndarray) -> np.ndarray:
    from implicit.nearest_neighbours import CosineRecommender

    x = train.interactions.matrix()
    x.data[:] = 1.0
    model = CosineRecommender(K=k)
    model.fit(x, show_progress=False)
    sim = sp.csr_matrix(model.similarity, dtype=np.float32)
    pop = np.bincount(train.interactions.item_index, minlength=x.shape[1]).astype(np.float32)
    fallback = 1e-6 * pop / max(float(pop.max()), 1.0)
    scores = np.asarray(sim[query].todense(), dtype=np.float32) + fallback
    seeds = sp.csr_matrix((np.ones(len(query), np.float32), (np.arange(len(query)), query)), shape=scores.shape)
    return top_k(scores, TOP_N, seeds)[0]


def run_sims(data: TrainingInput, seed: int) -> list[dict[str, object]]:
    train, query, truth = next_item_split(data, seed)
    models: list[tuple[str, str, Callable[[], np.ndarray]]] = []
    for cls in (Sims, SimilarItems):
        def ours(cls: type[Sims] = cls) -> np.ndarray:
            model = cls({}, seed=seed)
            model.fit(train)
            return model.similar_items(query, TOP_N)[0]
        models.append((cls.recipe_name, "ours" if cls is Sims else "ours+", ours))
    for k in KNN_K:
        models.append((f"implicit cosine K={k}", "base", lambda k=k: knn_top(train, k, query)))
    rows = []
    for name, family, top_fn in models:
        t = time.perf_counter()
        top = top_fn()
        hr, ndcg = hit_ndcg(top, truth)
        rows.append({"seed": seed, "model": name, "family": family, "HR@25": hr, "NDCG@25": ndcg,
                     "s": time.perf_counter() - t})
        print(f"  sims seed {seed} {name:24s} HR@25 {hr:.4f} NDCG@25 {ndcg:.4f} ({len(truth)} queries)", flush=True)
    return rows


# -- personalized ranking: candidate lists ------------------------------------------------------------
def candidate_lists(
    train: TrainingInput, histories: sp.csr_matrix, truth: sp.csr_matrix, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per held-out user with a truth: (candidates, is_truth), truth items plus popularity-drawn others."""
    n_items = truth.shape[1]
    pop = np.bincount(train.interactions.item_index, minlength=n_items).astype(np.float64) + 1.0
    rng = np.random.default_rng(seed + 1000)
    out = []
    for r in range(truth.shape[0]):
        t = truth.indices[truth.indptr[r] : truth.indptr[r + 1]][:N_CANDIDATES]
        if not len(t):
            out.append((np.zeros(0, np.int64), np.zeros(0, bool)))
            continue
        p = pop.copy()
        p[t] = 0.0
        p[histories.indices[histories.indptr[r] : histories.indptr[r + 1]]] = 0.0
        n_other = min(N_CANDIDATES - len(t), int((p > 0).sum()))
        other = rng.choice(n_items, n_other, replace=False, p=p / p.sum())
        cand = np.r_[t, other].astype(np.int64)
        perm = rng.permutation(len(cand))  # no model may profit from the truth coming first
        out.append((cand[perm], np.r_[np.ones(len(t), bool), np.zeros(n_other, bool)][perm]))
    return out


def ranking_metrics(scores: list[np.ndarray], lists: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """NDCG@25 and hit rate@10 of candidates ordered by `scores` (stable: ties keep the list's order)."""
    ndcgs, hits = [], []
    disc = 1.0 / np.log2(np.arange(2, TOP_N + 2))
    for s, (cand, is_truth) in zip(scores, lists, strict=True):
        if not len(cand):
            continue
        rel = is_truth[np.argsort(-s, kind="stable")]
        ideal = disc[: min(int(is_truth.sum()), TOP_N)].sum()
        ndcgs.append(float((rel[:TOP_N] * disc[: len(rel[:TOP_N])]).sum() / ideal))
        hits.append(float(rel[:10].any()))
    return float(np.mean(ndcgs)), float(np.mean(hits))


def run_ranking(data: TrainingInput, seed: int) -> list[dict[str, object]]:
    train, histories, truth, _held = holdout_split(data, seed)
    lists = candidate_lists(train, histories, truth, seed)
    rows = []
    models = [("aws-personalized-ranking", "ours", PersonalizedRanking({}, seed=seed)),
              ("user-personalization scores", "base", UserPersonalization({}, seed=seed)),
              ("popularity-count", "pop", PopularityCount())]
    for name, family, model in models:
        t = time.perf_counter()
        model.fit(train)
        if family == "ours":  # the engine's GetPersonalizedRanking path: rank() per request
            scores = [np.asarray(model.rank(histories[r], c)).ravel() for r, (c, _) in enumerate(lists)]
        else:  # the candidates' entries of the full score row
            scores = [model.score(histories[r])[0, c] for r, (c, _) in enumerate(lists)]
        ndcg, hr = ranking_metrics(scores, lists)
        rows.append({"seed": seed, "model": name, "family": family, "NDCG@25": ndcg, "HR@10": hr,
                     "s": time.perf_counter() - t})
        print(f"  ranking seed {seed} {name:28s} NDCG@25 {ndcg:.4f} HR@10 {hr:.4f}", flush=True)
    return rows


# -- trending now: the next window --------------------------------------------------------------------
def plant_trend(data: TrainingInput, seed: int, n_trending: int = 20, weeks: int = 4) -> TrainingInput:
    """`data` plus a planted trend: `n_trending` tail items whose events triple every week, from random
    users, over the last `weeks` weeks; in the last week they add as many events as the data has there."""
    inter = data.interactions
    rng = np.random.default_rng(seed + 7)
    pop = np.bincount(inter.item_index, minlength=inter.n_items)
    tail = np.argsort(pop)[inter.n_items // 4 : inter.n_items // 2]
    items = rng.choice(tail, n_trending, replace=False)
    end = int(inter.timestamp.max())
    last_week = int((inter.timestamp > end - 7 * DAY).sum())
    first_rate = last_week / (n_trending * 3 ** (weeks - 1))
    u, i, t = [], [], []
    for w in range(weeks):
        per_item = rng.poisson(first_rate * 3**w, n_trending)
        start = end - (weeks - w) * 7 * DAY
        for item, c in zip(items, per_item, strict=True):
            u.append(rng.integers(0, inter.n_users, c))
            i.append(np.full(c, item))
            t.append(start + rng.integers(1, 7 * DAY, c))
    user = np.r_[inter.user_index, np.concatenate(u)].astype(np.int32)
    item = np.r_[inter.item_index, np.concatenate(i)].astype(np.int32)
    ts = np.r_[inter.timestamp, np.concatenate(t)].astype(np.int64)
    order = np.argsort(ts, kind="stable")
    return dataclasses.replace(data, interactions=Interactions(
        user[order], item[order], ts[order], np.ones(len(order), np.float32), inter.n_users, inter.n_items))


def next_window(data: TrainingInput, cutoff: int, window: float) -> tuple[TrainingInput, sp.csr_matrix, sp.csr_matrix]:
    """(events up to the cutoff, histories and truth of the users active in the window after it)."""
    inter = data.interactions
    before = inter.timestamp <= cutoff
    after = (inter.timestamp > cutoff) & (inter.timestamp <= cutoff + window)
    users = np.unique(inter.user_index[after])
    row = np.full(inter.n_users, -1)
    row[users] = np.arange(len(users))

    def binary(mask: np.ndarray) -> sp.csr_matrix:
        mask = mask & (row[inter.user_index] >= 0)
        m = sp.csr_matrix((np.ones(int(mask.sum()), np.float32), (row[inter.user_index[mask]], inter.item_index[mask])),
                          shape=(len(users), inter.n_items))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    histories, truth = binary(before), binary(after)
    truth = (truth - truth.multiply(histories)).tocsr()
    truth.eliminate_zeros()
    return subset(data, before), histories, truth


class RecentPopularity(PopularityCount):
    """The baseline: popularity counted over the last `window` seconds of the training data only."""

    def __init__(self, window: float) -> None:
        super().__init__()
        self.window = window

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        inter = data.interactions
        recent = inter.timestamp > int(inter.timestamp.max()) - self.window
        self.popularity = np.bincount(inter.item_index[recent], minlength=self.n_items).astype(np.float32)


def run_trending(data: TrainingInput, split: int, cutoff: int, window: float) -> list[dict[str, object]]:
    train, histories, truth = next_window(data, cutoff, window)
    rows = []
    models = [("aws-trending-now", "ours", TrendingNow({}, seed=split)),
              ("popularity-count (all time)", "base", PopularityCount()),
              ("popularity of the last window", "base", RecentPopularity(window))]
    for name, family, model in models:
        model.fit(train)
        top = model.recommend(histories, TOP_N, exclude_seen=True)[0]
        ndcg = ndcg_at_k(top, truth, TOP_N)
        has = np.diff(truth.indptr) > 0
        share = float(np.mean([np.isin(top[r], truth.indices[truth.indptr[r]:truth.indptr[r + 1]]).any()
                               for r in np.flatnonzero(has)])) if has.any() else 0.0
        rows.append({"seed": split, "model": name, "family": family, "NDCG@25": ndcg, "HR@25": share})
        chosen = f", growth damping {model.damping:g}" if isinstance(model, TrendingNow) else ""
        print(f"  trending split {split} {name:30s} NDCG@25 {ndcg:.4f} HR@25 {share:.4f} "
              f"({int(has.sum())} users){chosen}", flush=True)
    return rows


def trending_splits(data: TrainingInput, trend: bool, seeds: list[int]) -> list[dict[str, object]]:
    probe = TrendingNow({})
    probe.fit(data)
    window = probe.window_seconds
    end = int(data.interactions.timestamp.max())
    rows = []
    for s in seeds:
        if trend:
            rows += run_trending(plant_trend(data, s), s, end - int(window), window)
        else:  # rolling origins: the (s+1)-th most recent window is the truth
            rows += run_trending(data, s, end - int((s + 1) * window), window)
    return rows


# -- the report ---------------------------------------------------------------------------------------
def report(title: str, rows: list[dict[str, object]], metric: str, extra: str) -> None:
    df = pd.DataFrame(rows)
    per = df.pivot_table(index=["family", "model"], columns="seed", values=metric, sort=False)
    table = per.copy()
    table["mean"], table["sd"] = per.mean(axis=1), per.std(axis=1, ddof=0)
    table[f"{extra} mean"] = df.groupby(["family", "model"], sort=False)[extra].mean()
    print(f"\n{title}: {metric} per split, mean and standard deviation across splits")
    print(table.reset_index(level=0, drop=True).to_string(float_format=lambda v: f"{v:.4f}"))
    base = table.xs("base", level="family")["mean"]
    ref = base.idxmax()
    for fam in ("ours", "ours+"):
        if fam not in table.index.get_level_values("family"):
            continue
        name = table.xs(fam, level="family").index[0]
        ratios = per.xs(name, level="model").iloc[0] / per.xs(ref, level="model").iloc[0]
        print(f"{name} / best baseline ({ref}): {table.xs(name, level='model')['mean'].iloc[0] / base.max():.3f} "
              f"(per split {ratios.min():.3f}..{ratios.max():.3f})")


def load(args: argparse.Namespace) -> tuple[TrainingInput, str]:
    if args.movielens:
        if args.movielens == Path("ml-100k") and not args.movielens.exists():
            return training_input(movielens_100k()), "MovieLens-100k (recbole 1.2.1 wheel)"
        return training_input(read_ratings(args.movielens)), f"MovieLens {args.movielens.name}"
    data = make_training_input(args.users, args.items, args.interactions, seed=args.data_seed)
    return data, f"synthetic shop (data seed {args.data_seed})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--movielens", type=Path, nargs="?", const=Path("ml-100k"),
                    help="MovieLens-100k from the cached recbole wheel, or a ratings file")
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--items", type=int, default=2_000)
    ap.add_argument("--interactions", type=int, default=100_000)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma list of split seeds")
    ap.add_argument("--only", default="sims,ranking,trending", help="which comparisons, comma list")
    ap.add_argument("--no-trend", action="store_true", help="synthetic shop: skip the planted-trend run")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*threadpool.*|.*OpenBLAS.*|.*BLAS.*|.*expects CSR input.*")
    data, label = load(args)
    inter = data.interactions
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    only = {s.strip() for s in args.only.split(",")}
    print(f"{label}: {len(inter):,} interactions, {inter.n_users:,} users, {inter.n_items:,} items; splits {seeds}")
    if "sims" in only:
        report("similar items, next-item hold-out", [r for s in seeds for r in run_sims(data, s)], "NDCG@25", "HR@25")
    if "ranking" in only:
        report("personalized ranking, 100 candidates", [r for s in seeds for r in run_ranking(data, s)],
               "NDCG@25", "HR@10")
    if "trending" in only:
        report("trending now, the next window (rolling origins)", trending_splits(data, False, seeds),
               "NDCG@25", "HR@25")
        if not args.movielens and not args.no_trend:
            report("trending now, the next window with a planted trend (trend seeds)",
                   trending_splits(data, True, seeds), "NDCG@25", "HR@25")


if __name__ == "__main__":
    main()
