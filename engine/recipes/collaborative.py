"""The two collaborative-filtering cores behind User-Personalization: EASE and implicit's ALS.

Both score *histories* (rows of a users x items CSR), so a user's newest events count at once:
- EASE (Steck 2019): a dense item x item weight matrix B; scores = history @ B. Exact, strong on
  small and mid-size catalogues; cubic in the number of items.
- ALS (Hu, Koren, Volinsky 2008, via `implicit`): item factors; a history's user factor is the exact
  least-squares solution given the item factors (the same half-step ALS training makes), so any
  history, even of a user never seen in training, is folded in without retraining.

Field notes behind the choices: float32 throughout (float64 Cholesky of >=16k x 16k segfaulted in
OpenBLAS with 2 threads), B kept C-contiguous (sparse @ Fortran-ordered dense copies it every call),
implicit called inside `threadpool_limits(1, "blas")` as it asks.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController, threadpool_limits

T = TypeVar("T")


def binarize(m: sp.csr_matrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def confidence(m: sp.csr_matrix) -> sp.csr_matrix:
    """Repeated events add confidence with diminishing returns: 1 + log(count)."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.sum_duplicates()
    m.data = (1.0 + np.log(np.maximum(m.data, 1.0))).astype(np.float32)
    return m


# -- EASE -----------------------------------------------------------------------------------------
def ease_weights(x: sp.csr_matrix, l2: float, dropout: float = 0.0) -> np.ndarray:
    """B = I - P diagMat(1/diag(P)), P = (X'X + diag(l2 + dropout * diag(X'X)))^-1, diagonal zeroed.
    float32, C-contiguous. `dropout` > 0 is EDLAE's emphasis (Steck 2020): popular items are
    regularized in proportion to their count, which a single l2 cannot do.

    In place on one n_items^2 float32 buffer (plus LAPACK's workspace): Cholesky then inverse.
    """
    n = x.shape[1]
    xb = binarize(x)
    g = (xb.T @ xb).toarray().astype(np.float32, copy=False)
    g = np.ascontiguousarray(g)
    g[np.diag_indices(n)] += np.float32(l2) + np.float32(dropout) * np.diag(g)
    # LAPACK sees the transpose of a C array as Fortran-ordered: factor and invert in place. Its
    # "upper" triangle is the C array's lower one; spotri leaves the other triangle stale.
    c, info = scipy.linalg.lapack.spotrf(g.T, lower=0, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Cholesky failed (info={info}); raise the regularization")
    inv, info = scipy.linalg.lapack.spotri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE inverse failed (info={info})")
    p = np.ascontiguousarray(np.asarray(inv).T)  # no copy when LAPACK worked in place
    _mirror_lower(p)
    d = np.diag(p).copy()
    p /= -d[None, :]
    p[np.diag_indices(n)] = 0.0
    return np.ascontiguousarray(p, dtype=np.float32)


def _mirror_lower(p: np.ndarray, block: int = 1024) -> None:
    """Copy the lower triangle onto the upper one, in blocks (no n^2 index arrays)."""
    n = p.shape[0]
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        diag = p[i0:i1, i0:i1]
        diag[...] = np.tril(diag) + np.tril(diag, -1).T
        if i1 < n:
            p[i0:i1, i1:] = p[i1:, i0:i1].T


def local_ease_weights(
    x: sp.csr_matrix, l2: float, neighbors: int, chunk: int = 1024, threads: int = 2, dropout: float = 0.0,
    support: LocalEaseSupport | None = None,
) -> sp.csr_matrix:
    return local_ease_family(x, [(l2, dropout)], neighbors, chunk, threads, support)[0]


@dataclass(frozen=True)
class LocalEaseSupport:
    """What local EASE's B needs besides its regularisation: per item its k neighbours (a mask of the
    real ones), their co-occurrence with it, their Grams (n x k x k, zero rows for padding), and item
    counts."""

    n: int
    k: int
    nb: np.ndarray
    valid: np.ndarray
    rhs: np.ndarray
    grams: np.ndarray
    counts: np.ndarray


def local_ease_support(x: sp.csr_matrix, neighbors: int, threads: int = 2) -> LocalEaseSupport | None:
    """Most of local EASE's cost, and independent of λ: it can be built while λ is being chosen.
    None where no item has a neighbour (B is then all zeros). The Gram product and the neighbour-Gram
    look-ups run on `threads` threads (the same arrays as on one)."""
    n = x.shape[1]
    xb = binarize(x)
    g = gram(xb, threads)
    k = int(min(neighbors, n - 1))
    if k <= 0 or g.nnz == 0:
        return None
    nb, valid, rhs = _top_neighbours(g, k, threads=threads)
    grams = _neighbour_grams(g, nb, valid, threads=threads)
    counts = g.diagonal().astype(np.float32)  # EDLAE's per-item emphasis is a multiple of these
    return LocalEaseSupport(n, k, nb, valid, rhs, grams, counts)


def local_ease_family(
    x: sp.csr_matrix, settings: list[tuple[float, float]], neighbors: int, chunk: int = 1024, threads: int = 2,
    support: LocalEaseSupport | None = None,
) -> list[sp.csr_matrix]:
    """One sparse B per (l2, dropout) setting: EASE restricted to each item's `neighbors` most
    co-occurring items.

    Column j of EASE's B is the ridge regression of item j on all the other items; here it regresses
    on the K items it co-occurs with most (a SLIM-style support). That is n_items small K x K solves
    instead of one n^3 inverse, and everything stays sparse: no n_items^2 buffer (fresh memory is
    slow to touch on this machine, ~4 s/GB). On the benchmark data it is as accurate as full EASE
    (the support limit also regularizes); with K >= n_items - 1 it is full EASE exactly.
    Several settings share the Gram, the neighbour lists and the look-ups (most of the cost): only the
    small solves are repeated, which is what lets model selection try a λ grid on large catalogues.
    """
    from concurrent.futures import ThreadPoolExecutor

    n = x.shape[1]
    sup = support if support is not None else local_ease_support(x, neighbors, threads)
    if sup is None:
        return [sp.csr_matrix((n, n), dtype=np.float32) for _ in settings]
    k, nb, valid, rhs, grams, counts = sup.k, sup.nb, sup.valid, sup.rhs, sup.grams, sup.counts
    diag = np.arange(k)

    def solve(start: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        stop = min(n, start + chunk)
        nbc, vc = nb[start:stop], valid[start:stop]
        a = grams[start:stop] * (vc[:, :, None] & vc[:, None, :])
        b = rhs[start:stop]
        rows, cols = nbc[vc], np.repeat(np.arange(start, stop), k)[vc.ravel()]
        out = []
        for l2, dropout in settings:
            reg = a.copy() if len(settings) > 1 else a
            reg[:, diag, diag] += np.float32(l2) + np.float32(dropout) * counts[nbc] * vc
            # Padding rows and columns are zero but for l2 on the diagonal: their weights solve to 0.
            w = np.linalg.solve(reg, b[..., None])[..., 0]
            w *= vc
            out.append((rows, cols, w[vc].astype(np.float32)))
        return out

    with threadpool_limits(1, "blas"), ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        parts = list(pool.map(solve, range(0, n, chunk)))
    result = []
    for i in range(len(settings)):
        rows = np.concatenate([p[i][0] for p in parts])
        cols = np.concatenate([p[i][1] for p in parts])
        vals = np.concatenate([p[i][2] for p in parts])
        b = sp.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=np.float32)
        b.sum_duplicates()
        result.append(b)
    return result


def _top_neighbours(g: sp.csr_matrix, k: int, rows_per_part: int = 4_000_000,
                    threads: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of the co-occurrence matrix: its k largest off-diagonal columns (sorted, padded with
    index 0), a mask of the real ones, and their co-occurrence counts (0 for padding).

    Rows are independent, so they are taken in parts of about `rows_per_part` stored entries, on
    `threads` threads: the whole matrix's temporaries (a row number, a sort key and copies of each
    entry, ~25 bytes an entry) were 4 GB at 20M interactions, the fit's peak memory."""
    n = g.shape[0]
    nb = np.zeros((n, k), dtype=np.int32)
    valid = np.zeros((n, k), dtype=bool)
    vals = np.zeros((n, k), dtype=np.float32)
    # Part edges at row boundaries every ~rows_per_part entries; a row longer than that is a part alone.
    edges = np.unique(np.r_[0, np.searchsorted(g.indptr, np.arange(1, g.nnz // rows_per_part + 1) * rows_per_part), n])
    parts = list(itertools.pairwise(edges.tolist()))

    def run(first: int, last: int) -> None:
        for lo, hi in parts[first:last]:
            _top_neighbours_of_rows(g, lo, hi, k, nb, valid, vals)

    runs = _balanced_runs(np.arange(len(parts) + 1), g.indptr[edges], threads) if parts else []
    _run_parallel(run, runs)
    # Sorted neighbour lists make the Gram look-ups walk each row in order (cache friendly);
    # padding (valid False) keeps index 0 and moves along with its mask.
    order = np.argsort(np.where(valid, nb, n), axis=1, kind="stable")
    return (np.take_along_axis(nb, order, axis=1), np.take_along_axis(valid, order, axis=1),
            np.take_along_axis(vals, order, axis=1))


def _top_neighbours_of_rows(g: sp.csr_matrix, lo: int, hi: int, k: int,
                            nb: np.ndarray, valid: np.ndarray, vals: np.ndarray) -> None:
    """`_top_neighbours` for rows lo..hi-1, written into their rows of nb, valid and vals (unsorted)."""
    n = g.shape[0]
    start, end = int(g.indptr[lo]), int(g.indptr[hi])
    row = np.repeat(np.arange(lo, hi, dtype=np.int64), np.diff(g.indptr[lo : hi + 1]))
    cols = g.indices[start:end]
    off = row != cols
    r, c, v = row[off], cols[off], g.data[start:end][off]
    del row, off
    r, c, v = _at_or_above_floor(r - lo, c, v, hi - lo, k)
    c = c.astype(np.int64)
    per_row = np.bincount(r, minlength=hi - lo)
    # One sort on a unique combined key (row, then the largest count, then the lower column) instead of
    # a two-key lexsort: counts are whole numbers, so the key is exact, and it is already ascending in
    # its row part, which the stable sort (timsort) exploits. The key fits int64 below ~2 million items.
    top = np.int64(max(1.0, float(v.max()) if v.size else 1.0)) + 1
    order = np.argsort((r * top + (top - 1 - v.astype(np.int64))) * n + c, kind="stable")
    pos = np.arange(len(r)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    keep = order[pos < k]
    rk, pk = r[keep] + lo, pos[pos < k]
    nb[rk, pk] = c[keep]
    valid[rk, pk] = True
    vals[rk, pk] = v[keep]


def _at_or_above_floor(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, k: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries that can be among their row's k largest, found without sorting: per row the
    largest power of two t with at least k entries >= t, and the entries at or above it.

    Most co-occurrence counts are small (81% are 1 on the 1M shop) while a popular item's row holds
    thousands of entries, so this leaves a few times fewer entries for the sort that picks the top k.
    Each level only looks at the entries that passed the one before, so the levels cost ~1.3 passes.
    """
    floor = np.ones(n, dtype=v.dtype)
    rt, vt, t = r, v, 2.0
    while len(vt):
        at = vt >= t
        rt, vt = rt[at], vt[at]
        enough = np.bincount(rt, minlength=n) >= k
        if not enough.any():
            break
        floor[enough] = t
        t *= 2.0
    keep = v >= floor[r]
    return r[keep], c[keep], v[keep]


def _neighbour_grams(g: sp.csr_matrix, nb: np.ndarray, valid: np.ndarray, stripe: int = 256,
                     threads: int = 2) -> np.ndarray:
    """g[nb[j, p], nb[j, q]] for every item j and neighbour positions p, q (n x k x k; zero rows for
    padding positions p): each item's neighbour Gram, whole, as the solves take it.

    Millions of scattered look-ups into a sparse matrix are the cost of local EASE; a binary search
    each (scipy's sampling kernel) took ~1 µs a look-up. Here the (item, position) pairs are grouped by
    a stripe of `stripe` Gram rows (a radix sort of n·k keys), the stripe is scattered into a dense
    buffer, and each pair's row is one vectorised gather of its item's k neighbours from it. Grouping
    the pairs rather than each of the n·k² look-ups, and taking whole rows rather than the upper
    triangle, costs twice the gathers but spares the sort and the index arrays of every look-up,
    which cost three times the gathers; the Gram is symmetric to the bit (sums of ones), so the
    lower triangle is the upper's mirror exactly. Stripes write disjoint rows of the result, and
    numpy's gathers and scatters release the GIL, so `threads` runs of consecutive stripes (each with
    its own buffer) share the work on both cores.
    """
    n, k = nb.shape
    pair_rows = nb.ravel()
    pairs = np.flatnonzero(valid.ravel())  # padding positions keep their zero rows
    n_stripes = (n + stripe - 1) // stripe
    if n_stripes > np.iinfo(np.uint16).max:
        stripe = n // np.iinfo(np.uint16).max + 1
        n_stripes = (n + stripe - 1) // stripe
    group = (pair_rows[pairs] // stripe).astype(np.uint16)
    pairs = pairs[np.argsort(group, kind="stable")]  # radix sort: 16-bit keys
    # Group bounds from counts (a searchsorted against int64 needles would cast all the keys first).
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=n_stripes))]
    del group
    out = np.zeros((n * k, k), dtype=np.float32)
    cell_type = np.int32 if stripe * n < 2**31 else np.int64
    row_cells = np.arange(stripe, dtype=cell_type) * n

    def gather(first: int, last: int) -> None:
        buf = np.zeros(stripe * n, dtype=np.float32)
        for s in range(first, last):
            r0, r1 = s * stripe, min(n, (s + 1) * stripe)
            lo, hi = int(g.indptr[r0]), int(g.indptr[r1])
            cells = np.repeat(row_cells[: r1 - r0], np.diff(g.indptr[r0 : r1 + 1]))
            cells += g.indices[lo:hi]
            buf[cells] = g.data[lo:hi]
            ps = pairs[bounds[s] : bounds[s + 1]]
            # Each pair's k cells in the stripe's buffer: its Gram row's offset plus its item's neighbours.
            key = nb[ps // k].astype(cell_type, copy=False)
            key += ((pair_rows[ps] - r0).astype(cell_type) * n)[:, None]
            out[ps] = buf.take(key)
            buf[cells] = 0.0

    runs = _balanced_runs(bounds * k, g.indptr[np.minimum(np.arange(n_stripes + 1) * stripe, n)], threads)
    _run_parallel(gather, runs)
    return out.reshape(n, k, k)


def _balanced_runs(lookups: np.ndarray, stored: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Split stripes 0..len(lookups)-2 into at most `parts` runs of consecutive stripes with similar
    work (a stripe costs its look-ups plus the Gram entries it scatters; both given as cumulative)."""
    n_stripes = len(lookups) - 1
    work = lookups.astype(np.float64) + stored.astype(np.float64) - float(stored[0])
    targets = work[-1] * np.arange(1, max(1, parts)) / max(1, parts)
    above = np.clip(np.searchsorted(work, targets), 1, n_stripes)
    # The stripe edge nearest each share of the work (one heavy stripe goes to the lighter side).
    cuts = np.where(work[above] - targets <= targets - work[above - 1], above, above - 1)
    edges = np.unique(np.r_[0, np.clip(cuts, 0, n_stripes), n_stripes])
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges) if hi > lo]


def _run_parallel(task: Callable[[int, int], T], runs: list[tuple[int, int]]) -> list[T]:
    """[task(*run) for run in runs]: the first run on this thread, the others on their own threads."""
    from concurrent.futures import ThreadPoolExecutor

    if len(runs) <= 1:
        return [task(*run) for run in runs]
    with ThreadPoolExecutor(max_workers=len(runs) - 1) as pool:
        others = [pool.submit(task, *run) for run in runs[1:]]
        first = task(*runs[0])
        return [first] + [f.result() for f in others]


def gram(xb: sp.csr_matrix, threads: int = 2) -> sp.csr_matrix:
    """X'X of a binary users x items CSR, as a CSR without duplicates whose indices within a row are in
    the product's own order, not sorted: its users (`local_ease_support`) read it by row and never
    need the order, and sorting 160M entries was a third of the Gram's time at 20M interactions.

    Each row of the product depends only on its own row of X', so blocks of rows (of similar work)
    are multiplied on their own threads (scipy's kernels release the GIL) and joined: the same
    matrix as one product, entry for entry and in the same order.
    """
    xt = xb.T.tocsr()
    n = xt.shape[0]
    # Work of a row of X'X: the length of every user row its users contribute (sum over its users).
    row_len = np.diff(xb.indptr).astype(np.float64)
    per_item = np.bincount(xb.indices, weights=row_len[np.repeat(np.arange(xb.shape[0]), np.diff(xb.indptr))],
                           minlength=n) if xb.nnz else np.zeros(n)
    cum = np.r_[0.0, np.cumsum(per_item)]
    runs = _balanced_runs(cum, np.zeros(n + 1), max(1, threads)) if n else []
    blocks = _run_parallel(lambda lo, hi: (xt[lo:hi] @ xb).tocsr(), runs)
    if not blocks:
        return sp.csr_matrix((n, n), dtype=np.float32)
    if len(blocks) == 1:
        return blocks[0]
    return _joined_rows(blocks, n)


def _joined_rows(blocks: list[sp.csr_matrix], n_cols: int) -> sp.csr_matrix:
    """Row blocks stacked into one CSR, each block's arrays let go of as soon as they are copied: the
    blocks and the whole held at once (sp.vstack) were the Gram's peak memory."""
    nnz = [b.nnz for b in blocks]
    offsets = np.cumsum([0, *nnz[:-1]])
    indptr = np.concatenate([blocks[0].indptr[:1]]
                            + [b.indptr[1:] + off for b, off in zip(blocks, offsets, strict=True)])
    index_type = np.int64 if sum(nnz) >= 2**31 else np.int32
    indptr = indptr.astype(index_type, copy=False)
    arrays = []
    for name, dtype in (("indices", index_type), ("data", blocks[0].dtype)):
        out = np.empty(sum(nnz), dtype=dtype)
        for b, off in zip(blocks, offsets, strict=True):
            out[off : off + b.nnz] = getattr(b, name)
            setattr(b, name, np.empty(0, dtype=dtype))  # its copy is in `out`: free it now
        arrays.append(out)
    return sp.csr_matrix((arrays[1], arrays[0], indptr), shape=(len(indptr) - 1, n_cols), copy=False)


# -- ALS ------------------------------------------------------------------------------------------
_BLAS: ThreadpoolController | None = None


def one_blas_thread():
    """`threadpool_limits(1, "blas")` from a controller built once (after implicit is loaded): building
    one lists every loaded library, ~0.8 ms, more than a one-history fold-in on the serving path."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")

class ALSCore:
    """implicit's ALS item factors, plus exact least-squares fold-in for any history."""

    def __init__(self, factors: int, regularization: float, alpha: float, iterations: int, seed: int):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.item_factors = np.zeros((0, factors), dtype=np.float32)
        self.user_factors = np.zeros((0, factors), dtype=np.float32)

    def _model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit warns about BLAS threads at construction; every call is inside threadpool_limits.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=0,
            )

    def fit(self, x: sp.csr_matrix) -> None:
        model = self._model()
        with threadpool_limits(1, "blas"):
            model.fit(confidence(x), show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    def refine(self, x: sp.csr_matrix, iterations: int) -> None:
        """UPDATE: a few ALS sweeps warm-started from the current factors; new users and new items
        (rows/columns beyond the current factors) first get their exact least-squares factors."""
        n_users, n_items = x.shape
        conf = confidence(x)
        model = self._model()
        model.iterations = iterations
        model.item_factors = self.item_factors
        model.user_factors = self.user_factors
        with threadpool_limits(1, "blas"):
            if n_items > len(self.item_factors):
                # Half-step: all user factors from the known items, then every item from the users.
                pad = np.zeros((n_items - len(self.item_factors), self.factors), dtype=np.float32)
                model.item_factors = np.vstack([self.item_factors, pad])
            model.user_factors = model.recalculate_user(np.arange(n_users), conf)
            model.item_factors = model.recalculate_item(np.arange(n_items), conf.T.tocsr())
            if iterations > 0:
                model.fit(conf, show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """Exact user factors for each history row (rows with no events get zeros)."""
        model = self._serving_model()
        conf = confidence(histories)
        with one_blas_thread():
            return np.asarray(model.recalculate_user(np.arange(conf.shape[0]), conf), dtype=np.float32)

    def _serving_model(self):
        """One implicit model per trained core, its YtY computed once (not pickled: rebuilt on load)."""
        model = self.__dict__.get("_serving")
        if model is None or model.item_factors is not self.item_factors:
            model = self._model()
            model.item_factors = self.item_factors
            model.user_factors = np.zeros((1, self.factors), dtype=np.float32)
            with threadpool_limits(1, "blas"):
                _ = model.YtY  # cache it now, before concurrent requests share the model
            self._serving = model
        return model

    def fold_in_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray:
        """`fold_in` of one history given as its item columns and values, without implicit or a sparse
        matrix: the same normal equations its least squares solves, (YtY + λI + Yhᵀ(C-1)Yh) x = Yhᵀc,
        with c = alpha * confidence, as one k x k Cholesky solve. YtY + λI is kept from the first call;
        the system is solved in float64 (implicit solves it in float32: equal to float tolerance)."""
        if not len(cols):
            return np.zeros(self.factors, dtype=np.float32)
        base = self.__dict__.get("_normal")
        if base is None or base[0] is not self.item_factors:
            y = self.item_factors.astype(np.float64)
            base = (self.item_factors, y.T @ y + self.regularization * np.eye(self.factors))
            self._normal = base
        # `confidence` on the row's stored entries (an explicit 0 counts, as it does there).
        c = np.float32(self.alpha) * (1.0 + np.log(np.maximum(data, 1.0))).astype(np.float32)
        yh = self.item_factors[cols].astype(np.float64)
        a = base[1] + (yh.T * (c - 1.0)) @ yh
        _, x, info = scipy.linalg.lapack.dposv(a, yh.T @ c.astype(np.float64))
        if info != 0:  # not positive definite (λ = 0 and too few items): implicit's own solver decides
            return self.fold_in(sp.csr_matrix((data, cols, [0, len(cols)]), shape=(1, len(self.item_factors))))[0]
        return x.astype(np.float32)

    def scores_one(self, cols: np.ndarray, data: np.ndarray) -> np.ndarray:
        """`scores` of one history (see `fold_in_one`) as a 1-D float32 vector."""
        return self.item_factors @ self.fold_in_one(cols, data)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_serving", None)
        state.pop("_normal", None)
        return state

    def scores(self, histories: sp.csr_matrix) -> np.ndarray:
        if histories.shape[0] == 1:
            # One history (serving): the direct solve, so `scores_one` on its arrays gives the same bits.
            h = histories if histories.has_canonical_format else sp.csr_matrix(histories, copy=True)
            h.sum_duplicates()
            return self.scores_one(h.indices, h.data.astype(np.float32, copy=False))[None, :]
        u = self.fold_in(histories)
        return np.ascontiguousarray(u @ self.item_factors.T, dtype=np.float32)
