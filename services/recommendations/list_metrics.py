"""Sparse metrics on top-K recommendation lists: the users x items matrix they make, and how alike
the lists are (pairwise cosine, personalization, Jaccard, identical lists).

Everything is sparse matrix algebra on one binary users x items CSR matrix X (row i = the set of
items in user i's top K), never a per-user or per-pair Python loop:

- pairwise intersections are X @ X.T;
- the sum over all pairs of cosines needs no pair at all: with rows scaled by 1/sqrt(|R_i|) into Y,
  sum_{i != j} cos(i, j) = ||Y.T @ 1||^2 - n, i.e. a column sum (exact for any N);
- Jaccard is not linear in the intersection, so its mean needs the pairs. Users with identical lists
  are grouped first (cold-start reports are mostly identical lists, so this is cheap and exact); the
  distinct lists' intersections are taken block by block from the upper triangle of U @ U.T, weighted
  by how many users hold each list. That is exact up to EXACT_MAX_DISTINCT_LISTS distinct lists;
  beyond, the mean is estimated from JACCARD_SAMPLE_PAIRS user pairs drawn uniformly (seeded) and the
  report carries the estimate's standard error (typically ~0.0002; `mean_jaccard_exact` says which).

Lists are compared as sets: two users with the same items in another order count as "the same list",
because the complaint is "everyone sees the same products", not "in the same order".
Users with an empty list are counted (`n_empty`) but left out of the pairwise figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

EXACT_MAX_DISTINCT_LISTS = 4_000  # ~8M list pairs, a fraction of a second
JACCARD_SAMPLE_PAIRS = 200_000
_BLOCK_ENTRIES = 4_000_000  # dense block size for U @ U.T, bounds memory at ~32 MB


# --------------------------------------------------------------------------------------------------
# Input: any accepted shape -> one binary users x items matrix


@dataclass(frozen=True)
class RecommendationMatrix:
    """Top-K lists as a binary users x items CSR matrix, plus the ranked lists for display."""

    user_ids: np.ndarray  # object array, one per row
    item_ids: np.ndarray  # object array, one per column (only items that were recommended)
    matrix: sp.csr_matrix  # float32 0/1, canonical (sorted indices, no duplicates)
    ranked: np.ndarray  # int64 n_users x max_len, column indices in rank order, -1 padding
    k: int  # the K the lists were cut to (the longest list when not given)

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    def list_of(self, row: int) -> list[Any]:
        """The ranked item ids of one row."""
        cols = self.ranked[row]
        return self.item_ids[cols[cols >= 0]].tolist()


Recommendations = pd.DataFrame | Mapping[Any, Sequence[Any]] | Sequence[Sequence[Any]] | np.ndarray


def recommendation_matrix(recommendations: Recommendations, k: int | None = None) -> RecommendationMatrix:
    """Normalise recommendations into a RecommendationMatrix, keeping each user's first `k` items.

    Accepted: a DataFrame with columns user_id, item_id and optionally rank (smaller is better; without
    it the frame's order is the rank); a mapping user -> ranked items; a list of ranked lists (users
    are then "0", "1", ...); a 2-D integer index matrix (users are row numbers, -1 is padding).
    An item repeated within one list counts once, at its best rank.
    """
    if isinstance(recommendations, pd.DataFrame):
        user_ids, rows, items = _entries_from_frame(recommendations)
    elif isinstance(recommendations, np.ndarray) and recommendations.ndim == 2:
        user_ids, rows, items = _entries_from_index_matrix(recommendations)
    elif isinstance(recommendations, Mapping):
        user_ids = np.asarray(list(recommendations.keys()), dtype=object)
        rows, items = _entries_from_lists(list(recommendations.values()))
    else:
        lists = list(recommendations)
        user_ids = np.asarray([str(i) for i in range(len(lists))], dtype=object)
        rows, items = _entries_from_lists(lists)
    return _build(user_ids, rows, items, k)


def _entries_from_frame(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = {"user_id", "item_id"} - set(frame.columns)
    if missing:
        raise ValueError(f"recommendations frame lacks column(s) {sorted(missing)}")
    codes, uniques = pd.factorize(frame["user_id"])  # users in order of first appearance
    rank = frame["rank"].to_numpy() if "rank" in frame.columns else np.arange(len(frame))
    order = np.lexsort((rank, codes))  # stable: grouped by user (first appearance), then by rank
    user_ids = np.asarray(uniques, dtype=object)
    return user_ids, codes[order], frame["item_id"].to_numpy()[order]


def _entries_from_index_matrix(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, width = index.shape
    rows = np.repeat(np.arange(n), width)
    flat = index.ravel()
    keep = flat >= 0
    return np.arange(n).astype(object), rows[keep], flat[keep]


def _entries_from_lists(lists: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(v) for v in lists), dtype=np.int64)  # typed: an empty list of lists too
    rows = np.repeat(np.arange(len(lists)), lengths)
    items = np.fromiter(chain.from_iterable(lists), dtype=object)
    return rows, items


def _positions_in_groups(rows: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal (grouped, non-decreasing) row numbers."""
    counts = np.bincount(rows)
    return np.arange(rows.shape[0]) - (np.cumsum(counts) - counts)[rows]  # minus where each run starts


