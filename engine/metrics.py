"""Offline solution metrics, computed the way Amazon Personalize documents them.

Protocol (`holdout_split`):
- Users with at least 2 interactions are eligible; a seeded 10% of them (at least 1) are held out.
  Users with a single event cannot give both an input and a truth, so they always train.
- The model is trained WITHOUT the held-out users' interactions (their rows are empty; the user and
  item index spaces are unchanged, so an item seen only by held-out users is a cold item).
- For each held-out user, events sorted by time: the newest 10% (at least 1, i.e. max(1, floor(n/10)))
  are the truth, the older rest is the input history.
- Truth items the user already has in their input are dropped from the truth: seen items are excluded
  from recommendations, so they could never be hit. Users left with no truth do not count.
- Recommendations are the top 25 for the input history, seen items excluded, no filters, no
  exploration. RELATED_ITEMS recipes (SIMS, Similar-Items) are asked for the items related to the
  user's newest input item (as a GetRecommendations with itemId would be), seen items excluded.

Metrics (each averaged over the held-out users that have a truth):
- precision_at_K: relevant items in the top K / K.
- mean_reciprocal_rank_at_25: 1 / rank of the first relevant item in the top 25, 0 if none.
- normalized_discounted_cumulative_gain_at_K: sum over hits of 1/log2(1 + rank), divided by the
  ideal value sum_{r=1..min(K, |truth|)} 1/log2(1 + r).
- coverage: share of the catalogue's items that appear in at least one of the top-25 lists.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from .recipes.base import Recommender, TrainingInput, recency_matrix, recency_ranks, top_k
from .recipes.registry import RELATED_ITEMS, RecipeSpec
from .topk import group_bound

HOLDOUT_SHARE = 0.10
TOP_N = 25
METRIC_KEYS = (
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
)
# Held-out users scored at a time: 256 x 20k items stays in reused memory; 2,048 rows (160 MB a block,
# plus the top-k's indices) cost twice the CPU at 20k items, most of it touching fresh memory.
_CHUNK = 256


# -- the split ------------------------------------------------------------------------------------
def holdout_split(data: TrainingInput, seed: int = 0) -> tuple[TrainingInput, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """(training input without held-out users, their input histories, their truth, their indices).

    Rows of the two CSR matrices follow `heldout_user_indices` (ascending); both are n_items wide,
    binary float32.
    """
    inter = data.interactions
    n_items = inter.n_items
    counts = np.bincount(inter.user_index, minlength=inter.n_users)
    eligible = np.flatnonzero(counts >= 2)
    n_hold = max(1, round(HOLDOUT_SHARE * len(eligible))) if len(eligible) else 0
    rng = np.random.default_rng(seed)
    held = np.sort(rng.choice(eligible, n_hold, replace=False)) if n_hold else eligible[:0]
    is_held = np.zeros(inter.n_users, dtype=bool)
    is_held[held] = True
    on_held = is_held[inter.user_index]

    train = dataclasses.replace(data, interactions=inter.only(~on_held))

    # Held-out events grouped by user, oldest first (stable: events are already time-sorted).
    ev = np.flatnonzero(on_held)
    ev = ev[np.argsort(inter.user_index[ev], kind="stable")]
    users = inter.user_index[ev]
    row_of_user = np.full(inter.n_users, -1, dtype=np.int64)
    row_of_user[held] = np.arange(len(held))
    rows = row_of_user[users]
    n_user = counts[users]
    first = np.r_[0, np.flatnonzero(np.diff(users)) + 1] if len(ev) else np.zeros(0, dtype=np.int64)
    pos = np.arange(len(ev)) - np.repeat(first, np.diff(np.r_[first, len(ev)]))
    n_truth = np.maximum(1, n_user // 10)
    is_truth = pos >= n_user - n_truth

    shape = (len(held), n_items)
    histories = _binary_csr(rows[~is_truth], inter.item_index[ev][~is_truth], shape)
    truth = _binary_csr(rows[is_truth], inter.item_index[ev][is_truth], shape)
    truth = truth - truth.multiply(histories)  # already-seen items cannot be recommended
    truth.eliminate_zeros()
    return train, histories, truth.tocsr(), held


def input_recency(data: TrainingInput, held: np.ndarray) -> sp.csr_matrix:
    """The held-out input histories' cells (rows as `holdout_split` gives them) valued 1 + the rank of
    the item's newest input event from the user's newest input event: what a recency-weighting model's
    `weigh_histories` turns into the rows it scores, as serving does for a user's history."""
    inter = data.interactions
    row_of_user = np.full(inter.n_users, -1, dtype=np.int64)
    row_of_user[held] = np.arange(len(held))
    ev = np.flatnonzero(row_of_user[inter.user_index] >= 0)
    users = inter.user_index[ev]
    rank = recency_ranks(users)
    n_truth = np.maximum(1, np.bincount(inter.user_index, minlength=inter.n_users)[users] // 10)
    inp = rank >= n_truth
    return recency_matrix(row_of_user[users][inp], inter.item_index[ev][inp], (rank - n_truth)[inp],
                          (len(held), inter.n_items))


def _binary_csr(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


# -- pure metric functions over (top-k index matrix, truth CSR) -----------------------------------
def hits(top: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean matrix like `top`: is top[r, j] one of row r's truth items (-1 padding never is)."""
    truth = sp.csr_matrix(truth)
    truth.sum_duplicates()
    n_items = truth.shape[1]
    t_rows = np.repeat(np.arange(truth.shape[0], dtype=np.int64), np.diff(truth.indptr))
    t_keys = t_rows * n_items + truth.indices.astype(np.int64)
    top = np.asarray(top, dtype=np.int64)
    keys = np.arange(top.shape[0], dtype=np.int64)[:, None] * n_items + top
    return np.isin(keys, t_keys) & (top >= 0)


def _has_truth(truth: sp.csr_matrix) -> np.ndarray:
    return np.diff(sp.csr_matrix(truth).indptr) > 0


def precision_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    mask = _has_truth(truth)
    if not mask.any():
        return 0.0
    h = hits(top[:, :k], truth)
    return float((h.sum(axis=1) / k)[mask].mean())


def mean_reciprocal_rank_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int = TOP_N) -> float:
    mask = _has_truth(truth)
    if not mask.any():
        return 0.0
    h = hits(top[:, :k], truth)
    first = np.argmax(h, axis=1)
    rr = np.where(h.any(axis=1), 1.0 / (first + 1.0), 0.0)
    return float(rr[mask].mean())


def ndcg_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> float:
    mask = _has_truth(truth)
    if not mask.any():
        return 0.0
    h = hits(top[:, :k], truth)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (h * discounts[: h.shape[1]]).sum(axis=1)
    n_rel = np.minimum(np.diff(sp.csr_matrix(truth).indptr), k)
    idcg = np.r_[0.0, np.cumsum(discounts)][n_rel]
    return float((dcg[mask] / idcg[mask]).mean())


def coverage(top: np.ndarray, n_items: int) -> float:
    if n_items <= 0:
        return 0.0
    rec = np.unique(top[top >= 0])
    return float(len(rec) / n_items)


def all_metrics(top: np.ndarray, truth: sp.csr_matrix, n_items: int) -> dict[str, float]:
    """AWS's GetSolutionMetrics keys from a top-25 index matrix and the truth."""
    return {
        "coverage": coverage(top, n_items),
        "mean_reciprocal_rank_at_25": mean_reciprocal_rank_at_k(top, truth, 25),
        "normalized_discounted_cumulative_gain_at_5": ndcg_at_k(top, truth, 5),
        "normalized_discounted_cumulative_gain_at_10": ndcg_at_k(top, truth, 10),
        "normalized_discounted_cumulative_gain_at_25": ndcg_at_k(top, truth, 25),
        "precision_at_5": precision_at_k(top, truth, 5),
        "precision_at_10": precision_at_k(top, truth, 10),
        "precision_at_25": precision_at_k(top, truth, 25),
    }


# -- the whole evaluation -------------------------------------------------------------------------
def newest_input_items(data: TrainingInput, held: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
    """Each held-out user's newest input item (what a RELATED_ITEMS request is made from), -1 if none."""
    inter = data.interactions
    row_of_user = np.full(inter.n_users, -1, dtype=np.int64)
    row_of_user[held] = np.arange(len(held))
    rows = row_of_user[inter.user_index]
    ev = np.flatnonzero(rows >= 0)
    in_input = np.asarray(histories.tocsr()[rows[ev], inter.item_index[ev]]).ravel() > 0
    ev = ev[in_input]
    newest = np.full(len(held), -1, dtype=np.int64)
    newest[rows[ev]] = inter.item_index[ev]  # events ascend in time: the newest write wins
    return newest


def evaluate_model(
    model: Recommender,
    recipe_type: str,
    histories: sp.csr_matrix,
    newest: np.ndarray | None = None,
    n: int = TOP_N,
) -> np.ndarray:
    """Top-n item indices per held-out history from a trained model, seen items excluded.

    RELATED_ITEMS recipes are asked for the items related to `newest` (one item per row); chunks keep
    the dense score matrix small.
    """
    out = []
    for start in range(0, histories.shape[0], _CHUNK):
        h = histories[start : start + _CHUNK]
        if recipe_type == RELATED_ITEMS:
            if newest is None:
                raise ValueError("RELATED_ITEMS evaluation needs each row's newest input item")
            seed_items = newest[start : start + _CHUNK]
            rows = np.flatnonzero(seed_items >= 0)
            seeds = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, seed_items[rows])), shape=h.shape)
            scores = model.score(seeds).astype(np.float32, copy=True)
            out.append(top_k(scores, n, h)[0])
        else:
            # What `model.recommend(h, n)` gives (no recipe overrides it), with a cheaper top-n.
            out.append(bounded_top_k(model.score(h).astype(np.float32, copy=True), n, h))
    if not out:
        return np.zeros((0, n), dtype=np.int64)
    return np.vstack([np.asarray(o, dtype=np.int64) for o in out])


