"""Offline quality of User-Personalization against the open baselines, on one split, in one run.

    python bench/bench_quality.py                       # synthetic shop data, 1M interactions
    python bench/bench_quality.py --interactions 100000 --users 5000 --items 2000
    python bench/bench_quality.py --movielens path/to/u.data   # or ratings.csv / ratings.dat

Models, all trained on the same training users and asked about the same held-out users (AWS's
protocol, engine/metrics.py): popularity-count; EASE (full, small lambda grid); implicit's
ALS (small grid, fold-in with implicit's own recalculate_user least squares); our
aws-user-personalization with its default hyperparameters. Prints NDCG@5/10/25, precision@25, MRR@25,
coverage, training time, and the ratios the issue asks for: ours / best(EASE, ALS) NDCG@25 (>= 1) and
ours / popularity NDCG@25 (>= 1.6).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.metrics import all_metrics, evaluate_model, holdout_split
from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.popularity_count import PopularityCount
from engine.recipes.user_personalization import UserPersonalization
from tests.support.synthetic_shop import make_training_input

EASE_GRID = [50.0, 200.0, 500.0]
ALS_GRID = [  # factors, regularization, alpha
    (64, 0.01, 1.0),  # implicit's defaults
    (64, 1.0, 10.0),
    (128, 5.0, 20.0),
    (256, 10.0, 20.0),
]


def load_movielens(path: Path, min_rating: float = 0.0) -> TrainingInput:
    """u.data (tab: user item rating ts), ratings.dat (user::item::rating::ts) or ratings.csv."""
    text = path.read_text(errors="replace").splitlines()[:2]
    if path.suffix == ".csv" or (text and "," in text[0]):
        df = pd.read_csv(path)
        df.columns = [c.lower() for c in df.columns]
        df = df.rename(columns={"userid": "user", "movieid": "item", "timestamp": "ts"})
    elif text and "::" in text[0]:
        df = pd.read_csv(path, sep="::", engine="python", names=["user", "item", "rating", "ts"])
    else:
        df = pd.read_csv(path, sep=r"\s+", names=["user", "item", "rating", "ts"])
    df = df[df["rating"] >= min_rating].sort_values("ts", kind="stable")
    users, user_ids = pd.factorize(df["user"].astype(str))
    items, item_ids = pd.factorize(df["item"].astype(str))
    return TrainingInput(
        interactions=Interactions(
            user_index=users.astype(np.int32),
            item_index=items.astype(np.int32),
            timestamp=df["ts"].to_numpy(dtype=np.int64),
            weight=np.ones(len(df), dtype=np.float32),
            n_users=len(user_ids),
            n_items=len(item_ids),
        ),
        user_ids=np.asarray(user_ids, dtype=object),
        item_ids=np.asarray(item_ids, dtype=object),
    )


def run(data: TrainingInput, seed: int, quick: bool) -> list[dict[str, object]]:
    train, histories, truth, _held = holdout_split(data, seed)
    n_items = data.interactions.n_items
    candidates: list[tuple[str, str, object]] = [("popularity-count", "pop", PopularityCount())]
    ease_grid = EASE_GRID[:2] if quick else EASE_GRID
    for lam in ease_grid:
        candidates.append((f"EASE l2={lam:g}", "ease", UserPersonalization({"model": "ease", "ease_lambda": str(lam)})))
    for f, reg, alpha in ALS_GRID[: 2 if quick else None]:
        params = {"model": "als", "hidden_dimension": str(f), "als_regularization": str(reg), "als_alpha": str(alpha)}
        candidates.append((f"ALS f={f} reg={reg:g} a={alpha:g}", "als", UserPersonalization(params, seed=seed)))
    candidates.append(("aws-user-personalization", "ours", UserPersonalization({}, seed=seed)))
    rows = []
    for name, family, model in candidates:
        t = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t
        top = evaluate_model(model, "USER_PERSONALIZATION", histories)
        m = all_metrics(top, truth, n_items)
        rows.append({"model": name, "family": family, "fit_s": fit_s, **m})
        print(
            f"  {name:32s} NDCG@25 {m['normalized_discounted_cumulative_gain_at_25']:.4f}  fit {fit_s:6.1f}s",
            flush=True,
        )
    return rows


def report(rows: list[dict[str, object]]) -> None:
    df = pd.DataFrame(rows)
    cols = {
        "normalized_discounted_cumulative_gain_at_5": "NDCG@5",
        "normalized_discounted_cumulative_gain_at_10": "NDCG@10",
        "normalized_discounted_cumulative_gain_at_25": "NDCG@25",
        "precision_at_25": "P@25",
        "mean_reciprocal_rank_at_25": "MRR@25",
        "coverage": "coverage",
        "fit_s": "fit s",
    }
    table = df[["model", *cols]].rename(columns=cols)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    key = "normalized_discounted_cumulative_gain_at_25"
    best = df.groupby("family")[key].max()
    ours, pop = best["ours"], best["pop"]
    baseline = max(best.get("ease", 0.0), best.get("als", 0.0))
    print(
        f"\nours / best(EASE, ALS) NDCG@25: {ours / baseline:.3f}  (target >= 1.0;"
        f" best EASE {best.get('ease', float('nan')):.4f}, best ALS {best.get('als', float('nan')):.4f})"
    )
    print(f"ours / popularity-count NDCG@25: {ours / pop:.2f}  (target >= 1.6)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--movielens", type=Path, help="a MovieLens ratings file instead of synthetic data")
    ap.add_argument("--min-rating", type=float, default=0.0, help="MovieLens: keep ratings >= this")
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0, help="the hold-out split's seed")
    ap.add_argument("--quick", action="store_true", help="smaller baseline grids")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*threadpool.*|.*OpenBLAS.*|.*BLAS.*")
    if args.movielens:
        data = load_movielens(args.movielens, args.min_rating)
        label = f"MovieLens {args.movielens.name}"
    else:
        data = make_training_input(args.users, args.items, args.interactions, seed=args.data_seed)
        label = f"synthetic shop (data seed {args.data_seed})"
    inter = data.interactions
    print(
        f"{label}: {len(inter):,} interactions, {inter.n_users:,} users, {inter.n_items:,} items; "
        f"split seed {args.seed}"
    )
    report(run(data, args.seed, args.quick))


if __name__ == "__main__":
    main()