def _build(user_ids: np.ndarray, rows: np.ndarray, items: np.ndarray, k: int | None) -> RecommendationMatrix:
    n = int(user_ids.shape[0])
    if k is not None:
        if k < 1:
            raise ValueError("k must be at least 1")
        keep = _positions_in_groups(rows) < k
        rows, items = rows[keep], items[keep]
    cols, vocab = pd.factorize(items)  # items in order of first slot
    # Drop repeats of an item within a list, keeping its first (best) slot.
    _, first = np.unique(np.ravel_multi_index((rows, cols), (n, len(vocab))), return_index=True)
    first.sort()
    rows, cols = rows[first], cols[first]
    pos = _positions_in_groups(rows)
    width = int(pos.max()) + 1 if pos.size else 0
    ranked = np.full((n, width), -1)
    ranked[rows, pos] = cols
    # Built from coordinates, scipy sums duplicates and sorts each row's indices: canonical CSR.
    matrix = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.float32), (rows, cols)), shape=(n, len(vocab)))
    return RecommendationMatrix(
        user_ids=user_ids,
        item_ids=np.asarray(vocab, dtype=object),
        matrix=matrix,
        ranked=ranked,
        k=int(k) if k is not None else width,
    )


# --------------------------------------------------------------------------------------------------
# Metrics on a binary CSR matrix


def row_sizes(x: sp.csr_matrix) -> np.ndarray:
    return np.diff(x.indptr).astype(np.int64)


def mean_pairwise_cosine(x: sp.csr_matrix) -> float:
    """Mean cosine similarity over all pairs of non-empty rows of a binary matrix, exactly, in O(nnz).

    sum_{i != j} cos(i, j) = ||sum_i y_i||^2 - sum_i ||y_i||^2 with y_i = x_i / sqrt(|x_i|), and each
    ||y_i||^2 = 1, so no pair is ever formed. NaN with fewer than two non-empty rows.
    """
    sizes = row_sizes(x)
    n = int(np.count_nonzero(sizes))
    if n < 2:
        return math.nan
    scale = np.zeros(sizes.shape[0])
    scale[sizes > 0] = 1.0 / np.sqrt(sizes[sizes > 0])
    column_sums = x.T @ scale  # float64: scipy casts the float32 matrix up to the vector's type
    total = float(column_sums @ column_sums) - n
    return min(1.0, max(0.0, total / (n * (n - 1))))  # clip float round-off


def personalization(x: sp.csr_matrix) -> float:
    """1 - mean pairwise cosine of the users' binary recommendation vectors (1 = nobody shares)."""
    return 1.0 - mean_pairwise_cosine(x)


