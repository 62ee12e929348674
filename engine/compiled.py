"""Compiled (numba) loops for one GetRecommendations answer over a large catalogue.

Why: at 20k items one answer was some 60 numpy calls over 80 KB vectors (B's rows, the scores, their
masks and copies). Each call is microseconds when the CPU's caches are warm, but between two requests
the client and the rest of the machine evict them, and the engine then spent ~350 µs a request in
`recommend` against ~100 µs in a tight loop (bench_runtime --scale, issue 16). Two loops that touch each
value once replace them: the history's weighted sum of B's rows, and the ranking of the scores.

The row sums are the numpy path's (ease_scoring.weighted_row_sum and ease_row_sum on a local B) bit
for bit. The ranking lists the items runtime._ranked lists (where scores tie, the lower item first;
numpy's partition keeps no set order), and their shares may differ from its in the seventh decimal's
last digit, the total being summed in another order. Used only for catalogues of at least MIN_ITEMS
items, where they pay: numba is imported, and the loops compiled (or read from numba's on-disk cache),
on the first such answer in the process, not at start-up. Each thread that scores keeps a float64
scratch row (160 KB at 20k items).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from types import ModuleType
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MIN_ITEMS = 4096
_LOCK = threading.Lock()
_KERNELS: list[Any] = []  # [module] once compiled; [None] if numba is missing or failed to compile


def kernels() -> ModuleType | None:
    """The compiled loops, compiled on first use; None without numba (the numpy path serves then)."""
    if _KERNELS:
        return _KERNELS[0]
    with _LOCK:
        if not _KERNELS:
            _KERNELS.append(_compile())
    return _KERNELS[0]


def for_items(n_items: int) -> ModuleType | None:
    """The kernels if they pay for a catalogue of `n_items` and can be had, else None."""
    return kernels() if n_items >= MIN_ITEMS else None


def _compile() -> ModuleType | None:
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        from . import _kernels

        _kernels.warm()
        return _kernels
    except Exception:  # a numba that cannot compile here: serve with numpy, and say why once
        log.exception("the compiled serving loops are unavailable; serving with numpy")
        return None


def row_sum(b: Any, slot: np.ndarray, block: np.ndarray, cols: np.ndarray, weights: np.ndarray | None,
            plus: tuple[np.float32, np.ndarray] | None = None) -> np.ndarray:
    """ease_scoring's sum of a local B's rows `cols` (each times its weight when given), then `plus`
    (scale, vector) added as scale * vector, compiled."""
    mod = kernels()
    assert mod is not None
    w = np.ones(len(cols), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    scale, vector = (np.float32(0), _NOTHING) if plus is None else (np.float32(plus[0]), plus[1])
    return mod.row_sum(block, slot, b.indptr, b.indices, b.data, cols, w, weights is None, scale, vector,
                       _scratch(b.shape[1]))


def rank_trained_row(b: Any, slot: np.ndarray, block: np.ndarray, history: Any, cell_weights: np.ndarray, pos: int,
                     unweighted: bool, plus: tuple[np.float32, np.ndarray], n: int, allowed: np.ndarray | None,
                     excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The top n items and their shares for training row `pos` of the CSR `history`, weighted by
    `cell_weights` (one per stored cell): row_sum of B's rows for that row, then rank_row without the
    row's items and the `excluded` ones (a filter's: any order, repeats and -1 allowed), in one
    compiled call that reads the row in place. None where the arrays are not of the types the loop was
    compiled for (int32 indices, float32 weights): the caller then takes the general path rather than
    compiling anew while serving."""
    mod = kernels()
    assert mod is not None
    extra = _NO_COLS if excluded is None else excluded
    if not (history.indptr.dtype == history.indices.dtype == b.indptr.dtype == b.indices.dtype == extra.dtype
            == np.int32 and cell_weights.dtype == np.float32):
        return None
    return mod.rank_trained_row(history.indptr, history.indices, cell_weights, pos, block, slot, b.indptr,
                                b.indices, b.data, unweighted, np.float32(plus[0]), plus[1], _scratch(b.shape[1]),
                                _NO_MASK if allowed is None else allowed, allowed is not None, extra, n)


_NOTHING = np.zeros(0, dtype=np.float32)
_NO_MASK = np.zeros(0, dtype=bool)
_NO_COLS = np.zeros(0, dtype=np.int32)
_THREAD = threading.local()


def _scratch(n: int) -> np.ndarray:
    """This thread's float64 zeros for a row of n columns (the row sum leaves them zero again): the
    event loop and the worker threads each score rows, so each has its own."""
    arrays = getattr(_THREAD, "arrays", None)
    if arrays is None:
        arrays = _THREAD.arrays = {}
    scratch = arrays.get(n)
    if scratch is None:
        if len(arrays) >= 8:  # catalogues of other sizes come and go
            arrays.clear()
        scratch = arrays[n] = np.zeros(n, dtype=np.float64)
    return scratch
