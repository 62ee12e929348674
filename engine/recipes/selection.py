"""User-Personalization's model selection: the model and its regularisation chosen from the data itself.

No single setting wins everywhere: on MovieLens-100k EASE wants a λ four times larger than on the
synthetic shop, implicit's ALS at its defaults beats EASE there and loses to it on the shop, and a blend
of the two beats both on MovieLens. So training measures instead of assuming: it carves a hold-out
from the training data (a seeded sample of users, each with their newest interactions as the truth and
the older ones as the input, the protocol the solution metrics use), fits a small candidate set on the
rest, keeps the one with the best NDCG@25 and lets the caller refit it on all the training data.

Candidates: EASE at three regularisations scaled to the data (λ is a multiple of the mean item count,
so the same grid means the same thing on small and large data; the smallest one with EDLAE's
count-proportional emphasis), each scoring its input unweighted or weighted by recency (a user's
items 0.5 ** (rank / half-life) by their newest event's position from the newest, half-life 5 or 20:
sessions and the hold-out's newest-events truth make the newest items say most where the data has
that order; data without it keeps the unweighted input, the first of equal figures), implicit's ALS
at its defaults, and EASE blended with ALS (per-row
standardised scores, two weights; each EASE on small data, only the best one on large data, and none
on large data where ALS scores below half the best EASE: blends cost no fit, only scoring). On large
data ALS is screened first with a 3-sweep fit and fitted in full only if it passes (SCREEN_ITERATIONS).
Held-out users are scored in small blocks (see `_blocks`), each truth item by its rank (`_ndcg_sum`).
The candidate fits run on at most `max_interactions` training interactions (users sampled), which
bounds what selection adds to training on large data; data that small is measured on two splits,
averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .base import Interactions, recency_matrix, recency_ranks
from .collaborative import (
    ALSCore,
    LocalEaseSupport,
    binarize,
    ease_weights,
    local_ease_family,
    local_ease_weights,
)
from .ease_scoring import ease_scores, is_float32_csr, rows_product, weighted_row_sum

TOP_N = 25
SCORE_ROWS = 128  # held-out users scored at a time (see _blocks)
MIN_HELD_USERS = 20  # fewer than this and the measurement is noise: keep the default


@dataclass(frozen=True)
class Candidate:
    """One model: EASE (`ease_scale` > 0), ALS (`als_weight` > 0), or both blended."""

    name: str
    ease_scale: float = 0.0  # λ = ease_scale * mean interactions per item
    dropout: float = 0.0  # EDLAE emphasis: each item's own count added to its regularisation
    als_weight: float = 0.0  # weight of ALS's standardised scores next to EASE's (alone when no EASE)
    half_life: float = 0.0  # EASE's input weighted 0.5 ** (rank / half_life) by recency; 0: unweighted


EASE_CANDIDATES = (
    Candidate("ease λ=0.25·mean+0.5·count", ease_scale=0.25, dropout=0.5),
    Candidate("ease λ=1·mean", ease_scale=1.0),
    Candidate("ease λ=4·mean", ease_scale=4.0),
)
ALS_CANDIDATE = Candidate("als defaults", als_weight=1.0)
# Recency weighting of the EASE input (a user's items by their position from the newest): none, short
# (a session or two) and long. Measured, never assumed: data without a recency signal keeps none.
HALF_LIVES = (0.0, 5.0, 20.0)
BLEND_WEIGHTS = (0.5, 1.0)
BLEND_FLOOR = 0.5  # ALS below this share of the best EASE's NDCG: no blend is measured
DEFAULT = EASE_CANDIDATES[1]
# Large data: ALS is first fitted with this many sweeps and measured. Below BLEND_FLOOR of the best
# EASE it is out (with its blends), and its full 15-sweep fit, 80% of its cost, is skipped. Early
# sweeps are no reliable underestimate (on the 1M shop 3 sweeps score 0.115 and 15 sweeps 0.0995, its
# low regularisation overfits), so the screen only removes a candidate that is far behind.
SCREEN_ITERATIONS = 3
SCREENED_ALS = Candidate(f"als defaults, screened at {SCREEN_ITERATIONS} sweeps", als_weight=1.0)


def decayed(c: Candidate, half_life: float) -> Candidate:
    """`c` with its EASE input weighted by recency (`half_life` > 0), named after both."""
    if half_life <= 0:
        return c
    return Candidate(f"{c.name}, half-life {half_life:g}", c.ease_scale, c.dropout, c.als_weight, half_life)


def blended(c: Candidate, weight: float) -> Candidate:
    return Candidate(f"{c.name} + {weight:g}·als", c.ease_scale, c.dropout, weight, c.half_life)


def all_candidates() -> list[Candidate]:
    """Every candidate selection can choose, named as `choose` names them."""
    eases = [decayed(c, hl) for c in EASE_CANDIDATES for hl in HALF_LIVES]
    return [*eases, ALS_CANDIDATE, *(blended(c, w) for c in eases for w in BLEND_WEIGHTS)]


def candidate_named(name: str) -> Candidate:
    for c in all_candidates():
        if c.name == name:
            return c
    known = ", ".join(repr(c.name) for c in all_candidates())
    raise ValueError(f"hyperparameter candidate={name!r}: expected one of {known}")


def mean_item_count(x: sp.csr_matrix) -> float:
    """Mean number of users per item that has any: the scale EASE's λ is measured in."""
    per_item = np.bincount(binarize(x).indices, minlength=x.shape[1])
    touched = per_item[per_item > 0]
    return float(touched.mean()) if touched.size else 1.0


