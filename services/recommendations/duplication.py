"""How alike are the users' recommendation lists? The cold-start duplication report.

With little data a model falls back to popularity and every user gets the same items; nobody sees it
until lists are put side by side. This module measures it, per campaign and per cohort of history
length, and says in words what it means and what helps.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

Level = Literal["ok", "warning", "critical"]

# Cohorts of history length (interactions per user). Bounds are inclusive lower bounds.
COHORTS: tuple[str, ...] = ("none", "1–2", "3–9", "10+")
COHORT_LOWER_BOUNDS: tuple[int, ...] = (0, 1, 3, 10)
COLD_START = "≤2"  # none and 1–2 together: the users the cold-start headline is about
ALL_USERS = "all"
_COHORT_WORDS = {
    ALL_USERS: "users",
    "none": "users with no interactions",
    "1–2": "users with 1–2 interactions",
    "3–9": "users with 3–9 interactions",
    "10+": "users with 10 or more interactions",
    COLD_START: "users with ≤2 interactions",
}

# Verdict thresholds. A list that everyone shares is the failure itself, so the share of users holding
# the most common list drives the level; mean Jaccard catches the softer case where lists differ in a
# few slots only (J = 0.3 between two top-10s means ~5 of 10 items in common, J = 0.6 means ~7.5).
# Healthy collaborative filters on shop data sit well below 0.2 mean Jaccard.
CRITICAL_SAME_LIST_SHARE = 0.5
CRITICAL_MEAN_JACCARD = 0.6
WARNING_SAME_LIST_SHARE = 0.2
WARNING_MEAN_JACCARD = 0.3
MIN_USERS_TO_JUDGE = 3  # fewer users than this: figures shown, no judgement made
# The most common list "is popularity" when it shares this much (Jaccard) with the top popular items.
POPULARITY_MATCH_JACCARD = 0.5
TOP_POPULAR_SHARE = 0.01  # "top 1% most popular items"

EXACT_MAX_DISTINCT_LISTS = 4_000  # ~8M list pairs, a fraction of a second
JACCARD_SAMPLE_PAIRS = 200_000
_BLOCK_ENTRIES = 4_000_000  # dense block size for U @ U.T, bounds memory at ~32 MB

_LEVEL_ORDER: dict[str, int] = {"ok": 0, "warning": 1, "critical": 2}

REMEDY_PUT_EVENTS = (
    "Stream events with PutEvents (an event tracker): User-Personalization uses a user's new events "
    "at once, without retraining, so a new user's list turns personal after a few clicks."
)
REMEDY_WAIT = (
    "Wait for more interactions and retrain: Personalize needs history per user; ~7,000 interactions "
    "in total is too little for most users to get anything but the popular items."
)
REMEDY_METADATA = (
    "Add item metadata (an Items dataset with category, price, description) and use a -v2 recipe "
    "(aws-user-personalization-v2): it can recommend by item attributes when history is thin."
)
REMEDY_NEWEST_VERSION = (
    "Check that the campaign serves the newest solution version: a new version does not reach users "
    "until the campaign is updated (syncWithLatestSolutionVersion is off by default)."
)
REMEDY_RECIPE = (
    "Check the recipe: aws-popularity-count gives every user the same list by design; use "
    "aws-user-personalization for personal lists."
)


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
    codes, uniques = pd.factorize(frame["user_id"], sort=False)
    rank = frame["rank"].to_numpy() if "rank" in frame.columns else np.arange(len(frame))
    order = np.lexsort((rank, codes))  # stable: grouped by user (first appearance), then by rank
    user_ids = np.asarray(uniques, dtype=object)
    return user_ids, codes[order].astype(np.int64), frame["item_id"].to_numpy(dtype=object)[order]


def _entries_from_index_matrix(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, width = index.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), width)
    flat = index.ravel()
    keep = flat >= 0
    return np.arange(n).astype(object), rows[keep], flat[keep].astype(object)


def _entries_from_lists(lists: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    items = np.fromiter(chain.from_iterable(lists), dtype=object, count=int(lengths.sum()))
    return rows, items


def _positions_in_groups(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """0, 1, 2, ... within each run of equal (grouped, non-decreasing) row numbers."""
    starts = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(starts, rows + 1, 1)
    starts = np.cumsum(starts)
    return np.arange(rows.shape[0], dtype=np.int64) - starts[rows]


def _build(user_ids: np.ndarray, rows: np.ndarray, items: np.ndarray, k: int | None) -> RecommendationMatrix:
    n = int(user_ids.shape[0])
    if k is not None:
        if k < 1:
            raise ValueError("k must be at least 1")
        keep = _positions_in_groups(rows, n) < k
        rows, items = rows[keep], items[keep]
    cols, vocab = pd.factorize(pd.Series(items, dtype=object), sort=False)
    n_items = len(vocab)
    # Drop repeats of an item within a list, keeping its first (best) slot.
    _, first = np.unique(rows * max(n_items, 1) + cols, return_index=True)
    first.sort()
    rows, cols = rows[first], cols[first].astype(np.int64)
    pos = _positions_in_groups(rows, n)
    width = int(pos.max()) + 1 if pos.size else 0
    ranked = np.full((n, width), -1, dtype=np.int64)
    ranked[rows, pos] = cols
    matrix = sp.csr_matrix(
        (np.ones(rows.shape[0], dtype=np.float32), (rows, cols)), shape=(n, n_items), dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
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
        return float("nan")
    scale = np.zeros(sizes.shape[0], dtype=np.float64)
    scale[sizes > 0] = 1.0 / np.sqrt(sizes[sizes > 0])
    column_sums = x.T.astype(np.float64) @ scale
    total = float(column_sums @ column_sums) - n
    return min(1.0, max(0.0, total / (n * (n - 1))))  # clip float round-off


def personalization(x: sp.csr_matrix) -> float:
    """1 - mean pairwise cosine of the users' binary recommendation vectors (1 = nobody shares)."""
    return 1.0 - mean_pairwise_cosine(x)


