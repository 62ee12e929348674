"""aws-sims and aws-similar-items: item-to-item similarity from co-occurrence in users' histories.

similarity(i, j) = c_ij / ((n_i * n_j) ** d + shrinkage), where c_ij is the number of users who
interacted with both, n_i with i, and d = `popularity_discount_factor` (0.5 is cosine; 0 ranks raw
co-occurrence, favouring popular items). Pairs with fewer than `min_cointeraction_count` common users
are dropped (AWS's SIMS hyperparameter; AWS's default is 3). Each item keeps its `neighbors`
best (default 100) in a sparse item x item matrix S, computed in chunks of items so memory stays
linear in the catalogue.

The discount, the shrinkage and the minimum co-count, unless given, come from the data: how much
popular neighbours should be held back differs between catalogues (cosine's 0.5 suits MovieLens, where
blockbusters are co-watched with everything; shop data with tight clusters wants less discount), and so
does how far a pair of rarely seen items should be trusted (the shrinkage damps pairs whose
(n_i * n_j) ** d is small; a minimum co-count of 3 drops pairs that a larger shrinkage would keep, but
damped). Training carves a next-item check from its own data: for up to 2,000 users, the newest
interaction is the truth and the one before it the query; the query items' co-counts are counted once,
without those truths, and every setting in DISCOUNTS x SHRINKAGES x MIN_COUNTS rescales them; the one
with the best NDCG@25 on the check is kept (ties: the one nearest cosine with shrinkage 1 and minimum 3;
fewer than 50 checks: those defaults). The neighbourhood size is not chosen: the check and the benchmark
found it changes nothing once it exceeds the 25 items served.

Serving: `similar_items` reads rows of S (items without neighbours fall back to popular items, as AWS
does); `score(history)` sums the similarities of the history's items, so these recipes also answer
GetRecommendations with a userId. aws-similar-items also uses item metadata: items sharing a category
come next after the co-occurrence neighbours (ranked by popularity), which gives cold items (no
interactions) related items and makes them reachable.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from .base import Recommender, TrainingInput, top_k
from .collaborative import binarize
from .user_personalization import _param, item_tokens

_CHUNK = 2048
DEFAULT_DISCOUNT = 0.5
DISCOUNTS = (0.3, 0.4, 0.5, 0.6, 0.7)
DEFAULT_SHRINKAGE = 1.0
SHRINKAGES = (1.0, 10.0, 100.0)
DEFAULT_MIN_COUNT = 3.0
MIN_COUNTS = (1.0, 2.0, 3.0)
_CELLS = 1 << 23  # a check chunk's rows x items, so its dense arrays stay tens of MB at any catalogue size
_CHECK_USERS = 2000
_MIN_CHECKS = 50
_CHECK_TOP = 25


def _given(params: dict[str, str], key: str) -> float | None:
    """The hyperparameter's value, or None when it is not given (then the data chooses it)."""
    return _param(params, key, 0.0) if str(params.get(key, "")).strip() else None


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _distance_from_defaults(setting: tuple[float, float, float]) -> float:
    """How far (discount, shrinkage, minimum co-count) is from cosine with the AWS defaults, in grid steps."""
    d, shrink, min_count = setting
    return abs(d - DEFAULT_DISCOUNT) / 0.1 + abs(np.log10(max(shrink, 1e-3) / DEFAULT_SHRINKAGE)) \
        + abs(min_count - DEFAULT_MIN_COUNT)


