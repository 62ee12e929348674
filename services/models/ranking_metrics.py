"""Metrics this dashboard computes itself from top-K lists and held-out truth.

These are *not* what Personalize reports (GetSolutionMetrics): the page labels them "computed by this
dashboard" and shows them apart. They exist because Personalize reports no recall, hit rate, novelty
or personalization, and those answer questions analysts ask ("does anyone get a relevant item at all?",
"is it just recommending bestsellers?").

Definitions (K = the cut-off; only each user's first K items count):
- recall@K: per user with non-empty truth, |top-K ∩ truth| / |truth|, averaged over those users.
  A truth user with no recommendations counts as 0.
- hit rate@K: share of users with non-empty truth who have at least one truth item in their top-K.
- novelty: mean self-information, in bits, of the recommended items, -log2 p(item), averaged per user
  then over users (Zhou et al. 2010). p(item) = (count + 1) / (total count + N), add-one smoothed so an
  item with no interactions has finite novelty; N = catalogue_size, or the number of items known from
  the popularity counts and the lists when the size is not given.
- personalization: 1 - mean pairwise cosine of the users' binary top-K vectors (see duplication).
- catalog coverage: distinct recommended items / catalogue_size (NaN when the size is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from services.recommendations.list_metrics import personalization, recommendation_matrix, row_sizes

OFFLINE_METRICS: dict[str, tuple[str, str]] = {
    "recall_at_k": (
        "Recall@K",
        "Of the items each user really interacted with later, the share found in their top K. Higher is "
        "better.",
    ),
    "hit_rate_at_k": (
        "Hit rate@K",
        "Share of users with at least one of their later items in their top K. Higher is better.",
    ),
    "novelty": (
        "Novelty (bits)",
        "How unusual the recommended items are: high means less-known items, low means bestsellers. "
        "Higher is more novel, not necessarily better.",
    ),
    "personalization": (
        "Personalization",
        "How different users' lists are from each other: 0 means everyone gets the same list, 1 means "
        "no two lists share an item. Higher is better.",
    ),
    "catalog_coverage": (
        "Catalog coverage",
        "Share of the catalogue recommended to at least one user. Higher is better.",
    ),
}


def compute(
    topk: Mapping[Any, Sequence[Any]] | np.ndarray,
    truth: Mapping[Any, set[Any] | Sequence[Any]],
    item_popularity: pd.Series | None,
    catalogue_size: int | None,
    k: int,
    user_ids: Sequence[Any] | None = None,
) -> dict[str, float]:
    """Offline metrics of top-K lists against held-out truth; see the module docstring.

    topk: user -> ranked items, or a users x width integer index matrix (-1 = padding) whose rows are
    the users `user_ids` (default: the row numbers) and whose entries are item labels as used in
    `truth` and `item_popularity`. Returns the five metrics and `users_evaluated` (users with truth).
    """
    rm, users = _matrix(topk, k, user_ids)
    x = rm.matrix
    recall, hit_rate, n_truth = _recall_and_hits(x, users, rm.item_ids, truth)
    sizes = row_sizes(x)
    distinct = int(np.count_nonzero(np.diff(x.tocsc().indptr)))
    per_user_novelty = _novelty(x, sizes, rm.item_ids, item_popularity, catalogue_size)
    return {
        "recall_at_k": recall,
        "hit_rate_at_k": hit_rate,
        "novelty": float(np.nanmean(per_user_novelty)) if (~np.isnan(per_user_novelty)).any() else float("nan"),
        "personalization": personalization(x),
        "catalog_coverage": distinct / catalogue_size if catalogue_size else float("nan"),
        "users_evaluated": float(n_truth),
    }


# Metrics that are a mean over users, so each has a per-user value to resample (services.models.noise);
# personalization and catalog coverage describe the set of lists as a whole.
PER_USER_METRICS = ("recall_at_k", "hit_rate_at_k", "novelty")


def per_user(
    topk: Mapping[Any, Sequence[Any]] | np.ndarray,
    truth: Mapping[Any, set[Any] | Sequence[Any]],
    item_popularity: pd.Series | None,
    catalogue_size: int | None,
    k: int,
    user_ids: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """The per-user values behind `compute`'s means: one row per user with non-empty truth (in the order
    of `truth`), columns PER_USER_METRICS; novelty is NaN for a user whose list is empty. Their means
    are `compute`'s recall and hit rate (novelty there also counts users with a list but no truth)."""
    rm, users = _matrix(topk, k, user_ids)
    x = rm.matrix
    truth_users = [u for u, items in truth.items() if len(items)]
    recall, hit = _per_user_hits(x, users, rm.item_ids, truth, truth_users)
    novelty = _novelty(x, row_sizes(x), rm.item_ids, item_popularity, catalogue_size)
    row = pd.Index(users).get_indexer(pd.Index(truth_users, dtype=object))
    novelty_of_truth_users = np.where(row >= 0, novelty[np.maximum(row, 0)] if len(novelty) else np.nan, np.nan)
    return pd.DataFrame({"recall_at_k": recall, "hit_rate_at_k": hit, "novelty": novelty_of_truth_users},
                        index=pd.Index(truth_users, dtype=object, name="user_id"))