def _l2(x: sp.csr_matrix, c: Candidate) -> float:
    return max(1e-3, c.ease_scale * mean_item_count(x))


def ease_matrix(x: sp.csr_matrix, c: Candidate, dense: bool, neighbors: int,
                support: LocalEaseSupport | None = None) -> np.ndarray | sp.csr_matrix:
    if dense:
        return ease_weights(x, _l2(x, c), c.dropout)
    return local_ease_weights(x, _l2(x, c), neighbors, dropout=c.dropout, support=support)


def ease_matrices(
    x: sp.csr_matrix, cs: tuple[Candidate, ...], dense: bool, neighbors: int
) -> list[np.ndarray | sp.csr_matrix]:
    """Every candidate's B; local EASE shares its Gram and neighbour look-ups across the settings."""
    if dense:
        return [ease_matrix(x, c, True, neighbors) for c in cs]
    return list(local_ease_family(x, [(_l2(x, c), c.dropout) for c in cs], neighbors))


def standardised(scores: np.ndarray) -> np.ndarray:
    """Per row: zero mean, unit spread, so two models' scores can be added (in place). The ufunc steps
    of `scores.mean` and `scores.std`, in their order and dtypes (the same bits), without the Python
    wrappers around them: those cost more than the arithmetic on a served row."""
    n = scores.shape[1]
    mean = np.add.reduce(scores, axis=1, keepdims=True)
    np.true_divide(mean, n, out=mean, casting="unsafe")
    scores -= mean
    # std of the centred scores, as numpy's _var computes it: their own mean again, squares, mean, root
    centre = np.add.reduce(scores, axis=1, keepdims=True)
    np.true_divide(centre, n, out=centre, casting="unsafe")
    x = scores - centre
    np.multiply(x, x, out=x)
    spread = np.add.reduce(x, axis=1, keepdims=True)
    np.true_divide(spread, n, out=spread, casting="unsafe")
    np.sqrt(spread, out=spread)
    spread += np.float32(1e-9)
    scores /= spread
    return scores


def blend(ease: np.ndarray, als: np.ndarray, weight: float) -> np.ndarray:
    if ease.shape[0] == 1 and als.shape == ease.shape and als.dtype == ease.dtype:
        # One served row: both standardised in one pass. Rows are reduced independently, so the bits
        # are those of two passes, at half the per-call overhead.
        both = standardised(np.concatenate([ease, als]))
        out = both[:1]
        out += np.float32(weight) * both[1:]
        return out
    out = standardised(ease.copy())
    out += np.float32(weight) * standardised(als.copy())
    return out


@dataclass
class Split:
    train: sp.csr_matrix  # users x items, held-out users' rows empty, possibly user-sampled
    histories: sp.csr_matrix  # held-out users' older interactions
    truth: sp.csr_matrix  # their newest ones, seen items removed
    recency: sp.csr_matrix  # the histories' cells: 1 + rank from the user's newest input event


