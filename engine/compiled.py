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


class TrainedRowRanker:
    """The compiled rank_trained_row for one model's training rows: the arguments that are the same on
    every request (the history's and B's arrays, the per-cell weights, the tie-break) checked and
    gathered once, so that an answer passes only the user's row, the filter and n (every step in
    Python costs several times its warm time on a server that was idle between two requests)."""

    __slots__ = ("_kernel", "_model", "_n_items", "_rows")

    def __init__(self, kernel: Any, b: Any, slot: np.ndarray, block: np.ndarray, history: Any,
                 cell_weights: np.ndarray, unweighted: bool, plus: tuple[np.float32, np.ndarray]) -> None:
        self._kernel = kernel
        self._rows = (history.indptr, history.indices, cell_weights)
        self._model = (block, slot, b.indptr, b.indices, b.data, unweighted, np.float32(plus[0]), plus[1])
        self._n_items = b.shape[1]

    def __call__(self, pos: int, n: int, allowed: np.ndarray | None,
                 excluded: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """The top n items of training row `pos` and their shares, without the row's items, those
        `allowed` is False for and those in `excluded` (a filter's: any order, repeats and -1 allowed).
        None for `excluded` of another type than int32 (the general path serves it, no compiling)."""
        extra = _NO_COLS if excluded is None else excluded
        if extra.dtype != np.int32:
            return None
        return self._kernel(*self._rows, pos, *self._model, _scratch(self._n_items),
                            _NO_MASK if allowed is None else allowed, allowed is not None, extra, n)


def trained_row_ranker(b: Any, slot: np.ndarray, block: np.ndarray, history: Any, cell_weights: np.ndarray,
                       unweighted: bool, plus: tuple[np.float32, np.ndarray]) -> TrainedRowRanker | None:
    """A TrainedRowRanker over the CSR `history` (its values `cell_weights`, one per stored cell) and a
    local B (its dense rows `block`, found through `slot`), then `plus` added; None without the kernels
    or where the arrays are not of the types the loop was compiled for (int32 indices, float32 weights):
    the caller then takes the general path rather than compiling anew while serving."""
    mod = kernels()
    if mod is None or not (history.indptr.dtype == history.indices.dtype == b.indptr.dtype == b.indices.dtype
                           == np.int32 and cell_weights.dtype == np.float32):
        return None
    return TrainedRowRanker(mod.rank_trained_row, b, slot, block, history, cell_weights, unweighted, plus)


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
