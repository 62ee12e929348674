"""aws-user-personalization (and -v2): a collaborative filter chosen by measurement, with real-time
fold-in, item exploration and real cold start.

The model, chosen by measurement (bench/bench_quality.py, bench/bench_training.py; figures in the
README): EASE, the strongest open baseline on the shop-like benchmark data (and in published
MovieLens results), in two forms:
- catalogues up to `ease_max_items` items: full EASE (one dense float32 inverse; 8k items took
  4-7 s on the shared 2-core machine, so 6k is a few seconds and ~150 MB);
- larger catalogues: "local" EASE, each item regressed on its `neighbors` most co-occurring items
  (sparse, n_items small solves): as accurate as full EASE on the benchmark data at a fraction of its
  cost (full EASE on 20k items: 50 s or more and ~2 GB; local: ~4 s and ~0.6 GB), and more
  accurate than implicit's ALS there.
- implicit's ALS stays available (`model=als`) and is what UPDATE refines when it was chosen.
A request's history row is scored directly (EASE: history @ B; ALS: an exact least-squares user
factor), so PutEvents events change the next answer without retraining, for known and new users.
A row with no history gets the popular items; `explore` mixes in new, little-seen items.

By default (`model=auto`) nothing is a constant tuned to one data set: training carves a hold-out from
its own data and picks among EASE at three regularisations scaled to the data, each with its input
unweighted or weighted by recency (half-life 5 or 20 events), implicit's ALS at its defaults, and blends
of the two (engine/recipes/selection.py), then refits the winner on everything; `chosen` and
`selection` record what it measured. A recency-weighting model says so through `history_weights`:
every caller (serving, the solution metrics) then hands it rows whose values are those weights.

Hyperparameters (strings, as AWS passes algorithmHyperParameters), with defaults:
- `model`: "auto" (default: chosen on the hold-out; EASE is full up to `ease_max_items` items, local
  above), "ease", "local_ease", "als" (fixed, with the settings below).
- `candidate` (model=auto only): the name of a selection candidate (`chosen` of an earlier fit) to fit
  directly, skipping the selection; the engine can pass the metrics model's choice to the final fit.
- `recency_half_life` (model=ease or local_ease; default 0: unweighted): a user's items weighted
  0.5 ** (rank / half-life) by their newest event's position from the user's newest.
- `ease_max_items` (default 6000), `ease_lambda` (default 50: L2 regularization of both EASE forms when
  fixed),
  `neighbors` (default 32: the local EASE support per item).
- `hidden_dimension` (AWS's name; default 128): ALS factors; `als_regularization` (default 5.0),
  `als_alpha` (default 20.0), `als_iterations` (default 15); `update_iterations` (default 2): ALS
  sweeps run by trainingMode=UPDATE after the fold-in half-steps.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..compiled import TrainedRowRanker
from .base import Interactions, Recommender, TrainingInput
from .collaborative import (
    ALSCore,
    LocalEaseSupport,
    binarize,
    ease_weights,
    local_ease_support,
    local_ease_weights,
)
from .ease_scoring import Plus, ease_row_ranker, ease_row_sum, ease_scores, is_float32_csr, weighted_row_sum
from .selection import (
    Candidate,
    blend,
    candidate_named,
    choose,
    ease_matrix,
    recency_weights,
    weighted_ease_scores,
)

DAY = 86_400
# Scores tied on B break by popularity: this much of the item's scaled popularity is added.
TIE_BREAK = np.float32(1e-6)


def _param(params: dict[str, str], key: str, default: float) -> float:
    value = params.get(key)
    if value is None or str(value).strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError(f"hyperparameter {key}={value!r} is not a number") from exc


class UserPersonalization(Recommender):
    recipe_name = "aws-user-personalization"
    # A class default: models pickled before recency weighting existed load as unweighted.
    half_life = 0.0
    # Set by `prepare` until `fit` takes it: the data it was started for, its matrix and local EASE's support.
    _prepared: tuple[Interactions, sp.csr_matrix, Future[LocalEaseSupport | None]] | None = None

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        p = self.params
        self.model_kind = str(p.get("model", "auto")).lower()
        if self.model_kind not in {"auto", "ease", "local_ease", "als"}:
            raise ValueError(f"hyperparameter model={self.model_kind!r}: expected auto, ease, local_ease or als")
        self.ease_max_items = int(_param(p, "ease_max_items", 6000))
        self.ease_lambda = _param(p, "ease_lambda", 50.0)
        self.neighbors = max(1, int(_param(p, "neighbors", 32)))
        self.factors = int(_param(p, "hidden_dimension", 128))
        self.als_regularization = _param(p, "als_regularization", 5.0)
        self.als_alpha = _param(p, "als_alpha", 20.0)
        self.als_iterations = int(_param(p, "als_iterations", 15))
        self.update_iterations = int(_param(p, "update_iterations", 2))
        self.fixed_half_life = max(0.0, _param(p, "recency_half_life", 0.0))
        self.engine = ""  # "ease", "local_ease", "als" or "blend" once trained
        self.blend_weight = 0.0
        # model=auto: the candidate chosen and every candidate's hold-out NDCG@25 (for the record).
        self.chosen = ""
        self.selection: list[tuple[str, float]] = []
        self.ease_b: np.ndarray | sp.csr_matrix | None = None
        self.als: ALSCore | None = None
        self.pop_score = np.zeros(0, dtype=np.float32)

    # -- training -------------------------------------------------------------------------------
    def _dense(self, n_items: int) -> bool:
        return n_items <= self.ease_max_items

    def prepare(self, data: TrainingInput, pool: Executor) -> None:
        """With model=auto on a large catalogue: local EASE's support on all of `data` (most of the
        final fit, and the same whichever candidate wins), started on `pool`."""
        if self.model_kind == "auto" and not self._dense(data.interactions.n_items):
            x = data.interactions.matrix()
            self._prepared = (data.interactions, x, pool.submit(local_ease_support, x, self.neighbors))

    def reuse_choice(self, probe: Recommender) -> None:
        chosen = getattr(probe, "chosen", "")
        if self.model_kind == "auto" and chosen and "candidate" not in self.params:
            self.params["candidate"] = chosen

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        self._set_popularity()
        prepared, self._prepared = self._prepared, None  # a future is no part of the trained model
        if prepared is not None and prepared[0] is data.interactions:
            _, x, support = prepared
        else:
            x, support = data.interactions.matrix(), None
        self.ease_b, self.als, self.blend_weight = None, None, 0.0
        self.half_life = 0.0 if self.model_kind in ("auto", "als") else self.fixed_half_life
        if self.model_kind == "auto" and self.params.get("candidate"):
            # A choice already measured (e.g. by the metrics' model, on fewer users): no second selection.
            self._fit_candidate(x, candidate_named(str(self.params["candidate"])), support)
        elif self.model_kind == "auto":
            self._select_and_fit(data, x, support)
        elif self.model_kind == "als":
            self.engine = "als"
            self.als = ALSCore(self.factors, self.als_regularization, self.als_alpha, self.als_iterations, self.seed)
            self.als.fit(x)
        else:
            self.engine = self.model_kind
            if self.engine == "ease":
                self.ease_b = ease_weights(x, self.ease_lambda)
            else:
                self.ease_b = local_ease_weights(x, self.ease_lambda, self.neighbors)
        self._fit_metadata(data)

    def _select_and_fit(self, data: TrainingInput, x: sp.csr_matrix,
                        support: Future[LocalEaseSupport | None] | None) -> None:
        """Choose on the hold-out, then fit the choice on everything. With local EASE, the final fit's
        support (Gram, neighbour lists, their Grams: most of its cost) does not depend on the λ chosen,
        so unless `prepare` started it, it is built in a second thread while the selection runs: a
        core the selection leaves idle for most of its time does it (the selection's own Gram work is
        single-threaded)."""
        dense = self._dense(self.n_items)
        with ThreadPoolExecutor(max_workers=1) as pool:
            if support is None and not dense:
                support = pool.submit(local_ease_support, x, self.neighbors)
            chosen, self.selection = choose(data.interactions, self.seed, dense, self.neighbors)
            # An ALS-only choice does not use the support; it is waited for (and dropped) all the same.
            self._fit_candidate(x, chosen, support)
            if support is not None:
                support.result()

    def _fit_candidate(self, x: sp.csr_matrix, chosen: Candidate,
                       support: Future[LocalEaseSupport | None] | None = None) -> None:
        """Refit the selected candidate on all the training data (ALS at implicit's defaults)."""
        self.chosen = chosen.name
        self.half_life = chosen.half_life
        if chosen.ease_scale > 0:
            dense = self._dense(self.n_items)
            self.ease_b = ease_matrix(x, chosen, dense, self.neighbors, support.result() if support else None)
            self.engine = "ease" if dense else "local_ease"
        if chosen.als_weight > 0:
            self.als = ALSCore(64, 0.01, 1.0, self.als_iterations, self.seed)
            self.als.fit(x)
            self.engine = "blend" if self.ease_b is not None else "als"
            self.blend_weight = chosen.als_weight

    def update(self, data: TrainingInput) -> None:
        """Fold in new interactions, users and items. EASE (and a blend) refits (seconds at the sizes
        each form is used for, and users are not parameters of EASE: nothing else to fold in); ALS keeps
        its item factors, solves every user and every (new) item once, then runs a couple of sweeps."""
        if self.engine != "als" or self.als is None:
            self.fit(data)
            return
        super().fit(data)
        self._set_popularity()
        self.als.refine(data.interactions.matrix(), self.update_iterations)
        self._fit_metadata(data)

    def _set_popularity(self) -> None:
        top = float(self.popularity.max()) if self.popularity.size else 0.0
        self.pop_score = (self.popularity / top if top > 0 else self.popularity).astype(np.float32)

    def _fit_metadata(self, data: TrainingInput) -> None:
        """Hook for -v2 (item metadata)."""

    # -- serving --------------------------------------------------------------------------------
    def history_weights(self, ranks: np.ndarray) -> np.ndarray | None:
        """A user's items weighted 0.5 ** (rank / half-life) by their position from the newest event,
        when the selection found that a user's newest events predict the next ones best (or
        `recency_half_life` fixes it for a fixed EASE); None (unweighted) otherwise."""
        if self.half_life <= 0:
            return None
        return recency_weights(np.asarray(ranks), self.half_life)

    def _ease_scores(self, h: sp.csr_matrix) -> np.ndarray:
        assert self.ease_b is not None
        # Weighted rows carry their weights as values (ALS's confidence treats values <= 1 as one event).
        return weighted_ease_scores(h, self.ease_b) if self.half_life > 0 else ease_scores(h, self.ease_b)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        h = self._fit_histories(histories)
        if self.engine == "blend":
            assert self.als is not None
            scores = blend(self._ease_scores(h), self.als.scores(h), self.blend_weight)
        elif self.engine in ("ease", "local_ease"):
            scores = self._ease_scores(h)
        else:
            assert self.als is not None
            scores = self.als.scores(h)
        # Ties (e.g. items no similar user touched) break by popularity; empty histories get the
        # popular items: the real cold-start behaviour.
        scores += TIE_BREAK * self.pop_score
        empty = h.indptr[1:] == h.indptr[:-1]  # rows with no history (np.diff costs more)
        if empty.any():
            scores[empty] = self.pop_score
        return scores

    def _ease_row(self, cols: np.ndarray, data: np.ndarray, plus: Plus = None) -> np.ndarray:
        """`_ease_scores` of one sorted, unique history row given as its columns and values (then `plus`)."""
        if self.half_life > 0:
            return weighted_row_sum(self.ease_b, cols, data, plus)
        return ease_row_sum(self.ease_b, cols[data != 0], plus)

    def score_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray | None:
        # Only where `score` is this class's own (-v2 adds cold items) and the row fits the model.
        if (type(self).score is not UserPersonalization.score or (len(cols) and cols[-1] >= self.n_items)
                or (self.engine != "als" and not (isinstance(self.ease_b, np.ndarray) or is_float32_csr(self.ease_b)))):
            return None
        if not len(cols):
            return self.pop_score.copy()  # what `score` gives an empty row: the popular items
        # `score` on one row, which is already sorted and unique: B's rows for the items seen (EASE; with
        # recency on, the row's values are its weights, see `history_weights`), the ALS fold-in as one
        # small solve (weights <= 1 count as one event there, as in `score`); no one-row sparse matrix.
        if self.engine in ("ease", "local_ease"):  # the tie-break below, added with the rows' last pass
            return self._ease_row(cols, data, (TIE_BREAK, self.pop_score))
        if self.engine == "als":
            assert self.als is not None
            scores = self.als.scores_one(cols, data)
        elif self.engine == "blend":
            assert self.als is not None
            ease = self._ease_row(cols, data)
            scores = blend(ease[None, :], self.als.scores_one(cols, data)[None, :], self.blend_weight)[0]
        else:
            return None
        scores += TIE_BREAK * self.pop_score
        return scores

    def trained_row_ranker(self, history: sp.csr_matrix, cell_weights: np.ndarray) -> TrainedRowRanker | None:
        """`score_one` of a training row of `history` (its values `cell_weights`, one per stored cell),
        then the top n items without the row's own and their shares, as runtime ranks them, in one
        compiled call a request that reads the row in place: for a local EASE over a catalogue the
        compiled loops serve. None elsewhere (the caller scores and ranks as usual)."""
        if (type(self).score is not UserPersonalization.score or self.engine not in ("ease", "local_ease")
                or not is_float32_csr(self.ease_b) or history.shape[1] != self.n_items
                or not history.has_sorted_indices):
            return None
        return ease_row_ranker(self.ease_b, history, cell_weights, self.half_life <= 0, (TIE_BREAK, self.pop_score))

    def explores(self, exploration_weight: float, item_age_cutoff_days: float, now: int) -> bool:
        """Whether `explore` would change a row of `n_items` scores: a weight it does not clip to 0 (NaN
        included) and an item created since the cut-off (a NaN creation time may hide one: yes)."""
        newest = self._newest_created()
        return (not exploration_weight <= 0 and self.item_created.size == self.n_items
                and (newest >= now - float(item_age_cutoff_days) * DAY or np.isnan(newest)))

    def _newest_created(self) -> float:
        """The newest item's creation time, kept with the array it was read from (an update replaces it)."""
        kept = self.__dict__.get("_newest")
        if kept is None or kept[0] is not self.item_created:
            kept = (self.item_created, float(self.item_created.max()) if self.item_created.size else -np.inf)
            self.__dict__["_newest"] = kept
        return kept[1]

    def explore(
        self,
        scores: np.ndarray,
        exploration_weight: float,
        item_age_cutoff_days: float,
        now: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """itemExplorationConfig, as AWS describes it: with weight w (0..1), relevance counts for
        (1 - w) and a random exploration bonus for w, given only to items created within
        `item_age_cutoff_days` of `now`, scaled by 1/sqrt(1 + interactions) so little-seen items are
        explored most. Relevance is min-max scaled per row first, so w means the same for every user.
        """
        w = float(np.clip(exploration_weight, 0.0, 1.0))
        if w <= 0.0 or scores.size == 0 or self.item_created.size != scores.shape[1]:
            return scores
        cutoff = now - float(item_age_cutoff_days) * DAY
        if self._newest_created() < cutoff:  # no item is new enough: skip the scan (once a request)
            return scores
        eligible = np.flatnonzero(self.item_created >= cutoff)
        if eligible.size == 0:
            return scores
        lo = scores.min(axis=1, keepdims=True)
        hi = scores.max(axis=1, keepdims=True)
        out = (scores - lo) / np.maximum(hi - lo, np.float32(1e-12))
        out *= np.float32(1.0 - w)
        freshness = (1.0 / np.sqrt(1.0 + self.popularity[eligible])).astype(np.float32)
        bonus = rng.random((scores.shape[0], eligible.size), dtype=np.float32) * freshness
        out[:, eligible] += np.float32(w) * bonus
        return out.astype(np.float32, copy=False)


# -- -v2: item metadata ---------------------------------------------------------------------------
def item_tokens(features: pd.DataFrame, n_items: int) -> tuple[sp.csr_matrix, list[str]]:
    """items x tokens binary CSR from the categorical metadata columns ('|' separates values);
    tokens are named "COLUMN=value".

    Numeric columns and id-like columns (values nearly unique per item) are skipped.
    """
    if features is None or features.empty or len(features) != n_items:
        return sp.csr_matrix((n_items, 0), dtype=np.float32), []
    rows: list[np.ndarray] = []
    tokens: list[np.ndarray] = []
    for col in features.columns:
        s = features[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        s = s.astype("string")
        if s.nunique(dropna=True) > max(50, n_items // 2):
            continue
        parts = s.str.split("|").explode().dropna().str.strip()
        parts = parts[parts != ""]
        rows.append(parts.index.to_numpy(dtype=np.int64))
        tokens.append((f"{col}=" + parts.str.lower()).to_numpy(dtype=object))
    if not rows:
        return sp.csr_matrix((n_items, 0), dtype=np.float32), []
    r = np.concatenate(rows)
    names, cols = np.unique(np.concatenate(tokens).astype(str), return_inverse=True)
    m = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, cols)), shape=(n_items, len(names)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m, names.tolist()


class UserPersonalizationV2(UserPersonalization):
    """-v2: the same collaborative filter, plus item metadata for cold items (no interactions): they
    are scored by the user's affinity to their categories (share of the history in that category),
    ordered by the category's popularity, and placed relative to the user's `cold_item_rank`-th best
    warm item (hyperparameter, default 10): a cold item of a category that is the user's whole history
    lands just below that rank; users who do not like the category never see it."""

    recipe_name = "aws-user-personalization-v2"

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.cold_item_rank = max(1, int(_param(self.params, "cold_item_rank", 10)))
        self.tokens = sp.csr_matrix((0, 0), dtype=np.float32)
        self.cold_items = np.zeros(0, dtype=np.int64)
        self.token_popularity = np.zeros(0, dtype=np.float32)
        self.n_token_columns = 1

    def _fit_metadata(self, data: TrainingInput) -> None:
        self.tokens, names = item_tokens(data.item_features, self.n_items)
        self.n_token_columns = max(1, len({name.split("=", 1)[0] for name in names}))
        self.cold_items = np.flatnonzero(self.popularity == 0)
        if self.tokens.shape[1]:
            tp = np.asarray(self.tokens.T @ self.popularity, dtype=np.float32).ravel()
            self.token_popularity = tp / max(float(tp.max()), 1e-12)
        else:
            self.token_popularity = np.zeros(0, dtype=np.float32)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        scores = super().score(histories)
        if not self.cold_items.size or not self.tokens.shape[1]:
            return scores
        h = binarize(self._fit_histories(histories))  # a copy: the caller's matrix is left alone
        # Share of the user's history in each token (category), then per cold item its tokens' shares,
        # the token's overall popularity breaking ties (0.9 + 0.1 * popularity share of the top token).
        affinity = np.asarray((h @ self.tokens).todense(), dtype=np.float32)
        affinity /= np.maximum(np.asarray(h.sum(axis=1), dtype=np.float32), 1.0)
        cold_tokens = self.tokens[self.cold_items]
        weighted = cold_tokens.multiply(0.9 + 0.1 * self.token_popularity[None, :]).tocsr()
        # rows x cold items: summed over the item's tokens, averaged over the metadata columns.
        cold = np.asarray(weighted @ affinity.T, dtype=np.float32).T / np.float32(self.n_token_columns)
        k = min(self.cold_item_rank, scores.shape[1]) - 1
        level = np.partition(-scores, k, axis=1)[:, k] * -1.0
        has_history = np.diff(h.indptr) > 0
        level = np.where(has_history, np.maximum(level, 0.0), 0.0).astype(np.float32)
        scores[:, self.cold_items] = np.maximum(scores[:, self.cold_items], cold * level[:, None])
        return scores
