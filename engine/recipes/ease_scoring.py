"""EASE's scores of histories from its B, dense or local (sparse): many rows at once (the model
selection's hold-out, the solution metrics, batch jobs) and one served row (GetRecommendations), with
the row values binary or recency weights.

A local EASE's B is very uneven (a popular item neighbours thousands of others, so its row is nearly
dense): both paths keep those rows as one dense block (`_dense_rows`) and treat the light rows apart.
"""

from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from .. import compiled
from .collaborative import _balanced_runs, _run_parallel, binarize


def ease_scores(histories: sp.csr_matrix, b: np.ndarray | sp.csr_matrix, threads: int = 2) -> np.ndarray:
    if histories.shape[0] == 1 and (isinstance(b, np.ndarray) or is_float32_csr(b)):
        # One request: the sum of B's rows for the items seen, without building a binarised CSR copy.
        cols = np.unique(histories.indices[histories.data != 0])
        return ease_row_sum(b, cols)[None, :]
    return rows_product(binarize(histories), b, threads)


def rows_product(h: sp.csr_matrix, b: np.ndarray | sp.csr_matrix, threads: int = 2) -> np.ndarray:
    """h @ b as a C-contiguous float32 array: many histories' EASE scores (their values binary, or
    recency weights). Rows are independent (each is its own sum of B's rows, in the same order however
    the rows are split) and scipy's kernels release the GIL: blocks of rows, of similar numbers of
    events, run on their own threads and fill one result."""
    n_rows = h.shape[0]
    if threads <= 1 or n_rows < 2 * PARALLEL_ROWS:
        return _ease_product(h, b)
    out = np.empty((n_rows, b.shape[1]), dtype=np.float32)

    def block(lo: int, hi: int) -> None:
        out[lo:hi] = _ease_product(h[lo:hi], b)

    events = h.indptr.astype(np.float64)
    _run_parallel(block, _balanced_runs(events + np.arange(n_rows + 1), np.zeros(n_rows + 1), threads))
    return out


# Below this many rows a thread costs more than it saves (a block of 128 rows at 20k items is ~30 ms).
PARALLEL_ROWS = 16


def _ease_product(h: sp.csr_matrix, b: np.ndarray | sp.csr_matrix) -> np.ndarray:
    if not is_float32_csr(b):
        out = h @ b
        if sp.issparse(out):
            out = out.toarray()
        return np.ascontiguousarray(out, dtype=np.float32)
    # A local EASE's B: nearly every history holds a popular item, whose row is nearly dense, so
    # scipy's sparse product built a nearly dense sparse result (counted, filled, then made dense).
    # B's dense rows (see _dense_rows) are multiplied as sparse times dense instead, and only the
    # light rows take the sparse product: 2.5x less time for a block of 128 histories at 20k items.
    # Each row's sum runs in another order than in one product: they may differ in the last bit.
    slot, dense = _dense_rows(b)
    m = h.shape[0]
    where = slot[h.indices]
    heavy = where >= 0
    row = np.repeat(np.arange(m), np.diff(h.indptr))
    data = h.data.astype(np.float32, copy=False)
    light = _rows_csr(row[~heavy], h.indices[~heavy], data[~heavy], (m, b.shape[0])) @ b
    out = light.toarray()
    if heavy.any():
        out += _rows_csr(row[heavy], where[heavy], data[heavy], (m, len(dense))) @ dense
    return out


