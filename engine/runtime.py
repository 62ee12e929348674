"""Serving: GetRecommendations and GetPersonalizedRanking from a campaign's model bundle.

A request's history is the user's training row plus the events they sent since training, so
PutEvents personalises a new user (or refreshes a known one) without retraining.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import compiled, filters
from .errors import InvalidInputException
from .recipes.registry import POPULAR_ITEMS, RELATED_ITEMS
from .topk import group_bound
from .training import ModelBundle


class ModelCache:
    """Loaded bundles by file, least recently used evicted (campaigns share versions)."""

    def __init__(self, capacity: int = 16) -> None:
        self._bundles: OrderedDict[Path, ModelBundle] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def get(self, path: Path) -> ModelBundle:
        with self._lock:
            if path in self._bundles:
                self._bundles.move_to_end(path)
                return self._bundles[path]
        bundle = ModelBundle.load(path)
        with self._lock:
            self._bundles[path] = bundle
            while len(self._bundles) > self._capacity:
                self._bundles.popitem(last=False)
        return bundle

    def drop(self, path: Path) -> None:
        with self._lock:
            self._bundles.pop(path, None)


def since_training(
    bundle: ModelBundle, pos: int | None, events: list[tuple[str, int, str]],
) -> list[tuple[str, int, str]]:
    """The user's events the model has not seen: all of a user it does not know (`pos` None), else those
    after its training data ended (the earlier ones were trained on: training reads the event log)."""
    return events if pos is None else [e for e in events if e[1] > bundle.trained_until]


def history_row(bundle: ModelBundle, user_id: str | None, events: list[tuple[str, int, str]]) -> sp.csr_matrix:
    """The user's history as a 1 x n_items CSR row (see `history_arrays`)."""
    cols, data = history_arrays(bundle, user_id, events)
    return _single_row(data, cols, len(bundle.item_ids))


def history_arrays(
    bundle: ModelBundle, user_id: str | None, events: list[tuple[str, int, str]],
) -> tuple[np.ndarray, np.ndarray]:
    """The user's training row plus their fresh events as sorted, unique int32 item columns and float32
    values, built straight from the CSR arrays: scipy's row slicing and matrix addition cost more than
    the model's scoring on the serving path. Never views of the bundle's arrays."""
    pos = bundle.user_pos.get(user_id) if user_id is not None else None
    sent = since_training(bundle, pos, events)
    if pos is not None:
        h = bundle.history
        start, end = h.indptr[pos], h.indptr[pos + 1]
        if not sent and bundle.recency is not None:
            weights = bundle.cell_weights()  # most requests: the trained row, weighed once for all users
            if weights is not None:
                return h.indices[start:end].astype(np.int32, copy=True), weights[start:end].copy()
        cols, data = h.indices[start:end], h.data[start:end].astype(np.float32)
    else:
        cols, data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    item_pos = bundle.item_pos
    fresh = [c for c in (item_pos.get(it) for it, _, _ in sent) if c is not None]
    if fresh:
        # Same sums as `base + added` did: repeated items count once per event.
        cols = np.concatenate([cols, np.asarray(fresh, dtype=cols.dtype)])
        data = np.concatenate([data, np.ones(len(fresh), dtype=np.float32)])
        cols, inverse = np.unique(cols, return_inverse=True)
        data = np.bincount(inverse, weights=data).astype(np.float32)
    elif pos is not None and not bundle.history.has_sorted_indices:  # scipy caches the check
        order = np.argsort(cols, kind="stable")
        cols, data = cols[order], data[order]
    else:  # already in order (a stable sort would change nothing); never hand out a view of the bundle
        cols = cols.copy()
    cols = cols.astype(np.int32, copy=False)
    if bundle.recency is not None and len(cols):
        data = recency_weighted(bundle, pos, cols, sent)
    return cols, data


