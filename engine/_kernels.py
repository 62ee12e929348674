"""The numba loops behind `engine.compiled` (imported only through it: importing this module imports
numba and compiles, or reads numba's cache beside this file)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def row_sum(block, slot, indptr, indices, data, cols, weights, unweighted, scale, plus, scratch):
    """sum_k weights[k] * B[cols[k]] as a new float32 vector: the rows kept dense (`slot` >= 0: their row
    in `block`) first, in float32 as ease_scoring's loop adds them; then the sparse rows' entries
    summed per column in float64 in their stored order and rounded once, as its np.bincount does.
    `unweighted`: ease_row_sum's sum (the first dense row copied, the others added; weights ignored).
    Then, if `plus` is not empty, `scale * plus` added (float32 products), as ease_scoring's `_plus`.

    `scratch`: float64 zeros, one per column, left zero again: the sparse rows' sums are gathered
    there and only their columns read back, where np.bincount fills and reads a whole vector. Adding
    +0.0 where numpy adds a column's zero sum keeps even the sign of a zero the same."""
    n = block.shape[1]
    zero = np.float32(0.0)
    out = np.empty(n, np.float32)
    first = True
    light = False
    for k in range(cols.shape[0]):
        s = slot[cols[k]]
        if s < 0:
            light = True
            continue
        row = block[s]
        if unweighted:
            if first:
                for i in range(n):
                    out[i] = row[i]
            else:
                for i in range(n):
                    out[i] += row[i]
        else:
            w = weights[k]
            if first:  # the numpy loop's zeros plus the first product, in one pass
                for i in range(n):
                    out[i] = zero + row[i] * w
            else:
                for i in range(n):
                    out[i] += row[i] * w
        first = False
    if first:
        for i in range(n):
            out[i] = zero
    if light:
        for k in range(cols.shape[0]):
            r = cols[k]
            if slot[r] >= 0:
                continue
            w = weights[k]
            for p in range(indptr[r], indptr[r + 1]):
                if unweighted:
                    scratch[indices[p]] += np.float64(data[p])
                else:
                    scratch[indices[p]] += np.float64(data[p] * w)
        for k in range(cols.shape[0]):
            r = cols[k]
            if slot[r] >= 0:
                continue
            for p in range(indptr[r], indptr[r + 1]):
                c = indices[p]
                out[c] += np.float32(scratch[c])  # a column met again adds +0.0: a no-op on a sum
                scratch[c] = 0.0
        if plus.shape[0]:
            for i in range(n):
                out[i] = (out[i] + zero) + scale * plus[i]
        else:
            for i in range(n):
                out[i] = out[i] + zero
    elif plus.shape[0]:
        for i in range(n):
            out[i] += scale * plus[i]
    return out


@njit(cache=True, nogil=True)
def _excluded(exclude, i):
    """Whether item i is in the sorted array `exclude` (binary search)."""
    lo, hi = 0, exclude.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if exclude[mid] < i:
            lo = mid + 1
        else:
            hi = mid
    return lo < exclude.shape[0] and exclude[lo] == i