def _rows_csr(row: np.ndarray, col: np.ndarray, data: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR from entries already grouped by row, kept in their order (no sort, no summing)."""
    index = np.int32 if max(shape[1], len(col)) < 2**31 else np.int64
    indptr = np.zeros(shape[0] + 1, dtype=index)
    np.cumsum(np.bincount(row, minlength=shape[0]), out=indptr[1:])
    return sp.csr_matrix((data, col.astype(index, copy=False), indptr), shape=shape)


def is_float32_csr(b: object) -> bool:
    return isinstance(b, sp.csr_matrix) and b.dtype == np.float32


# A local EASE's B is very uneven: a popular item neighbours thousands of others, so its row is nearly
# dense, and a typical history touches ~25k stored entries at 20k items. Rows above DENSE_ROW_SHARE
# of the columns are kept dense as well (at most DENSE_ROWS_BYTES), so one history's sum reads them
# as whole vectors and gathers only the light rows' entries.
DENSE_ROW_SHARE = 1 / 40
DENSE_ROWS_BYTES = 64 * 2**20
_SPLITS: dict[int, tuple[weakref.ref, np.ndarray, np.ndarray]] = {}


def _dense_rows(b: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(position of each row in the dense block or -1, the dense block), built once per B."""
    cached = _SPLITS.get(id(b))
    if cached is not None and cached[0]() is b:
        return cached[1], cached[2]
    lengths = np.diff(b.indptr)
    cap = max(0, DENSE_ROWS_BYTES // (4 * max(1, b.shape[1])))
    heavy = np.argsort(-lengths, kind="stable")[:cap]
    heavy = np.sort(heavy[lengths[heavy] > DENSE_ROW_SHARE * b.shape[1]])
    slot = np.full(b.shape[0], -1, dtype=np.int64)
    slot[heavy] = np.arange(len(heavy))
    block = np.ascontiguousarray(b[heavy].toarray(), dtype=np.float32)
    for key in [k for k, v in _SPLITS.items() if v[0]() is None]:  # models dropped since
        _SPLITS.pop(key, None)
    _SPLITS[id(b)] = (weakref.ref(b), slot, block)
    return slot, block


# `plus` in the row sums: (scale, vector) added as `out += scale * vector` once the rows are summed (the
# model's popularity tie-break), in the compiled loop's last pass rather than as two more numpy passes.
Plus = tuple[np.float32, np.ndarray] | None


def ease_row_sum(b: np.ndarray | sp.csr_matrix, cols: np.ndarray, plus: Plus = None) -> np.ndarray:
    """The sum of B's rows `cols` (sorted, unique) as a new float32 vector: one history's EASE scores,
    without scipy's one-row product (its checks and constructors outweigh the arithmetic). For a
    sparse B the additions come in another order than in a many-row product, so the two may differ in
    the last bit, as the dense form's do."""
    if isinstance(b, np.ndarray):
        return _plus(np.ascontiguousarray(b[cols].sum(axis=0, dtype=np.float32)), plus)
    slot, block = _dense_rows(b)
    if compiled.for_items(b.shape[1]) is not None:
        return compiled.row_sum(b, slot, block, cols, None, plus)
    slots = slot[cols]
    heavy = slots[slots >= 0]
    out = block[heavy[0]].copy() if len(heavy) else np.zeros(b.shape[1], dtype=np.float32)
    for r in heavy[1:]:  # a handful of whole rows: in place, no (rows x items) temporary
        out += block[r]
    _add_light_rows(out, b, cols[slots < 0], None)
    return _plus(out, plus)


def weighted_row_sum(b: np.ndarray | sp.csr_matrix, cols: np.ndarray, weights: np.ndarray,
                     plus: Plus = None) -> np.ndarray:
    """`ease_row_sum` with B's row `cols[k]` counted `weights[k]` times: one recency-weighted history's
    EASE scores, the same way for a dense and a local (sparse) B."""
    weights = np.asarray(weights, dtype=np.float32)
    if isinstance(b, np.ndarray):
        return _plus(_weighted_sum_of_rows(b, cols, weights), plus)
    slot, block = _dense_rows(b)
    if compiled.for_items(b.shape[1]) is not None:
        return compiled.row_sum(b, slot, block, cols, weights, plus)
    slots = slot[cols]
    heavy = slots >= 0
    out = _weighted_sum_of_rows(block, slots[heavy], weights[heavy])
    _add_light_rows(out, b, cols[~heavy], weights[~heavy])
    return _plus(out, plus)


def ease_row_ranker(b: sp.csr_matrix, history: sp.csr_matrix, cell_weights: np.ndarray, unweighted: bool,
                    plus: tuple[np.float32, np.ndarray]) -> compiled.TrainedRowRanker | None:
    """Ranks training rows of `history` (values `cell_weights`) by a local B's scores (`unweighted`: as
    ease_row_sum sums a row's items with a nonzero value, else as weighted_row_sum), then `plus`, in
    one compiled call a request (engine.compiled.TrainedRowRanker); None where the compiled loops do
    not serve this catalogue."""
    if compiled.for_items(b.shape[1]) is None:
        return None
    slot, block = _dense_rows(b)
    return compiled.trained_row_ranker(b, slot, block, history, cell_weights, unweighted, plus)


def _plus(out: np.ndarray, plus: Plus) -> np.ndarray:
    if plus is not None:
        out += plus[0] * plus[1]
    return out


def _add_light_rows(out: np.ndarray, b: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray | None) -> None:
    """out += the sum of B's sparse rows `rows` (each times its weight, if given), in place."""
    if not len(rows):
        return
    starts, ends = b.indptr[rows], b.indptr[rows + 1]
    lengths = ends - starts
    # Positions of every stored entry of the rows, row after row: a run of aranges, no loop.
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    where = offsets + np.arange(len(offsets), dtype=offsets.dtype)
    values = b.data[where] if weights is None else b.data[where] * np.repeat(weights, lengths)
    # One counting pass (in float64) over all columns beats np.add.at's scattered float32 updates.
    out += np.bincount(b.indices[where], weights=values, minlength=len(out)).astype(np.float32)


def _weighted_sum_of_rows(m: np.ndarray, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k weights[k] * m[rows[k]] as a new float32 vector, in place and without BLAS: as a
    vector-matrix product it ran on OpenBLAS's threads, twice one request's CPU and, on a loaded
    machine, milliseconds of spin-waiting in the tail of every request."""
    out = np.zeros(m.shape[1], dtype=np.float32)
    tmp = np.empty_like(out)
    for r, w in zip(rows.tolist(), weights.tolist(), strict=True):
        np.multiply(m[r], np.float32(w), out=tmp)
        out += tmp
    return out