def padded_sorted_lists(x: sp.csr_matrix) -> np.ndarray:
    """Each row's column indices ascending, padded with -1: equal rows <=> equal item sets."""
    sizes = row_sizes(x)
    width = int(sizes.max()) if sizes.size else 0
    out = np.full((x.shape[0], width), -1)
    rows = np.repeat(np.arange(x.shape[0]), sizes)
    out[rows, np.arange(x.nnz) - x.indptr[rows]] = x.indices
    return out


@dataclass(frozen=True)
class DistinctLists:
    """Users grouped by identical item set."""

    first_row: np.ndarray  # one representative row per distinct list
    counts: np.ndarray  # users holding each distinct list
    inverse: np.ndarray  # per row: which distinct list it holds


def distinct_lists(x: sp.csr_matrix) -> DistinctLists:
    # All rows empty (zero columns) is one empty list held by every row, and no list without rows.
    _, first, inverse, counts = np.unique(
        padded_sorted_lists(x), axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    return DistinctLists(first, counts, inverse.ravel())


@dataclass(frozen=True)
class JaccardMean:
    value: float
    exact: bool
    stderr: float  # 0 when exact


def mean_pairwise_jaccard(
    x: sp.csr_matrix,
    *,
    groups: DistinctLists | None = None,
    exact_max_distinct: int = EXACT_MAX_DISTINCT_LISTS,
    sample_pairs: int = JACCARD_SAMPLE_PAIRS,
    seed: int = 0,
) -> JaccardMean:
    """Mean Jaccard similarity over all pairs of rows (rows must be non-empty).

    Exact through distinct lists while there are at most `exact_max_distinct` of them; otherwise a
    seeded estimate from `sample_pairs` uniformly drawn pairs of distinct users, with its standard error.
    """
    n = x.shape[0]
    if n < 2:
        return JaccardMean(math.nan, True, 0.0)
    groups = groups if groups is not None else distinct_lists(x)
    if groups.first_row.shape[0] <= exact_max_distinct:
        return JaccardMean(_exact_mean_jaccard(x, groups), True, 0.0)
    return _sampled_mean_jaccard(x, sample_pairs, seed)


def _exact_mean_jaccard(x: sp.csr_matrix, groups: DistinctLists) -> float:
    u = x[groups.first_row]
    w = groups.counts.astype(np.float64)  # float weights keep the products below on BLAS
    sizes = row_sizes(u)
    n = float(w.sum())
    # Pairs of users holding the same list: Jaccard 1 each.
    total = float((w * (w - 1) / 2).sum())
    ut = u.T.tocsc()
    m = u.shape[0]
    block = max(1, _BLOCK_ENTRIES // m)  # m >= 1: there are at least two rows
    for start in range(0, m, block):
        stop = min(m, start + block)
        inter = (u[start:stop] @ ut[:, start:]).toarray()  # rows x columns start..m-1
        union = sizes[start:stop, None] + sizes[None, start:] - inter  # float64, >= 1: lists are non-empty
        jac = inter / union
        # keep only b > a (strict upper triangle): local column index > local row index
        jac *= np.arange(m - start)[None, :] > np.arange(stop - start)[:, None]
        total += float(w[start:stop] @ jac @ w[start:])
    return total / (n * (n - 1) / 2)


def _sampled_mean_jaccard(x: sp.csr_matrix, pairs: int, seed: int) -> JaccardMean:
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, pairs)
    b = (a + rng.integers(1, n, pairs)) % n  # uniform over the other users
    inter = np.asarray(x[a].multiply(x[b]).sum(axis=1)).ravel()
    sizes = row_sizes(x)
    jac = inter / (sizes[a] + sizes[b] - inter)
    return JaccardMean(float(jac.mean()), False, float(jac.std(ddof=1) / math.sqrt(pairs)))


def jaccard_matrix(x: sp.csr_matrix) -> np.ndarray:
    """Dense user x user Jaccard matrix (for a small sample). Diagonal 1 for non-empty rows."""
    inter = (x @ x.T).toarray()
    sizes = row_sizes(x)
    union = sizes[:, None] + sizes[None, :] - inter
    return inter / np.maximum(union, 1)  # two empty lists: 0 / 1