def _matrix(topk: Mapping[Any, Sequence[Any]] | np.ndarray, k: int, user_ids: Sequence[Any] | None
            ) -> tuple[Any, np.ndarray]:
    rm = recommendation_matrix(topk, k)
    users = np.asarray(list(user_ids), dtype=object) if user_ids is not None else rm.user_ids
    if users.shape[0] != rm.n_users:
        raise ValueError("user_ids must have one entry per row of topk")
    return rm, users


def _recall_and_hits(
    x: Any, users: np.ndarray, item_ids: np.ndarray, truth: Mapping[Any, set[Any] | Sequence[Any]]
) -> tuple[float, float, int]:
    truth_users = [u for u, items in truth.items() if len(items)]
    if not truth_users:
        return float("nan"), float("nan"), 0
    recall, hit = _per_user_hits(x, users, item_ids, truth, truth_users)
    return float(recall.mean()), float(hit.mean()), len(truth_users)


def _per_user_hits(
    x: Any, users: np.ndarray, item_ids: np.ndarray, truth: Mapping[Any, set[Any] | Sequence[Any]],
    truth_users: list[Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Recall and hit (0 or 1) per truth user, vectorised over all (user, truth item) pairs at once."""
    if not truth_users:
        return np.zeros(0), np.zeros(0)
    sets = [set(truth[u]) for u in truth_users]
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    owner = np.repeat(np.arange(len(sets)), lengths)
    items = np.fromiter(chain.from_iterable(sets), dtype=object, count=int(lengths.sum()))
    row = pd.Index(users).get_indexer(pd.Index(truth_users, dtype=object))[owner]
    col = pd.Index(item_ids).get_indexer(pd.Index(items, dtype=object))
    found = (row >= 0) & (col >= 0)
    hit = np.zeros(owner.shape[0], dtype=np.float64)
    if found.any():
        hit[found] = np.asarray(x[row[found], col[found]], dtype=np.float64).ravel()
    hits = np.bincount(owner, weights=hit, minlength=len(sets))
    return hits / lengths, (hits > 0).astype(np.float64)


def _novelty(
    x: Any,
    sizes: np.ndarray,
    item_ids: np.ndarray,
    item_popularity: pd.Series | None,
    catalogue_size: int | None,
) -> np.ndarray:
    """Novelty per row of x (NaN for an empty list, or for every row without popularity counts)."""
    if item_popularity is None or not (sizes > 0).any():
        return np.full(x.shape[0], np.nan)
    counts = item_popularity.reindex(pd.Index(item_ids, dtype=object)).fillna(0).to_numpy(np.float64)
    known = len(item_popularity.index.union(pd.Index(item_ids, dtype=object)))
    n_items = catalogue_size if catalogue_size else known
    p = (counts + 1.0) / (float(item_popularity.sum()) + n_items)
    out = np.full(x.shape[0], np.nan)
    out[sizes > 0] = (x @ -np.log2(p))[sizes > 0] / sizes[sizes > 0]
    return out


def metric_glossary() -> list[str]:
    """One line per metric, "Label: what it means.", for a list on a page (never glued with "; ")."""
    return [f"{label}: {desc}" for label, desc in OFFLINE_METRICS.values()]