class Sims(Recommender):
    recipe_name = "aws-sims"
    uses_metadata = False

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        p = self.params
        self.neighbors = max(1, int(_param(p, "neighbors", 100)))
        # None: chosen from the data at fit time (see the module's docstring).
        self.given_discount = _given(p, "popularity_discount_factor")
        self.given_shrinkage = _given(p, "shrinkage")
        self.given_min_count = _given(p, "min_cointeraction_count")
        self.discount = _or(self.given_discount, DEFAULT_DISCOUNT)
        self.shrinkage = _or(self.given_shrinkage, DEFAULT_SHRINKAGE)
        self.min_cointeraction = _or(self.given_min_count, DEFAULT_MIN_COUNT)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)
        self.pop_score = np.zeros(0, dtype=np.float32)
        self.tokens = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        top = float(self.popularity.max()) if self.popularity.size else 0.0
        self.pop_score = (self.popularity / top if top > 0 else self.popularity).astype(np.float32)
        x = binarize(data.interactions.matrix())
        if None in (self.given_discount, self.given_shrinkage, self.given_min_count):
            self.discount, self.shrinkage, self.min_cointeraction = self._choose(data)
        self.similarity = self._similarity(x, self.discount)
        if self.uses_metadata:
            self.tokens, _ = item_tokens(data.item_features, self.n_items)

    def _neighbours(
        self, xt: sp.csr_matrix, xc: sp.csc_matrix, users_per_item: np.ndarray, items: np.ndarray, discount: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each of `items`' best neighbours: (position in `items`, neighbour, similarity), zeros dropped."""
        n = xc.shape[1]
        k = min(self.neighbors, max(n - 1, 1))
        co = (xt[items] @ xc).toarray().astype(np.float32)  # len(items) x all items, co-counts
        co[co < self.min_cointeraction] = 0.0
        co[np.arange(len(items)), items] = 0.0
        denom = np.power(np.outer(users_per_item[items], users_per_item), discount) + self.shrinkage
        # An item nobody interacted with has nothing in common with anything (0, not 0/0).
        sim = np.divide(co, denom, out=np.zeros_like(co), where=denom > 0).astype(np.float32)
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        v = np.take_along_axis(sim, part, axis=1)
        keep = v > 0
        r = np.repeat(np.arange(len(items)), k).reshape(-1, k)
        return r[keep], part[keep], v[keep]

    def _similarity(self, x: sp.csr_matrix, discount: float) -> sp.csr_matrix:
        n = x.shape[1]
        if n <= 1:
            return sp.csr_matrix((n, n), dtype=np.float32)
        users_per_item = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        xt, xc = x.T.tocsr(), x.tocsc()
        rows, cols, vals = [], [], []
        for start in range(0, n, _CHUNK):
            items = np.arange(start, min(n, start + _CHUNK))
            r, c, v = self._neighbours(xt, xc, users_per_item, items, discount)
            rows.append(items[r])
            cols.append(c)
            vals.append(v)
        s = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        s.sum_duplicates()
        return s

    def _choose(self, data: TrainingInput) -> tuple[float, float, float]:
        """(discount, shrinkage, minimum co-count) with the best NDCG@25 on a next-item check carved from
        `data`; a given hyperparameter is held at its value. Ties keep the setting nearest the defaults."""
        check = self._check(data)
        settings = sorted(itertools.product(
            DISCOUNTS if self.given_discount is None else (self.given_discount,),
            SHRINKAGES if self.given_shrinkage is None else (self.given_shrinkage,),
            MIN_COUNTS if self.given_min_count is None else (self.given_min_count,),
        ), key=_distance_from_defaults)
        if check is None or len(settings) == 1:
            return settings[0]
        x, query, truth = check
        n = x.shape[1]
        users_per_item = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        xt, xc = x.T.tocsr(), x.tocsc()
        fallback = np.float32(1e-6) * self.pop_score
        gain = np.zeros(len(settings))
        step = max(1, min(_CHUNK, _CELLS // max(n, 1)))  # checks per chunk: bounded memory at any catalogue size
        for start in range(0, len(query), step):
            q, t = query[start : start + step], truth[start : start + step]
            # The co-counts are counted once per chunk; each setting only rescales them.
            co = (xt[q] @ xc).toarray().astype(np.float32)
            co[np.arange(len(q)), q] = 0.0
            pops = {d: np.power(np.outer(users_per_item[q], users_per_item), d).astype(np.float32)
                    for d in {s[0] for s in settings}}
            for min_count in {s[2] for s in settings}:
                kept = np.where(co < min_count, np.float32(0.0), co)
                for i, (d, shrink, m) in enumerate(settings):
                    if m == min_count:
                        gain[i] += self._check_gain(kept, pops[d] + np.float32(shrink), fallback, q, t)
        return settings[int(np.argmax(gain))]  # the first best: the nearest the defaults among ties

    def _check_gain(
        self, co: np.ndarray, denom: np.ndarray, fallback: np.ndarray, query: np.ndarray, truth: np.ndarray
    ) -> float:
        """Summed NDCG@25 of the truths in rows of similarities co / denom, as `similar_items` ranks them."""
        # In place: `denom` is this setting's own scratch array (where it is 0, 0 stays: nothing in common).
        scores = np.divide(co, denom, out=denom, where=denom > 0)
        if self.neighbors < _CHECK_TOP:  # otherwise the top 25 lie within the kept neighbours anyway
            cut = np.argpartition(-scores, self.neighbors - 1, axis=1)[:, self.neighbors :]
            np.put_along_axis(scores, cut, 0.0, axis=1)
        scores += fallback
        r = np.arange(len(query))
        scores[r, query] = -np.inf
        at = scores[r, truth][:, None]
        above, level = np.count_nonzero(scores > at, axis=1), np.count_nonzero(scores == at, axis=1)
        # Ties are served in no particular order: the truth's expected gain over the tied positions, so
        # an uninformative setting (everything tied at the popularity fallback) earns no credit for luck.
        cum = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(_CHECK_TOP) + 2.0))]
        top = np.minimum(above + level, _CHECK_TOP)
        return float(((cum[top] - cum[np.minimum(above, _CHECK_TOP)]) / level).sum())

    def _check(self, data: TrainingInput) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray] | None:
        """(interactions without the check's truths, query items, truth items), or None if too few checks.
        For up to _CHECK_USERS users the newest interaction is the truth, the one before it the query."""
        inter = data.interactions
        n_ev, n = len(inter), self.n_items
        order = np.lexsort((np.arange(n_ev), inter.user_index))  # by user, then time
        users = inter.user_index[order]
        bound = np.r_[True, users[1:] != users[:-1], True]
        newest = np.flatnonzero(bound[1:] & ~bound[:-1])  # a user's newest event, when not their only one
        rng = np.random.default_rng(self.seed)
        if len(newest) > _CHECK_USERS:
            newest = np.sort(rng.choice(newest, _CHECK_USERS, replace=False))
        truth_ev, query_ev = order[newest], order[newest - 1]
        query = inter.item_index[query_ev].astype(np.int64)
        truth = inter.item_index[truth_ev].astype(np.int64)
        useful = query != truth
        if useful.sum() < _MIN_CHECKS or n <= 1:
            return None
        keep = np.ones(n_ev, dtype=bool)
        keep[truth_ev] = False
        x = binarize(sp.csr_matrix((np.ones(int(keep.sum()), np.float32),
                                    (inter.user_index[keep], inter.item_index[keep])), shape=(inter.n_users, n)))
        return x, query[useful], truth[useful]

    def update(self, data: TrainingInput) -> None:
        """Co-occurrence is cheap to recount: UPDATE refits on the full new data."""
        self.fit(data)

    # -- serving --------------------------------------------------------------------------------
    def _metadata_scores(self, seeds: sp.csr_matrix) -> np.ndarray | None:
        """rows x items: shared category tokens with the seed items, times popularity (or None)."""
        if not self.uses_metadata or not self.tokens.shape[1]:
            return None
        shared = (seeds @ self.tokens) @ self.tokens.T
        m = np.asarray(shared.todense(), dtype=np.float32)
        m = (m > 0).astype(np.float32)
        return m * (0.5 + 0.5 * self.pop_score)

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        h = binarize(self._fit_histories(histories))
        scores = np.asarray((h @ self.similarity).todense(), dtype=np.float32)
        meta = self._metadata_scores(h)
        if meta is not None:
            scores += np.float32(1e-3) * meta
        scores += np.float32(1e-6) * self.pop_score
        empty = np.diff(h.indptr) == 0
        if empty.any():
            scores[empty] = self.pop_score
        return scores

    def similar_items(self, items: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        items = np.asarray(items, dtype=np.int64).ravel()
        seeds = sp.csr_matrix(
            (np.ones(len(items), dtype=np.float32), (np.arange(len(items)), items)),
            shape=(len(items), self.n_items),
        )
        scores = self.score(seeds)
        return top_k(scores, n, exclude=seeds)


class SimilarItems(Sims):
    recipe_name = "aws-similar-items"
    uses_metadata = True
