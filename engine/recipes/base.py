"""The one interface every recipe implements, and the data it trains on.

The common currency is a users x items CSR matrix (as in `implicit`). A recipe scores *histories*:
rows of a sparse matrix, one per request or per evaluated user. That single entry point serves
GetRecommendations for known users (their training row plus events sent since), for new users who
sent events (fold-in without retraining), and the offline metrics (held-out users' oldest 90%),
and keeps every hot path vectorised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class Interactions:
    """Event-level interactions, already mapped to dense indices and sorted by timestamp."""

    user_index: np.ndarray  # int32, one per event
    item_index: np.ndarray  # int32, one per event
    timestamp: np.ndarray  # int64 Unix seconds, one per event, ascending
    weight: np.ndarray  # float32, one per event (1.0, or derived from EVENT_VALUE)
    n_users: int
    n_items: int

    def __len__(self) -> int:
        return int(self.user_index.shape[0])

    def only(self, keep: np.ndarray) -> Interactions:
        """The events where `keep` is true, in the same index spaces (users and items keep their positions)."""
        return Interactions(self.user_index[keep], self.item_index[keep], self.timestamp[keep], self.weight[keep],
                            self.n_users, self.n_items)

    def matrix(self) -> sp.csr_matrix:
        """users x items, summed weights (duplicates add up), float32, canonical CSR."""
        m = sp.csr_matrix(
            (self.weight.astype(np.float32), (self.user_index, self.item_index)),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        m.sum_duplicates()
        return m


@dataclass
class TrainingInput:
    """Everything a recipe may learn from. Indices are positions in `user_ids` / `item_ids`."""

    interactions: Interactions
    user_ids: np.ndarray  # object array of str
    item_ids: np.ndarray  # object array of str
    # Item metadata aligned with item index (one row per item id, NaN where unknown); may be empty.
    item_features: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per item: CREATION_TIMESTAMP from the Items dataset, else its first interaction (Unix s).
    item_created: np.ndarray | None = None
    # Hyperparameters from the solution's solutionConfig.algorithmHyperParameters (strings, as AWS).
    params: dict[str, str] = field(default_factory=dict)
    seed: int = 0


class Recommender(ABC):
    """A trained recipe. Subclasses implement `fit` and `score`; the rest has sound defaults."""

    recipe_name: ClassVar[str]

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        self.params = dict(params or {})
        self.seed = seed
        self.popularity: np.ndarray = np.zeros(0, dtype=np.float32)
        self.n_items = 0
        # Per item creation time (Unix s) and the newest training event: exploration needs both.
        self.item_created: np.ndarray = np.zeros(0, dtype=np.int64)
        self.last_event_time = 0

    # -- training -------------------------------------------------------------------------
    def fit(self, data: TrainingInput) -> None:
        """Train from scratch. Subclasses call super().fit(data) first (sets popularity)."""
        inter = data.interactions
        self.n_items = inter.n_items
        counts = np.bincount(inter.item_index, minlength=self.n_items)
        self.popularity = counts.astype(np.float32)
        self.item_created = item_creation_times(data)
        self.last_event_time = int(inter.timestamp.max()) if len(inter) else 0

    def update(self, data: TrainingInput) -> None:
        """trainingMode=UPDATE: fold in new interactions and items quickly. Default: full fit."""
        self.fit(data)

    def prepare(self, data: TrainingInput, pool: Executor) -> None:
        """Start on `pool` the part of a later `fit(data)` of this model that does not depend on what
        the fit will choose, so that a caller with a core to spare overlaps it with other work (the
        offline metrics' run builds the model to serve while its probe model selects). `fit` gives
        the same model with or without it. Default: nothing to start."""
        return None

    def reuse_choice(self, probe: Recommender) -> None:
        """Let this model's `fit` take what `probe` (the same recipe and hyperparameters, fitted on
        part of the same data) chose by measurement, instead of measuring again. Default: nothing
        is chosen by measurement."""
        return None

    # -- serving --------------------------------------------------------------------------
    @abstractmethod
    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores (n_rows x n_items, float32, higher is better) for each history row.

        A row with no interactions must still get a meaningful ranking: the cold-start
        behaviour (popular items) is real, not simulated.
        """


    def history_weights(self, ranks: np.ndarray) -> np.ndarray | None:
        """Recency weights for a history's items, from each item's newest event's position counted from
        the user's newest event (0 = the newest): what the history row's values must be for `score`
        (every caller builds rows this way: serving, the solution metrics, the model's own selection).
        None (the default): the model takes its rows as they are, unweighted."""
        return None

    def weigh_histories(self, histories: sp.csr_matrix, recency: sp.csr_matrix) -> sp.csr_matrix:
        """`histories` with `history_weights` as values; `recency` is a `recency_matrix` over the same
        cells (1 + each item's rank). Unchanged when the model does not weigh."""
        weights = self.history_weights(recency.data.astype(np.int64) - 1)
        if weights is None:
            return histories
        out = recency.copy()
        out.data = np.asarray(weights, dtype=np.float32)
        return out

    def score_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray | None:
        """Optional shortcut for a single history, given as its sorted, unique item columns and their
        values: a new 1-D float32 array equal to `score` on that row, or None when the recipe has no
        cheaper way (the caller then builds the row and calls `score`). Serving calls it once a request,
        where building a one-row CSR matrix cost more than scoring it."""
        return None

    def trained_row_ranker(self, history: sp.csr_matrix, cell_weights: np.ndarray) -> Callable[
            [int, int, np.ndarray | None, np.ndarray | None], tuple[np.ndarray, np.ndarray] | None] | None:
        """Optional shortcut for serving a known user with no events since training, prepared once per
        model: a callable `(pos, n, allowed, excluded)` giving the top n item positions of training row
        `pos` of `history` (its values `cell_weights`, one per stored cell), the row's items with a
        nonzero weight, those `allowed` is False for and those in `excluded` (a filter's,
        runtime.filter_exclusions) left out, best first, and their scores as shares of the row's total
        positive score to seven decimals, exactly as runtime ranks `score_one`'s row (or None, where it
        cannot for that call). None when the recipe has no such shortcut."""
        return None

    def explores(self, exploration_weight: float, item_age_cutoff_days: float, now: int) -> bool:
        """Whether `explore` could change a row's scores (the default never explores)."""
        return False

    def recommend(
        self,
        histories: sp.csr_matrix,
        n: int,
        exclude_seen: bool = True,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-n item indices and scores per row, vectorised. Rows shorter than n are padded -1.

        `allowed` is a boolean mask over items (filters); seen items are excluded unless asked not.
        """
        scores = self.score(histories).astype(np.float32, copy=True)
        return top_k(scores, n, histories if exclude_seen else None, allowed)

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Related items for each given item index (RELATED_ITEMS recipes override this)."""
        raise NotImplementedError(f"{self.recipe_name} does not serve related items")

    def rank(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        """Scores of `candidates` (item indices) for a single history row, for reranking."""
        return self.score(history)[0, candidates]

    def explore(
        self,
        scores: np.ndarray,
        exploration_weight: float,
        item_age_cutoff_days: float,
        now: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """itemExplorationConfig: mix new, little-seen items into `scores` (before `top_k`).

        The default does not explore (popularity, SIMS, ...); User-Personalization overrides it.
        """
        return scores

    def _fit_histories(self, histories: sp.csr_matrix) -> sp.csr_matrix:
        """`histories` with exactly `n_items` columns (items added after training are dropped)."""
        if (isinstance(histories, sp.csr_matrix) and histories.dtype == np.float32
                and histories.shape[1] == self.n_items):
            return histories  # the serving path's case: no copy, no format check
        histories = sp.csr_matrix(histories, dtype=np.float32)
        if histories.shape[1] == self.n_items:
            return histories
        if histories.shape[1] > self.n_items:
            return histories[:, : self.n_items].tocsr()
        histories = histories.copy()
        histories.resize((histories.shape[0], self.n_items))
        return histories


def recency_ranks(user_index: np.ndarray) -> np.ndarray:
    """Per event (events in time order, as `Interactions` keeps them): its position counted from its
    user's newest event, 0 for the newest."""
    order = np.argsort(user_index, kind="stable")
    users = user_index[order]
    first = np.r_[0, np.flatnonzero(np.diff(users)) + 1] if len(users) else np.zeros(0, dtype=np.int64)
    lengths = np.diff(np.r_[first, len(users)])
    within = np.arange(len(users)) - np.repeat(first, lengths)
    ranks = np.empty(len(users), dtype=np.int64)
    ranks[order] = np.repeat(lengths, lengths) - 1 - within
    return ranks


def recency_matrix(rows: np.ndarray, items: np.ndarray, ranks: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """rows x items, float32: 1 + the rank (see `recency_ranks`) of the row's newest event on the item,
    sorted indices. Repeated items count by their newest event, not their sum: recency, not frequency."""
    key = rows.astype(np.int64) * shape[1] + items
    top = int(ranks.max()) + 1 if len(ranks) else 1
    if len(ranks) and int(ranks.min()) >= 0 and shape[0] * shape[1] * top < 2**62:
        # One sort of (cell, rank) packed in an int64: a third of a two-key lexsort's time at 1M events.
        order = np.argsort(key * top + ranks)
    else:
        order = np.lexsort((ranks, key))
    key = key[order]
    order = order[np.r_[True, key[1:] != key[:-1]]] if len(key) else order
    # Cells in row-major order, each once: the CSR arrays as they are, no COO conversion.
    indptr = np.r_[0, np.cumsum(np.bincount(rows[order], minlength=shape[0]))]
    m = sp.csr_matrix(((ranks[order] + 1).astype(np.float32), items[order], indptr), shape=shape)
    m.sort_indices()  # a check only: they are sorted, and scipy then knows it
    return m


def item_creation_times(data: TrainingInput) -> np.ndarray:
    """CREATION_TIMESTAMP per item where known, else its first interaction, else the newest event."""
    inter = data.interactions
    n = inter.n_items
    newest = int(inter.timestamp.max()) if len(inter) else 0
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    if len(inter):
        np.minimum.at(first, inter.item_index, inter.timestamp.astype(np.int64))
    first[first == np.iinfo(np.int64).max] = newest
    if data.item_created is not None and len(data.item_created) == n:
        given = np.asarray(data.item_created, dtype=np.float64)
        return np.where(np.isfinite(given), given, first).astype(np.int64)
    return first


def top_k(
    scores: np.ndarray,
    n: int,
    exclude: sp.csr_matrix | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-n of a dense score matrix, masking excluded/disallowed items with -inf."""
    if exclude is not None and exclude.nnz:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    n_items = scores.shape[1]
    k = min(n, n_items)
    if k <= 0:
        empty = np.empty((scores.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(part_scores, order, axis=1)
    idx = np.where(np.isfinite(vals), idx, -1)
    return idx, vals