def bounded_top_k(scores: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
    """`top_k(scores, n, exclude)[0]`: the same masking and the same stable order of the chosen items;
    among items tied at the cut either may be chosen, as there. In place on `scores`."""
    if exclude.nnz:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    n_rows, n_items = scores.shape
    # Only the items at or above a bound on each row's n-th best are ranked: on 20k items a few dozen a
    # row, where a partition of every score cost two thirds of the metrics' scoring.
    bound = group_bound(scores, min(n, n_items))
    if bound is None:
        return top_k(scores, n)[0]
    rows, cols = np.nonzero(scores >= bound[:, None])
    counts = np.bincount(rows, minlength=n_rows)
    width = int(counts.max())
    if width > n_items // 4:  # many ties at the bound (e.g. rows of zeros): the plain way is cheaper
        return top_k(scores, n)[0]
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    kept = np.full((n_rows, width), -np.inf, dtype=np.float32)
    where = np.zeros((n_rows, width), dtype=np.int64)
    kept[rows, slot] = scores[rows, cols]
    where[rows, slot] = cols
    idx = top_k(kept, n)[0]
    return np.where(idx >= 0, np.take_along_axis(where, np.maximum(idx, 0), axis=1), -1)


def evaluate(spec: RecipeSpec, data: TrainingInput, seed: int = 0) -> dict[str, float]:
    """Hold out, train without the held-out users, recommend for them, score: AWS's metric keys.

    The recipe gets `data.params` as its hyperparameters and `seed` as its seed.
    """
    return evaluate_fitted(spec, data, seed)[0]


def evaluate_fitted(spec: RecipeSpec, data: TrainingInput, seed: int = 0) -> tuple[dict[str, float], Recommender]:
    """`evaluate`, and the model it trained on the training users (what it chose can serve the final fit)."""
    train, histories, truth, held = holdout_split(data, seed)
    model = spec.model(params=dict(data.params), seed=seed)
    model.fit(train)
    return score_holdout(spec, model, data, histories, truth, held), model


def score_holdout(spec: RecipeSpec, model: Recommender, data: TrainingInput, histories: sp.csr_matrix,
                  truth: sp.csr_matrix, held: np.ndarray) -> dict[str, float]:
    """The metrics of a model trained without the held-out users (`holdout_split`'s parts), scored on them."""
    newest = newest_input_items(data, held, histories) if spec.recipe_type == RELATED_ITEMS else None
    # The rows the model scores are what serving would build for these users: weighted by recency
    # where the model weighs (the seen items, the rows' cells, are the same either way).
    weighted = histories
    if spec.recipe_type != RELATED_ITEMS and model.history_weights(np.zeros(1, dtype=np.int64)) is not None:
        weighted = model.weigh_histories(histories, input_recency(data, held))
    top = evaluate_model(model, spec.recipe_type, weighted, newest)
    return all_metrics(top, truth, data.interactions.n_items)
