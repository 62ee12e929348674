"""aws-sims and aws-similar-items: item-to-item similarity from co-occurrence in users' histories.

similarity(i, j) = c_ij / ((n_i * n_j) ** d + shrinkage), where c_ij is the number of users who
interacted with both, n_i with i, and d = `popularity_discount_factor` (0.5, the default, is cosine;
0 ranks raw co-occurrence, favouring popular items). Pairs with fewer than `min_cointeraction_count`
common users are dropped (AWS's SIMS hyperparameter, default 3). Each item keeps its `neighbors`
best (default 100) in a sparse item x item matrix S, computed in chunks of items so memory stays
linear in the catalogue.

The discount, unless given, comes from the data: how much popular neighbours should be held back
differs between catalogues (cosine's 0.5 suits MovieLens, where blockbusters are co-watched with
everything; shop data with tight clusters wants less discount). Training carves a next-item check from
its own data: for up to 2,000 users, the newest interaction is the truth and the one before it the
query; each discount in DISCOUNTS builds the query items' neighbour rows without those truths, and the
one with the best NDCG@25 on the check is kept (ties, or fewer than 50 checks: 0.5, cosine).

Serving: `similar_items` reads rows of S (items without neighbours fall back to popular items, as AWS
does); `score(history)` sums the similarities of the history's items, so these recipes also answer
GetRecommendations with a userId. aws-similar-items also uses item metadata: items sharing a category
come next after the co-occurrence neighbours (ranked by popularity), which gives cold items (no
interactions) related items and makes them reachable.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender, TrainingInput, top_k
from .collaborative import binarize
from .user_personalization import _param, item_tokens

_CHUNK = 2048
DEFAULT_DISCOUNT = 0.5
DISCOUNTS = (0.3, 0.4, 0.5, 0.6, 0.7)
_CHECK_USERS = 2000
_MIN_CHECKS = 50
_CHECK_TOP = 25


class Sims(Recommender):
    recipe_name = "aws-sims"
    uses_metadata = False

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        p = self.params
        self.neighbors = max(1, int(_param(p, "neighbors", 100)))
        self.min_cointeraction = _param(p, "min_cointeraction_count", 3)
        # None: chosen from the data at fit time (see the module's docstring).
        given = str(p.get("popularity_discount_factor", "")).strip()
        self.given_discount = _param(p, "popularity_discount_factor", DEFAULT_DISCOUNT) if given else None
        self.discount = self.given_discount if self.given_discount is not None else DEFAULT_DISCOUNT
        self.shrinkage = _param(p, "shrinkage", 1.0)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)
        self.pop_score = np.zeros(0, dtype=np.float32)
        self.tokens = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        top = float(self.popularity.max()) if self.popularity.size else 0.0
        self.pop_score = (self.popularity / top if top > 0 else self.popularity).astype(np.float32)
        x = binarize(data.interactions.matrix())
        if self.given_discount is None:
            self.discount = self._choose_discount(data)
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

    def _choose_discount(self, data: TrainingInput) -> float:
        """The popularity discount with the best NDCG@25 on a next-item check carved from `data`."""
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
            return DEFAULT_DISCOUNT
        query, truth = query[useful], truth[useful]
        keep = np.ones(n_ev, dtype=bool)
        keep[truth_ev] = False
        x = binarize(sp.csr_matrix((np.ones(int(keep.sum()), np.float32),
                                    (inter.user_index[keep], inter.item_index[keep])), shape=(inter.n_users, n)))
        users_per_item = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        xt, xc = x.T.tocsr(), x.tocsc()
        items, row_of_check = np.unique(query, return_inverse=True)
        fallback = np.float32(1e-6) * self.pop_score
        best, chosen = -1.0, DEFAULT_DISCOUNT
        for d in sorted(DISCOUNTS, key=lambda v: abs(v - DEFAULT_DISCOUNT)):  # ties keep the nearest to cosine
            ndcg = 0.0
            for start in range(0, len(items), _CHUNK):
                part = items[start : start + _CHUNK]
                r, c, v = self._neighbours(xt, xc, users_per_item, part, d)
                rows = sp.csr_matrix((v, (r, c)), shape=(len(part), n)).toarray() + fallback
                checks = np.flatnonzero((row_of_check >= start) & (row_of_check < start + len(part)))
                scores = rows[row_of_check[checks] - start]
                scores[np.arange(len(checks)), query[checks]] = -np.inf
                top = top_k(scores, _CHECK_TOP)[0]
                match = top == truth[checks][:, None]
                ndcg += float((match / np.log2(np.arange(2, top.shape[1] + 2))).sum())
            if ndcg > best + 1e-9:
                best, chosen = ndcg, d
        return chosen

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