_NO_RANK = np.iinfo(np.int64).max  # an item without an event yet; np.iinfo costs microseconds a call
_NO_COLS = np.zeros(0, dtype=np.int32)  # the compiled ranking's "nothing excluded" and "no filter"
_NO_MASK = np.zeros(0, dtype=bool)


def recency_weighted(
    bundle: ModelBundle, pos: int | None, cols: np.ndarray, sent: list[tuple[str, int, str]],
) -> np.ndarray:
    """The model's `history_weights` for the history's items (`cols`, sorted): each item ranked by its
    newest event from the user's newest, the events sent since training first (newest first; of one
    second, the one sent later), then the training events by their rank in `bundle.recency`, behind
    them. The same ranks training and the solution metrics give an event log's items."""
    ranks = np.full(len(cols), _NO_RANK, dtype=np.int64)
    n_known = 0
    if sent:  # most calls bring no events since training: skip the sort and the scatter for them
        item_pos = bundle.item_pos
        newest_first = sorted(reversed(sent), key=lambda e: e[1], reverse=True)
        known = np.asarray([c for c in (item_pos.get(it) for it, _, _ in newest_first) if c is not None],
                           dtype=np.int64)
        np.minimum.at(ranks, np.searchsorted(cols, known), np.arange(len(known), dtype=np.int64))
        n_known = len(known)
    if pos is not None and bundle.recency is not None:
        r = bundle.recency
        start, end = r.indptr[pos], r.indptr[pos + 1]
        trained = r.data[start:end].astype(np.int64) - 1 + n_known
        np.minimum.at(ranks, np.searchsorted(cols, r.indices[start:end]), trained)
    weights = bundle.model.history_weights(ranks)
    return np.asarray(weights, dtype=np.float32) if weights is not None else np.ones(len(cols), dtype=np.float32)


_ROW_TEMPLATES: dict[int, sp.csr_matrix] = {}


