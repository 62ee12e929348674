"""BLAS's thread count is process-wide: training and serving limit it to one thread from several
threads at once, and whatever order they enter and leave in, the count must come back afterwards.

Each case runs in a fresh interpreter: once any thread of a process has set OpenBLAS's count
explicitly, the count other threads read no longer follows the process-wide setting, so the state
earlier tests left would decide the answer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.engine_process import REPO

PROBE = """
import json, threading
import numpy, scipy.linalg  # the BLAS libraries the engine loads
from threadpoolctl import ThreadpoolController
from engine.recipes.collaborative import one_blas_thread

def blas_threads():
    return sorted({lib["num_threads"] for lib in ThreadpoolController().info() if lib["user_api"] == "blas"})

before = blas_threads()
# Thread A enters, B enters, A leaves, B leaves: the order a training beside a fold-in can take.
a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
seen = {}

def a():
    with one_blas_thread():
        a_in.set()
        b_in.wait(5)
    a_out.set()

def b():
    a_in.wait(5)
    with one_blas_thread():
        b_in.set()
        a_out.wait(5)
        seen["inside"] = blas_threads()

threads = [threading.Thread(target=a), threading.Thread(target=b)]
for t in threads:
    t.start()
for t in threads:
    t.join(10)
with one_blas_thread():
    with one_blas_thread():
        nested = blas_threads()
    nested_after_inner = blas_threads()
print(json.dumps({"before": before, "inside": seen["inside"], "after": blas_threads(),
                  "nested": nested, "nested_after_inner": nested_after_inner, "end": blas_threads()}))
"""


def test_interleaved_and_nested_limits_keep_one_thread_inside_and_restore_the_count_after() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60,
                         check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    if not seen["before"] or min(seen["before"]) < 2:
        pytest.skip("BLAS runs one thread here: nothing to limit")
    assert seen["inside"] == [1]  # B is still inside when A leaves: still one thread
    assert seen["after"] == seen["before"]  # the last to leave restores the count before the first entered
    assert seen["nested"] == [1] and seen["nested_after_inner"] == [1]
    assert seen["end"] == seen["before"]
