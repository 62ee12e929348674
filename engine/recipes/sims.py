"""aws-sims and aws-similar-items: item-to-item similarity from co-occurrence in users' histories.

similarity(i, j) = c_ij / ((n_i * n_j) ** d + shrinkage), where c_ij is the number of users who
interacted with both, n_i with i, and d = `popularity_discount_factor` (0.5, the default, is cosine;
0 ranks raw co-occurrence, favouring popular items). Pairs with fewer than `min_cointeraction_count`
common users are dropped (AWS's SIMS hyperparameter, default 3). Each item keeps its `neighbors`
best (default 100) in a sparse item x item matrix S, computed in chunks of items so memory stays
linear in the catalogue.

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


class Sims(Recommender):
    recipe_name = "aws-sims"
    uses_metadata = False

    def __init__(self, params: dict[str, str] | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        p = self.params
        self.neighbors = max(1, int(_param(p, "neighbors", 100)))
        self.min_cointeraction = _param(p, "min_cointeraction_count", 3)
        self.discount = _param(p, "popularity_discount_factor", 0.5)
        self.shrinkage = _param(p, "shrinkage", 1.0)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)
        self.pop_score = np.zeros(0, dtype=np.float32)
        self.tokens = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: TrainingInput) -> None:
        super().fit(data)
        top = float(self.popularity.max()) if self.popularity.size else 0.0
        self.pop_score = (self.popularity / top if top > 0 else self.popularity).astype(np.float32)
        x = binarize(data.interactions.matrix())
        self.similarity = self._similarity(x)
        if self.uses_metadata:
            self.tokens, _ = item_tokens(data.item_features, self.n_items)

    def _similarity(self, x: sp.csr_matrix) -> sp.csr_matrix:
        n = x.shape[1]
        users_per_item = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        xt = x.T.tocsr()
        xc = x.tocsc()
        k = min(self.neighbors, max(n - 1, 1))
        rows, cols, vals = [], [], []
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            co = (xt[start:stop] @ xc).toarray().astype(np.float32)  # chunk x items co-counts
            co[co < self.min_cointeraction] = 0.0
            co[np.arange(stop - start), np.arange(start, stop)] = 0.0
            denom = np.power(np.outer(users_per_item[start:stop], users_per_item), self.discount)
            sim = (co / (denom + self.shrinkage)).astype(np.float32)
            if n <= 1:
                break
            part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            v = np.take_along_axis(sim, part, axis=1)
            keep = v > 0
            r = np.repeat(np.arange(start, stop), k).reshape(-1, k)
            rows.append(r[keep])
            cols.append(part[keep])
            vals.append(v[keep])
        if not rows:
            return sp.csr_matrix((n, n), dtype=np.float32)
        s = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        s.sum_duplicates()
        return s

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