def _single_row(data: np.ndarray, cols: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A 1 x n_items CSR matrix over sorted, unique float32 `data` / int32 `cols`, without scipy's
    constructor: its dtype inference and format checks cost more than scoring the row. The instance
    is a copy of one the constructor built (so it carries whatever attributes this scipy sets), with
    the arrays swapped in; the arrays are exactly what the constructor would have kept."""
    if n_items > np.iinfo(np.int32).max:  # the constructor would widen the index dtype
        indptr = np.array([0, len(cols)], dtype=np.int32)
        return sp.csr_matrix((data, cols, indptr), shape=(1, n_items))
    template = _ROW_TEMPLATES.get(n_items)
    if template is None:
        template = sp.csr_matrix(
            (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int32), np.zeros(2, dtype=np.int32)),
            shape=(1, n_items),
        )
        if len(_ROW_TEMPLATES) > 64:
            _ROW_TEMPLATES.clear()
        _ROW_TEMPLATES[n_items] = template
    row = sp.csr_matrix.__new__(sp.csr_matrix)
    row.__dict__.update(template.__dict__)
    row.data = data
    row.indices = cols
    row.indptr = np.array([0, len(cols)], dtype=np.int32)
    return row


def top_n(
    scores: np.ndarray, n: int, exclude_cols: np.ndarray | None, allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """recipes.base.top_k for one row (same masking, and the same stable order of the chosen items;
    among items tied at the cut either may be chosen, as there), without the 2-D bookkeeping that
    dominates its cost for a single request."""
    if exclude_cols is not None and len(exclude_cols):
        scores[exclude_cols] = -np.inf
    if allowed is not None:
        np.copyto(scores, -np.inf, where=~allowed)
    k = min(n, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    # Over a large catalogue only the items at or above a cheap bound on the k-th best are partitioned
    # (argpartition over 20k scores was half a request's cost).
    bound = group_bound(scores, k)
    if bound is not None:
        candidates = np.flatnonzero(scores >= bound)
        part = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    else:
        part = np.argpartition(-scores, k - 1)[:k]
    part_scores = scores[part]
    order = np.argsort(-part_scores, kind="stable")
    return part[order], part_scores[order]


class _UserRandom:
    """A generator seeded by the user (a user's list does not flicker between two identical requests),
    made only if exploration draws from it: most requests have no new item to explore."""

    def __init__(self, user_id: str | None) -> None:
        self._seed = zlib.crc32((user_id or "").encode())
        self._rng: np.random.Generator | None = None

    def __getattr__(self, name: str):
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return getattr(self._rng, name)


def normalise(scores: np.ndarray) -> np.ndarray:
    """Scores as shares of the user's total positive score (AWS's scores sum to 1 over the catalogue)."""
    positive = np.clip(np.nan_to_num(scores, neginf=0.0, posinf=0.0), 0, None)
    total = float(positive.sum())
    return positive / total if total > 0 else positive


def _exploration(campaign: dict) -> tuple[float, float] | None:
    # A campaign's campaignConfig, or a recommender's recommenderConfig (served by the same path).
    settings = campaign.get("campaignConfig") or campaign.get("recommenderConfig") or {}
    config = settings.get("itemExplorationConfig") or {}
    try:
        weight = float(config.get("explorationWeight", 0.3))
        cutoff = float(config.get("explorationItemAgeCutOff", 30))
    except ValueError:
        return None
    return weight, cutoff


def recommend(
    bundle: ModelBundle,
    campaign: dict,
    user_id: str | None,
    item_id: str | None,
    n: int,
    events: list[tuple[str, int, str]],
    allowed: np.ndarray | None,
    excluded: np.ndarray | None = None,
) -> list[tuple[str, float]]:
    """The top n (item id, share) for the user or item. A filter comes as `allowed` (a mask over the
    model's items) or, when it only takes out items the user interacted with, as `excluded` (their
    positions, see filter_exclusions)."""
    if item_id is not None and bundle.recipe_type != RELATED_ITEMS and user_id is None:
        raise InvalidInputException(
            f"This campaign's recipe ({bundle.recipe_name}) recommends for users: pass userId, not itemId."
        )
    if bundle.recipe_type == RELATED_ITEMS and item_id is None and user_id is None:
        raise InvalidInputException("Pass itemId for a related-items campaign.")
    if not (bundle.recipe_type == RELATED_ITEMS and item_id is not None):
        ranked = _trained_row_ranking(bundle, campaign, user_id, n, events, allowed, excluded)
        if ranked is not None:
            return _named(bundle, *ranked)
    if excluded is not None:
        allowed = without(len(bundle.item_ids), excluded)
    if bundle.recipe_type == RELATED_ITEMS and item_id is not None:
        pos = bundle.item_pos.get(item_id)
        if pos is not None:
            idx, vals = bundle.model.similar_items(np.array([pos]), len(bundle.item_ids))
            scores = np.full(len(bundle.item_ids), -np.inf, dtype=np.float32)
            valid = idx[0] >= 0
            scores[idx[0][valid]] = vals[0][valid]
            scores[pos] = -np.inf
        else:  # an item the model never saw: SIMS answers with popular items
            scores = bundle.model.popularity.astype(np.float32).copy()
        exclude = None
    else:
        cols, data = history_arrays(bundle, user_id, events)
        scores = bundle.model.score_one(cols, data)
        if scores is None:
            row = _single_row(data, cols, len(bundle.item_ids))
            scores = bundle.model.score(row)[0].astype(np.float32, copy=True)
        explore = _exploration(campaign)
        if (explore and explore[0] > 0 and hasattr(bundle.model, "explore")
                and bundle.recipe_type != POPULAR_ITEMS):
            scores = bundle.model.explore(
                scores[None, :], explore[0], explore[1], int(time.time()), _UserRandom(user_id)
            )[0]
        exclude = cols[data != 0] if bundle.recipe_type != POPULAR_ITEMS else None
    kernels = compiled.for_items(len(scores))
    if kernels is not None:  # one pass for the total and the top n, then their shares (engine.compiled)
        chosen, shares = kernels.rank_row(scores, _NO_COLS if exclude is None else exclude,
                                          _NO_MASK if allowed is None else allowed, allowed is not None, n)
    else:
        chosen, shares = _ranked(scores, n, exclude, allowed)
    return _named(bundle, chosen, shares)


def _named(bundle: ModelBundle, chosen: np.ndarray, shares: np.ndarray) -> list[tuple[str, float]]:
    names = bundle.item_names
    return list(zip([names[i] for i in chosen.tolist()], shares.tolist(), strict=True))


def _trained_row_ranking(
    bundle: ModelBundle, campaign: dict, user_id: str | None, n: int, events: list[tuple[str, int, str]],
    allowed: np.ndarray | None, excluded: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Most requests: a known user with no events since training, on a model that ranks a training row
    in one compiled call (ModelBundle.trained_row_ranker). The same items and shares as scoring
    `history_arrays` and ranking it below, without copying the row, its weights and the scores
    through a dozen numpy calls (each costs several times its warm time on a server between two
    requests). None sends the request down the general path: a new user, fresh events, exploration
    that would change the scores, a model without the shortcut."""
    ranker = bundle.trained_row_ranker()
    pos = bundle.user_pos.get(user_id) if user_id is not None else None
    if ranker is None or pos is None or bundle.recipe_type == POPULAR_ITEMS or since_training(bundle, pos, events):
        return None
    explore = _exploration(campaign)
    if explore and bundle.model.explores(explore[0], explore[1], int(time.time())):
        return None
    return ranker(pos, n, allowed, excluded)


def _ranked(
    scores: np.ndarray, n: int, exclude: np.ndarray | None, allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The top n's items and their scores as shares of the row's total positive score (AWS's scores sum
    to 1 over the catalogue), to seven decimals as AWS prints them."""
    if np.isfinite(scores).all():  # the usual case, and the same sum at half the cost
        total = float(np.maximum(scores, 0).sum())
    else:
        total = float(np.maximum(scores, 0, where=np.isfinite(scores), out=np.zeros_like(scores)).sum())
    idx, vals = top_n(scores.copy(), n, exclude, allowed)
    chosen = idx[np.isfinite(vals)]
    shares = np.maximum(scores[chosen], 0) / total if total > 0 else np.zeros(len(chosen))
    # np.round then tolist() is Python's round() to within a tie at the seventh decimal, at a tenth of the
    # cost of 25 round() calls.
    return chosen, np.round(shares.astype(np.float64), 7)


def rank(
    bundle: ModelBundle,
    user_id: str,
    input_list: list[str],
    events: list[tuple[str, int, str]],
    allowed: np.ndarray | None,
) -> list[tuple[str, float]]:
    history = history_row(bundle, user_id, events)
    known = [(it, bundle.item_pos[it]) for it in dict.fromkeys(input_list) if it in bundle.item_pos]
    unknown = [it for it in dict.fromkeys(input_list) if it not in bundle.item_pos]
    if known:
        cand = np.array([p for _, p in known])
        raw = np.asarray(bundle.model.rank(history, cand), dtype=np.float64).ravel()
    else:
        cand, raw = np.zeros(0, dtype=int), np.zeros(0)
    keep = np.ones(len(known), dtype=bool) if allowed is None else allowed[cand]
    order = np.argsort(-raw, kind="stable")
    shares = normalise(raw)
    ranked = [(known[j][0], round(float(shares[j]), 7)) for j in order if keep[j]]
    return ranked + [(it, 0.0) for it in unknown]


# Interaction filters consider a user's 100 most recent interactions per event type (AWS's default quota).
RECENT_PER_TYPE = 100


def filter_mask(
    bundle: ModelBundle,
    clauses: list[filters.Clause],
    filter_values: dict[str, str],
    item_condition: Callable[[filters.Condition, list[object]], np.ndarray],
    user_id: str | None,
    events: list[tuple[str, int, str]],
    typed_history: dict[str, sp.csr_matrix],
) -> np.ndarray:
    """The items a filter allows for this user. Interaction conditions see the user's RECENT_PER_TYPE most
    recent interactions of each event type, as AWS's do: events sent since training first (newest first,
    the same events `history_row` folds in), then the training interactions by recency rank.
    `item_condition` answers an Items condition (see `filters.evaluate`; the serving path caches them).
    Everything here stays in item positions: a user's interactions are read from the typed histories'
    CSR rows, never turned into item ids and looked up again."""
    wanted = filters.interaction_types(clauses, filter_values)
    if wanted is None:
        return filters.evaluate(clauses, filter_values, len(bundle.item_ids), item_condition, {})
    positions = interaction_positions(bundle, wanted, user_id, events, typed_history)
    return filters.evaluate(clauses, filter_values, len(bundle.item_ids), item_condition, positions)


def filter_exclusions(
    bundle: ModelBundle, wanted: set[str], user_id: str | None, events: list[tuple[str, int, str]],
    typed_history: dict[str, sp.csr_matrix],
) -> np.ndarray:
    """The item positions a filter that only excludes interactions (`wanted`: the event types of
    filters.excluded_interaction_types) takes out for this user, in no set order, repeats and -1
    (unknown items) included: the items `filter_mask` would mark False, without building and combining
    masks over every item."""
    parts = list(interaction_positions(bundle, wanted, user_id, events, typed_history).values())
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def without(n_items: int, excluded: np.ndarray) -> np.ndarray:
    """The mask over `n_items` items that `filter_exclusions`' positions stand for."""
    allowed = np.ones(n_items, dtype=bool)
    allowed[excluded[excluded >= 0]] = False
    return allowed


def interaction_positions(
    bundle: ModelBundle, wanted: set[str], user_id: str | None, events: list[tuple[str, int, str]],
    typed_history: dict[str, sp.csr_matrix],
) -> dict[str, np.ndarray]:
    """The item positions (-1: an item the model does not know) of the user's RECENT_PER_TYPE most recent
    interactions of each event type in `wanted` (lower-cased; "*": every type), by event type as sent."""
    every = "*" in wanted  # else only the event types the filter names are read (often one of several)
    pos = bundle.user_pos.get(user_id) if user_id is not None else None
    fresh: dict[str, list[tuple[int, str]]] = {}
    for it, ts, et in since_training(bundle, pos, events):
        if every or et.lower() in wanted:
            fresh.setdefault(et, []).append((ts, it))
    interacted: dict[str, list[np.ndarray]] = {}
    used: dict[str, int] = {}
    item_pos = bundle.item_pos
    for event_type, sent in fresh.items():
        # Newest first; among events of the same second the one sent later is the newer (a stable sort of
        # the reversed arrival order).
        newest = sorted(reversed(sent), key=lambda row: row[0], reverse=True)[:RECENT_PER_TYPE]
        known = [item_pos.get(it, -1) for _, it in newest]
        interacted[event_type] = [np.asarray(known, dtype=np.int32)]  # as the typed histories' columns
        used[event_type] = len(newest)
    if pos is not None:
        for event_type, matrix in typed_history.items():
            if not every and event_type.lower() not in wanted:
                continue
            left = RECENT_PER_TYPE - used.get(event_type, 0)
            start, end = matrix.indptr[pos], matrix.indptr[pos + 1]
            cols = matrix.indices[start:end][matrix.data[start:end] <= left]
            interacted.setdefault(event_type, []).append(cols)
    return {et: np.concatenate(parts) if len(parts) > 1 else parts[0] for et, parts in interacted.items()}