def selection_split(inter: Interactions, seed: int, max_interactions: int, max_cells: int = 20_000_000) -> Split | None:
    """Hold out a seeded sample of users (10-25% of those with 2+ events, at least 500 where there
    are, at most `max_cells` / n_items): newest max(1, n/10) events are the truth. None when too few."""
    n_users, n_items = inter.n_users, inter.n_items
    counts = np.bincount(inter.user_index, minlength=n_users)
    eligible = np.flatnonzero(counts >= 2)
    n_hold = int(min(max(0.10 * len(eligible), min(0.25 * len(eligible), 500)), max_cells // max(1, n_items)))
    if n_hold < MIN_HELD_USERS:
        return None
    rng = np.random.default_rng(seed)
    held = np.zeros(n_users, dtype=bool)
    held[rng.choice(eligible, n_hold, replace=False)] = True
    # Training users are sampled down to about `max_interactions` events: the candidates' fits stay
    # small on large data, and λ, being relative to the mean item count, carries over to the refit.
    rest = int(counts[~held].sum())
    keep_user = ~held & (rng.random(n_users) < min(1.0, max_interactions / max(1, rest)))
    on_held = held[inter.user_index]
    keep = keep_user[inter.user_index]
    train = _binary((inter.user_index[keep], inter.item_index[keep]), (n_users, n_items))

    ev = np.flatnonzero(on_held)
    users = inter.user_index[ev]
    rank = recency_ranks(users)  # from each user's newest event
    n_truth = np.maximum(1, counts[users] // 10)
    is_truth = rank < n_truth
    row = np.cumsum(held)[users] - 1  # held-out users in index order
    items = inter.item_index[ev]
    shape = (n_hold, n_items)
    histories = _binary((row[~is_truth], items[~is_truth]), shape)
    truth = _binary((row[is_truth], items[is_truth]), shape)
    truth = (truth - truth.multiply(histories)).tocsr()
    truth.eliminate_zeros()
    recency = recency_matrix(row[~is_truth], items[~is_truth], (rank - n_truth)[~is_truth], shape)
    return Split(train, histories, truth, recency)


def _binary(coords: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(coords[0]), dtype=np.float32), coords), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _ndcg_sum(scores: np.ndarray, histories: sp.csr_matrix, truth: sp.csr_matrix) -> float:
    """Summed NDCG@25 over the rows that have a truth (in place on `scores`: seen items become -inf).

    Only the truth items' ranks matter, so each is counted directly (the items scoring above it, and
    those tied with it at a lower index) instead of a top-k of every row: a few comparisons of one row
    per truth item cost a fraction of partitioning all of a block's scores. Ties at the cut go to the
    lower index, where a partition picks among them arbitrarily.
    """
    rows, cols = histories.nonzero()
    scores[rows, cols] = -np.inf
    gains = 1.0 / np.log2(np.arange(2, TOP_N + 2))
    ideal = np.r_[0.0, np.cumsum(gains)]
    total = 0.0
    for r in np.flatnonzero(np.diff(truth.indptr)):
        row = scores[r]
        dcg = 0.0
        items = truth.indices[truth.indptr[r] : truth.indptr[r + 1]]
        for item, value in zip(items.tolist(), row[items].tolist(), strict=True):
            rank = int(np.count_nonzero(row > value)) + int(np.count_nonzero(row[:item] == value))
            if rank < TOP_N and value > -np.inf:
                dcg += gains[rank]
        total += dcg / ideal[min(len(items), TOP_N)]
    return total


def recency_weights(ranks: np.ndarray, half_life: float) -> np.ndarray:
    """0.5 ** (rank / half_life), floored so that no item of a long history weighs nothing (a zero would
    drop it from the row, and seen items are the row's nonzero cells)."""
    return np.maximum(np.exp2(-ranks / half_life), 1e-6).astype(np.float32)


def weighted_ease_scores(histories: sp.csr_matrix, b: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """EASE's scores of rows whose values are recency weights (`ease_scores` binarises them)."""
    if histories.shape[0] == 1 and (isinstance(b, np.ndarray) or is_float32_csr(b)):
        # One request: B's rows for the items seen, weighted (what serving's `score_one` computes).
        return weighted_row_sum(b, histories.indices, histories.data)[None, :]
    return rows_product(histories, b)


@dataclass
class _Block:
    """SCORE_ROWS held-out users: a block's score matrices stay small enough to be reused from cache,
    where whole-hold-out matrices (1,000 users x 20k items = 80 MB a candidate, and twice that for the
    top-k's indices) cost more in fresh memory than the scoring itself."""

    histories: sp.csr_matrix
    truth: sp.csr_matrix
    recency: sp.csr_matrix


def _blocks(split: Split) -> list[_Block]:
    n = split.histories.shape[0]
    return [_Block(split.histories[i : i + SCORE_ROWS], split.truth[i : i + SCORE_ROWS],
                   split.recency[i : i + SCORE_ROWS]) for i in range(0, n, SCORE_ROWS)]


Bs = dict[tuple[float, float], np.ndarray | sp.csr_matrix]  # B per (ease_scale, dropout)


def _block_scores(blk: _Block, c: Candidate, bs: Bs, als: ALSCore | None,
                  cache: dict[tuple[float, ...], np.ndarray]) -> np.ndarray:
    """Candidate `c`'s scores of a block, a new array. An EASE (per λ and half-life) and ALS are scored
    once a block, in `cache`, and shared by the candidates that use them."""
    ease = als_s = None
    if c.ease_scale > 0:
        key = (c.ease_scale, c.dropout, c.half_life)
        if key not in cache:
            b = bs[key[:2]]
            if c.half_life > 0:
                h = blk.recency.copy()
                h.data = recency_weights(h.data - 1, c.half_life)
                cache[key] = weighted_ease_scores(h, b)
            else:
                cache[key] = ease_scores(blk.histories, b)
        ease = cache[key]
    if c.als_weight > 0:
        if ("als",) not in cache:
            assert als is not None
            cache[("als",)] = als.scores(blk.histories)
        als_s = cache[("als",)]
    if ease is not None and als_s is not None:
        return blend(ease, als_s, c.als_weight)
    return (ease if ease is not None else als_s).copy()


def _ndcgs(blocks: list[_Block], cands: list[Candidate], bs: Bs, als: ALSCore | None, n_truth: int) -> list[float]:
    """Each candidate's hold-out NDCG@25."""
    sums = np.zeros(len(cands))
    for blk in blocks:
        cache: dict[tuple[float, ...], np.ndarray] = {}
        for k, c in enumerate(cands):
            sums[k] += _ndcg_sum(_block_scores(blk, c, bs, als, cache), blk.histories, blk.truth)
    return [float(v / n_truth) for v in sums]


def _measure(split: Split, seed: int, dense: bool, neighbors: int, blend_all: bool) -> list[tuple[Candidate, float]]:
    """Every candidate's hold-out NDCG@25 on one split, in a fixed order. Every EASE at every half-life;
    blends: of every one of those when `blend_all` (a fixed set, to average over splits), else of the
    best only (large catalogues, where scoring each blend costs a second or more), and on large data
    ALS is screened first (see SCREEN_ITERATIONS)."""
    bs = dict(zip(((c.ease_scale, c.dropout) for c in EASE_CANDIDATES),
                  ease_matrices(split.train, EASE_CANDIDATES, dense, neighbors), strict=True))
    eases = [decayed(c, hl) for c in EASE_CANDIDATES for hl in HALF_LIVES]
    als = ALSCore(64, 0.01, 1.0, 15 if blend_all else SCREEN_ITERATIONS, seed)
    als.fit(split.train)
    blocks = _blocks(split)
    n_truth = max(1, int((np.diff(split.truth.indptr) > 0).sum()))
    if blend_all:
        cands = [*eases, ALS_CANDIDATE, *(blended(c, w) for c in eases for w in BLEND_WEIGHTS)]
        return list(zip(cands, _ndcgs(blocks, cands, bs, als, n_truth), strict=True))
    first = list(zip([*eases, SCREENED_ALS], _ndcgs(blocks, [*eases, SCREENED_ALS], bs, als, n_truth), strict=True))
    best_ease = max(first[:-1], key=lambda r: r[1])
    if first[-1][1] < BLEND_FLOOR * best_ease[1]:
        # Large data, and it decided early: ALS, even screened, is below half the best EASE. Neither
        # ALS nor a blend with it is fitted in full (on the shop data neither ever won): the record
        # keeps the screen's figure under its own name, which cannot be chosen.
        return first
    # Large data, ALS passed the screen: the real candidate (15 iterations) and the best EASE's blends
    # with it, in a second pass over the blocks.
    als = ALSCore(64, 0.01, 1.0, 15, seed)
    als.fit(split.train)
    second = [ALS_CANDIDATE, *(blended(best_ease[0], w) for w in BLEND_WEIGHTS)]
    return first[:-1] + list(zip(second, _ndcgs(blocks, second, bs, als, n_truth), strict=True))


def choose(
    inter: Interactions, seed: int, dense: bool, neighbors: int, max_interactions: int = 300_000
) -> tuple[Candidate, list[tuple[str, float]]]:
    """The candidate with the best hold-out NDCG@25 (ties: the earlier, simpler one) and every
    candidate's figure, in the order measured. Small data (all of it fits in `max_interactions`)
    is measured on two splits and averaged: there the hold-out has few users and one split is noisy,
    and the fits are cheap."""
    repeats = 2 if len(inter) <= max_interactions else 1
    runs = []
    for r in range(repeats):
        split = selection_split(inter, seed + 7919 * r, max_interactions)
        if split is None or split.truth.nnz == 0:
            return DEFAULT, []
        runs.append(_measure(split, seed + r, dense, neighbors, blend_all=repeats > 1))
    results = [(c, float(np.mean([run[i][1] for run in runs]))) for i, (c, _) in enumerate(runs[0])]
    winner = max(results, key=lambda r: r[1])[0]  # max keeps the first of equal figures
    return winner, [(c.name, score) for c, score in results]