BLOCK = 64  # the ranking's block of items: a block whose best is below the k-th best block's is skipped
_LOW = np.int32(-(2**31))  # below every key: an ineligible item


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def _block_maxima(scores, bits, allowed, use_allowed):
    """The best key (see `_key`) of each BLOCK of items among the finite, allowed ones (_LOW for none),
    and the sum of the finite positive scores (float64), in one pass over the row. Written so that the
    compiler turns whole blocks into vector instructions: a fixed trip count, selects instead of
    branches, the mask test hoisted out of the loop (a loop with `min` bounds and `max` ran five times
    slower), and `reassoc` to split the sum into lanes (a chain of dependent additions was most of a
    ranking's time), so the additions' order follows the machine's vector width, as numpy's do."""
    n = bits.shape[0]
    whole = n // BLOCK
    out = np.empty((n + BLOCK - 1) // BLOCK, np.int32)
    total = 0.0
    for b in range(whole):
        base = b * BLOCK
        best = _LOW
        if use_allowed:
            for j in range(BLOCK):
                x = bits[base + j]
                finite = (x & 0x7F800000) != 0x7F800000
                key = _key(x) if finite & allowed[base + j] else _LOW
                best = key if key > best else best
                v = np.float64(scores[base + j])
                total += v if (finite and v > 0.0) else 0.0
        else:
            for j in range(BLOCK):
                x = bits[base + j]
                finite = (x & 0x7F800000) != 0x7F800000
                key = _key(x) if finite else _LOW
                best = key if key > best else best
                v = np.float64(scores[base + j])
                total += v if (finite and v > 0.0) else 0.0
        out[b] = best
    if whole < out.shape[0]:
        best = _LOW
        for i in range(whole * BLOCK, n):
            x = bits[i]
            if (x & 0x7F800000) != 0x7F800000:
                v = np.float64(scores[i])
                total += v if v > 0.0 else 0.0
                if not (use_allowed and not allowed[i]):
                    best = max(best, _key(x))
        out[whole] = best
    return out, total


@njit(cache=True, nogil=True, inline="always")
def _key(x):
    """A finite float32's bits as an int32 ordered as the floats are, -0.0 as +0.0. Branch-free:
    x ^ 0x7FFFFFFF for negative floats maps -0.0 alone to -1."""
    key = x ^ ((x >> 31) & 0x7FFFFFFF)
    return key + np.int32(key == -1)


@njit(cache=True, nogil=True)
def _kth_largest(values, k):
    """The k-th largest of `values` (1 <= k <= len), reordering them: quickselect around the middle
    element with three-way partitions, linear however many values are equal (blocks all filtered out
    share one key). Written out because np.partition added five seconds to compiling the loops (once an
    installation, on its first large-catalogue answer), and a whole sort costs more."""
    lo, hi = 0, values.shape[0] - 1
    target = k - 1  # its position once sorted best first
    while True:
        pivot = values[(lo + hi) // 2]
        above, i, below = lo, lo, hi  # [lo, above) > pivot, [above, i) == pivot, (below, hi] < pivot
        while i <= below:
            v = values[i]
            if v > pivot:
                values[i], values[above] = values[above], v
                above += 1
                i += 1
            elif v < pivot:
                values[i], values[below] = values[below], v
                below -= 1
            else:
                i += 1
        if target < above:
            hi = above - 1
        elif target > below:
            lo = below + 1
        else:
            return pivot


@njit(cache=True, nogil=True)
def rank_row(scores, exclude, allowed, use_allowed, k):
    """The items of the k best finite scores, best first (ties: the lower item first), skipping the items
    in the sorted `exclude` and, with `use_allowed`, those `allowed` is False for; and their scores as
    shares of the row's total finite positive score (summed in float64), to seven decimals, as
    runtime._ranked gives them.

    Only blocks of BLOCK items whose best eligible score reaches the k-th best block's are read item by
    item, the chosen kept in a small sorted buffer: another block's items are all below k eligible
    scores (one in each of those blocks), so skipping it changes nothing, ties included."""
    bits = np.ascontiguousarray(scores).view(np.int32)
    maxima, total = _block_maxima(scores, bits, allowed, use_allowed)
    for e in exclude:  # an excluded item may be its block's best: that block's best is then re-read without it
        b = e // BLOCK
        if 0 <= e < scores.shape[0] and (bits[e] & 0x7F800000) != 0x7F800000 and _key(bits[e]) == maxima[b]:
            best = _LOW
            for i in range(b * BLOCK, min(scores.shape[0], (b + 1) * BLOCK)):
                v = scores[i]
                if np.isfinite(v) and not (use_allowed and not allowed[i]) and not _excluded(exclude, i):
                    best = max(best, _key(bits[i]))
            maxima[b] = best
    floor = _LOW
    live = 0
    for b in range(maxima.shape[0]):
        if maxima[b] != _LOW:
            live += 1
    if live >= k > 0:
        floor = _kth_largest(maxima.copy(), k)  # the k-th best block's best
    best_v = np.empty(k, np.float32)
    best_i = np.empty(k, np.int64)
    m = 0
    cut = np.float32(-np.inf)  # what a score must beat: the k-th best so far once there are k
    for b in range(maxima.shape[0]):
        if maxima[b] == _LOW or maxima[b] < floor:
            continue
        for i in range(b * BLOCK, min(scores.shape[0], (b + 1) * BLOCK)):
            v = scores[i]
            if not v > cut:
                continue
            if not np.isfinite(v):
                continue
            if use_allowed and not allowed[i]:
                continue
            if exclude.shape[0] and _excluded(exclude, i):
                continue
            j = m if m < k else k - 1  # the new value's slot: after every kept value at least as high
            while j > 0 and best_v[j - 1] < v:
                best_v[j] = best_v[j - 1]
                best_i[j] = best_i[j - 1]
                j -= 1
            best_v[j] = v
            best_i[j] = i
            if m < k:
                m += 1
            if m == k:
                cut = best_v[k - 1]
    # numpy's float32 division of the scores by the total, then np.round(x, 7): x * 1e7, rint, / 1e7.
    shares = np.zeros(m, np.float64)
    if total > 0:
        scale = np.float32(total)
        for j in range(m):
            v = best_v[j] if best_v[j] > 0 else np.float32(0)
            shares[j] = np.rint(np.float64(v / scale) * 1e7) / 1e7
    return best_i[:m].copy(), shares


@njit(cache=True, nogil=True)
def rank_trained_row(h_indptr, h_indices, cell_weights, pos, block, slot, indptr, indices, data, unweighted, scale,
                     plus, scratch, allowed, use_allowed, extra, k):
    """rank_row over row_sum of training row `pos` of a history CSR (`h_*`) weighted by `cell_weights` (one
    per stored cell), the row's items with a nonzero weight excluded, and the items in `extra` (a
    filter's, in any order, repeats and negatives ignored): serving's path for a known user with no
    events since training, in one call, the row read in place (no copies). `unweighted`: the row's
    items with a nonzero value, summed as ease_row_sum sums them."""
    start, end = h_indptr[pos], h_indptr[pos + 1]
    cols = h_indices[start:end]
    weights = cell_weights[start:end]
    kept = weights != 0
    seen = cols[kept]
    if unweighted:
        cols, weights = seen, weights[kept]
    scores = row_sum(block, slot, indptr, indices, data, cols, weights, unweighted, scale, plus, scratch)
    # The ranking's exclusions need only be sorted: its binary search copes with repeats and negatives.
    exclude = np.sort(np.concatenate((seen, extra))) if extra.shape[0] else seen
    return rank_row(scores, exclude, allowed, use_allowed, k)


def warm() -> None:
    """Compile (or load from the cache) for the argument types serving passes."""
    block = np.zeros((1, 4), np.float32)
    slot = np.array([0, -1, -1, -1], np.int64)
    indptr = np.array([0, 0, 1, 1, 1], np.int32)
    indices = np.array([2], np.int32)
    data = np.ones(1, np.float32)
    weights = np.ones(2, np.float32)
    plus = np.ones(4, np.float32)
    for cols in (np.array([0, 1], np.int32), np.array([0, 1], np.int64)):  # serving's columns are int32
        for unweighted in (True, False):
            for extra in (plus, plus[:0]):
                row_sum(block, slot, indptr, indices, data, cols, weights, unweighted, np.float32(1e-6), extra,
                        np.zeros(4, np.float64))
    scores = np.arange(4, dtype=np.float32)
    rank_row(scores, np.array([1], np.int32), np.ones(4, np.bool_), True, 2)
    rank_row(scores, np.zeros(0, np.int32), np.ones(0, np.bool_), False, 2)
    h_indptr, h_indices = np.array([0, 2], np.int32), np.array([0, 1], np.int32)  # int32: what serving passes
    for unweighted in (True, False):
        for extra in (np.zeros(0, np.int32), np.array([3, -1, 0, 3], np.int32)):
            rank_trained_row(h_indptr, h_indices, weights, 0, block, slot, indptr, indices, data, unweighted,
                             np.float32(1e-6), plus, np.zeros(4, np.float64), np.ones(4, np.bool_), True, extra, 2)