def padded_sorted_lists(x: sp.csr_matrix) -> np.ndarray:
    """Each row's column indices ascending, padded with -1: equal rows <=> equal item sets."""
    sizes = row_sizes(x)
    width = int(sizes.max()) if sizes.size else 0
    out = np.full((x.shape[0], width), -1, dtype=np.int64)
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
    padded = padded_sorted_lists(x)
    if padded.shape[1] == 0:  # all rows empty: one (empty) list
        n = x.shape[0]
        return DistinctLists(np.zeros(min(n, 1), np.int64), np.array([n] if n else [], np.int64),
                             np.zeros(n, np.int64))
    _, first, inverse, counts = np.unique(
        padded, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    return DistinctLists(first.astype(np.int64), counts.astype(np.int64), inverse.ravel().astype(np.int64))


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
        return JaccardMean(float("nan"), True, 0.0)
    groups = groups if groups is not None else distinct_lists(x)
    if groups.first_row.shape[0] <= exact_max_distinct:
        return JaccardMean(_exact_mean_jaccard(x, groups), True, 0.0)
    return _sampled_mean_jaccard(x, sample_pairs, seed)


def _exact_mean_jaccard(x: sp.csr_matrix, groups: DistinctLists) -> float:
    u = x[groups.first_row]
    w = groups.counts.astype(np.float64)
    sizes = row_sizes(u).astype(np.float64)
    n = float(w.sum())
    # Pairs of users holding the same list: Jaccard 1 each.
    total = float((w * (w - 1) / 2).sum())
    ut = u.T.tocsc()
    m = u.shape[0]
    block = max(1, _BLOCK_ENTRIES // max(m, 1))
    for start in range(0, m, block):
        stop = min(m, start + block)
        inter = (u[start:stop] @ ut[:, start:]).toarray().astype(np.float64)  # rows x columns start..m-1
        union = sizes[start:stop, None] + sizes[None, start:] - inter
        jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        # keep only b > a (strict upper triangle): local column index > local row index
        jac *= np.arange(m - start)[None, :] > np.arange(stop - start)[:, None]
        total += float(w[start:stop] @ jac @ w[start:])
    return total / (n * (n - 1) / 2)


def _sampled_mean_jaccard(x: sp.csr_matrix, pairs: int, seed: int) -> JaccardMean:
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, pairs)
    b = (a + rng.integers(1, n, pairs)) % n  # uniform over the other users
    inter = np.asarray(x[a].multiply(x[b]).sum(axis=1), dtype=np.float64).ravel()
    sizes = row_sizes(x).astype(np.float64)
    jac = inter / (sizes[a] + sizes[b] - inter)
    return JaccardMean(float(jac.mean()), False, float(jac.std(ddof=1) / math.sqrt(pairs)))


def jaccard_matrix(x: sp.csr_matrix) -> np.ndarray:
    """Dense user x user Jaccard matrix (for a small sample). Diagonal 1 for non-empty rows."""
    inter = (x @ x.T).toarray().astype(np.float64)
    sizes = row_sizes(x).astype(np.float64)
    union = sizes[:, None] + sizes[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def top_popular_items(item_popularity: pd.Series, catalogue_size: int | None = None,
                      share: float = TOP_POPULAR_SHARE) -> pd.Index:
    """The top `share` of the catalogue by interaction count (at least one item; ties by order given)."""
    base = catalogue_size if catalogue_size else len(item_popularity)
    n_top = max(1, math.ceil(share * base))
    return item_popularity.sort_values(ascending=False, kind="stable").index[:n_top]


def shared_items(lists: Iterable[Sequence[Any]], min_share: float = 0.5) -> set[Any]:
    """Items that appear in at least `min_share` of the given lists (to highlight them in the grid)."""
    lists = list(lists)
    if not lists:
        return set()
    rm = recommendation_matrix(lists)
    counts = np.asarray(rm.matrix.sum(axis=0)).ravel()
    return set(rm.item_ids[counts >= min_share * len(lists) - 1e-9].tolist())


# --------------------------------------------------------------------------------------------------
# Cohorts


def history_cohorts(history_lengths: np.ndarray) -> np.ndarray:
    """Cohort label per user from the number of interactions in their history."""
    lengths = np.asarray(history_lengths)
    codes = np.searchsorted(np.asarray(COHORT_LOWER_BOUNDS), lengths, side="right") - 1
    return np.asarray(COHORTS, dtype=object)[np.clip(codes, 0, len(COHORTS) - 1)]


def _lengths_for(user_ids: np.ndarray, history_lengths: Mapping[Any, int] | pd.Series) -> np.ndarray:
    # Missing users count as 0: lengths usually come from a value_counts of interactions, which has no
    # row for a user who never interacted.
    series = history_lengths if isinstance(history_lengths, pd.Series) else pd.Series(history_lengths)
    return pd.Series(user_ids, dtype=object).map(series).fillna(0).to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class DuplicationMetrics:
    """Figures for one group of users (a cohort, the cold-start union, or everyone)."""

    group: str
    n_users: int  # users with a non-empty list
    n_empty: int  # users who got no recommendations (left out of the pairwise figures)
    k: int
    mean_jaccard: float
    mean_jaccard_exact: bool
    mean_jaccard_stderr: float
    same_list_share: float  # share of users whose top-K item set equals the most common one (0 if unshared)
    most_common_list: tuple[Any, ...]  # rank order of its first holder; () when no two users share one
    personalization: float  # 1 - mean pairwise cosine
    distinct_items: int
    catalog_coverage: float | None  # distinct_items / catalogue_size, when the size is known
    top_popular_slot_share: float | None  # slots taken by the top 1% most popular items
    most_common_is_popularity: bool | None  # most common list ~ the most popular items
    level: Level
    judged: bool  # False when too few users to judge; level is then "ok"


@dataclass(frozen=True)
class DuplicationReport:
    campaign: str
    k: int
    overall: DuplicationMetrics
    cohorts: dict[str, DuplicationMetrics]  # COHORTS present, plus COLD_START, in that order
    level: Level
    verdict: str
    remedies: list[str]
    overlap: pd.DataFrame  # Jaccard, sampled users x the same users (for the heatmap)
    overlap_cohorts: list[str] = field(default_factory=list)  # cohort of each sampled user

    def to_frame(self) -> pd.DataFrame:
        """One row per group (all users first), for a table on the page."""
        rows = [self.overall, *self.cohorts.values()]
        frame = pd.DataFrame([vars(m) for m in rows])
        frame.insert(0, "campaign", self.campaign)
        return frame


def duplication_report(
    recommendations: Recommendations | RecommendationMatrix,
    *,
    campaign: str = "",
    k: int | None = None,
    history_lengths: Mapping[Any, int] | pd.Series | None = None,
    item_popularity: pd.Series | None = None,
    catalogue_size: int | None = None,
    heatmap_users: int = 50,
    seed: int = 0,
) -> DuplicationReport:
    """Measure how alike users' top-K lists are, overall and per history cohort, and judge it.

    history_lengths: interactions per user id (missing users count as 0); enables the cohorts.
    item_popularity: interaction count per item id; enables the top-1% slot share and the check that
    the most common list is the popularity fallback. catalogue_size: enables catalog coverage.
    """
    rm = recommendations if isinstance(recommendations, RecommendationMatrix) else (
        recommendation_matrix(recommendations, k)
    )
    top_items = None
    if item_popularity is not None and len(item_popularity):
        top_items = top_popular_items(item_popularity, catalogue_size)
    popular_list = _popular_list(item_popularity, rm.k)
    args = (rm, top_items, popular_list, catalogue_size, seed)

    everyone = np.arange(rm.n_users)
    overall = _group_metrics(ALL_USERS, everyone, *args)
    cohorts: dict[str, DuplicationMetrics] = {}
    labels: np.ndarray | None = None
    if history_lengths is not None:
        labels = history_cohorts(_lengths_for(rm.user_ids, history_lengths))
        for name in COHORTS:
            rows = np.flatnonzero(labels == name)
            if rows.size:
                cohorts[name] = _group_metrics(name, rows, *args)
        cold = np.flatnonzero((labels == COHORTS[0]) | (labels == COHORTS[1]))
        if cold.size:
            cohorts[COLD_START] = _group_metrics(COLD_START, cold, *args)

    level, verdict, remedies = _verdict(overall, cohorts, rm.k)
    overlap, overlap_cohorts = _overlap_sample(rm, labels, heatmap_users, seed)
    return DuplicationReport(
        campaign=campaign, k=rm.k, overall=overall, cohorts=cohorts, level=level, verdict=verdict,
        remedies=remedies, overlap=overlap, overlap_cohorts=overlap_cohorts,
    )


def duplication_reports(
    by_campaign: Mapping[str, Recommendations], **options: Any
) -> dict[str, DuplicationReport]:
    """One report per campaign, same options for all (for the side-by-side page)."""
    return {name: duplication_report(recs, campaign=name, **options) for name, recs in by_campaign.items()}


def _popular_list(item_popularity: pd.Series | None, k: int) -> pd.Index | None:
    if item_popularity is None or not len(item_popularity) or k < 1:
        return None
    return item_popularity.sort_values(ascending=False, kind="stable").index[:k]


def _group_metrics(
    name: str,
    rows: np.ndarray,
    rm: RecommendationMatrix,
    top_items: pd.Index | None,
    popular_list: pd.Index | None,
    catalogue_size: int | None,
    seed: int,
) -> DuplicationMetrics:
    x_all = rm.matrix[rows]
    sizes = row_sizes(x_all)
    non_empty = sizes > 0
    x = x_all[non_empty]
    rows = rows[non_empty]
    n = x.shape[0]
    column_sums = np.asarray(x.sum(axis=0)).ravel()
    distinct_items = int(np.count_nonzero(column_sums))

    if n:
        groups = distinct_lists(x)
        top = int(np.argmax(groups.counts))  # ties: the lexicographically first set; fine for display
        shared = groups.counts[top] >= 2  # a list nobody else has is not "common", whatever n is
        same_share = float(groups.counts[top] / n) if shared else 0.0
        most_common = tuple(rm.list_of(int(rows[groups.first_row[top]]))) if shared else ()
        jac = mean_pairwise_jaccard(x, groups=groups, seed=seed)
    else:
        same_share, most_common, jac = float("nan"), (), JaccardMean(float("nan"), True, 0.0)

    top_share = None
    if top_items is not None and x.nnz:
        flagged = np.isin(rm.item_ids, np.asarray(top_items, dtype=object))
        top_share = float(column_sums[flagged].sum() / x.nnz)
    is_popularity = None
    if popular_list is not None and most_common:
        common, popular = set(most_common), set(popular_list)
        is_popularity = len(common & popular) / len(common | popular) >= POPULARITY_MATCH_JACCARD

    judged = n >= MIN_USERS_TO_JUDGE
    return DuplicationMetrics(
        group=name,
        n_users=n,
        n_empty=int((~non_empty).sum()),
        k=rm.k,
        mean_jaccard=jac.value,
        mean_jaccard_exact=jac.exact,
        mean_jaccard_stderr=jac.stderr,
        same_list_share=same_share,
        most_common_list=most_common,
        personalization=personalization(x),
        distinct_items=distinct_items,
        catalog_coverage=distinct_items / catalogue_size if catalogue_size else None,
        top_popular_slot_share=top_share,
        most_common_is_popularity=is_popularity,
        level=_level(same_share, jac.value) if judged else "ok",
        judged=judged,
    )


def _level(same_list_share: float, mean_jaccard: float) -> Level:
    if same_list_share >= CRITICAL_SAME_LIST_SHARE or mean_jaccard >= CRITICAL_MEAN_JACCARD:
        return "critical"
    if same_list_share >= WARNING_SAME_LIST_SHARE or mean_jaccard >= WARNING_MEAN_JACCARD:
        return "warning"
    return "ok"


def _finding(m: DuplicationMetrics, k: int) -> str:
    """'92% of users with ≤2 interactions get the same top 10' or the Jaccard form of it."""
    who = _COHORT_WORDS.get(m.group, f"users in {m.group}")
    if m.same_list_share >= WARNING_SAME_LIST_SHARE:
        return f"{m.same_list_share:.0%} of {who} get the same top {k}"
    return f"the top-{k} lists of {who} overlap heavily (mean pairwise Jaccard {m.mean_jaccard:.2f})"


def _cause(m: DuplicationMetrics) -> str:
    if m.most_common_is_popularity is None:
        return "most likely the popularity fallback"
    if m.most_common_is_popularity:
        return "the model falls back to popularity"
    return "one list serves most users, and it is not simply the most popular items"


def _verdict(
    overall: DuplicationMetrics, cohorts: dict[str, DuplicationMetrics], k: int
) -> tuple[Level, str, list[str]]:
    candidates = [overall, *cohorts.values()]
    level: Level = max((m.level for m in candidates), key=_LEVEL_ORDER.__getitem__)
    if level == "ok":
        if not overall.judged:
            return "ok", f"Too few users ({overall.n_users}) to judge duplication.", []
        shared = (
            f"{overall.same_list_share:.0%} of users get the most common list" if overall.same_list_share
            else "no two users get the same list"
        )
        return "ok", (
            f"Recommendations look personal: mean pairwise Jaccard of the top-{k} lists "
            f"{overall.mean_jaccard:.2f}, personalization {overall.personalization:.2f}; {shared}."
        ), []

    worst = [m for m in candidates if m.level == level]
    experienced = [m for m in worst if m.group in ("3–9", "10+")]
    if experienced:
        # Users with history get the same lists too: not a cold-start effect.
        m = experienced[-1]
        text = (
            f"Duplication beyond cold start: {_finding(m, k)} — the served model is not personalising "
            "(a popularity recipe, or a campaign on an old solution version)."
        )
        return level, text, [REMEDY_NEWEST_VERSION, REMEDY_RECIPE, REMEDY_WAIT, REMEDY_PUT_EVENTS]
    cold = [m for m in worst if m.group in (COLD_START, "none", "1–2")]
    if cold:
        m = next((c for c in cold if c.group == COLD_START), cold[0])
        text = f"Cold-start duplication: {_finding(m, k)} — {_cause(m)}."
        return level, text, [REMEDY_PUT_EVENTS, REMEDY_WAIT, REMEDY_METADATA, REMEDY_NEWEST_VERSION]
    text = f"Duplication: {_finding(overall, k)} — {_cause(overall)}."
    return level, text, [REMEDY_PUT_EVENTS, REMEDY_WAIT, REMEDY_METADATA, REMEDY_NEWEST_VERSION]


def _overlap_sample(
    rm: RecommendationMatrix, labels: np.ndarray | None, max_users: int, seed: int
) -> tuple[pd.DataFrame, list[str]]:
    """Jaccard among at most `max_users` users, drawn round-robin across cohorts, ordered by cohort."""
    n = rm.n_users
    codes = (
        pd.Categorical(labels, categories=list(COHORTS)).codes.astype(np.int64)
        if labels is not None
        else np.zeros(n, dtype=np.int64)
    )
    if n > max_users:
        perm = np.random.default_rng(seed).permutation(n)
        position = pd.Series(codes[perm]).groupby(codes[perm]).cumcount().to_numpy()
        take = perm[np.lexsort((codes[perm], position))[:max_users]]
    else:
        take = np.arange(n)
    take = take[np.lexsort((take, codes[take]))]
    jac = jaccard_matrix(rm.matrix[take])
    ids = rm.user_ids[take]
    frame = pd.DataFrame(jac, index=pd.Index(ids, name="user_id"), columns=pd.Index(ids, name="user_id"))
    cohort_of = labels[take].tolist() if labels is not None else [ALL_USERS] * take.shape[0]
    return frame, cohort_of
