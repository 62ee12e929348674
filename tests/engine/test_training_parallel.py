"""Training's work on two threads gives what the serial path gives: the Gram product and the
neighbour-Gram look-ups split over threads, local EASE built on them, and the final fit trained
beside the metrics' scoring."""

from __future__ import annotations

import dataclasses
import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from engine import training
from engine.metrics import evaluate_fitted
from engine.recipes import collaborative as collab
from engine.recipes import ease_scoring as scoring
from engine.recipes import user_personalization as up_module
from engine.recipes.registry import RECIPES
from tests.support.synthetic_shop import make_training_input


@pytest.fixture(scope="module")
def shop_matrix() -> sp.csr_matrix:
    data = make_training_input(3_000, 900, 60_000, seed=3)
    return data.interactions.matrix()


def _same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("threads", [2, 3, 5])
def test_gram_on_threads_is_the_serial_product(shop_matrix: sp.csr_matrix, threads: int) -> None:
    xb = collab.binarize(shop_matrix)
    serial = xb.T.tocsr() @ xb  # scipy's row-by-row product, as one block
    one, several = collab.gram(xb, 1), collab.gram(xb, threads)
    # Entry for entry and in the product's own order (indices unsorted within a row: nothing needs them
    # sorted), whether the rows were multiplied on one thread or joined from several.
    _same_csr(one, serial)
    _same_csr(several, serial)
    assert not serial.has_sorted_indices  # else this test could not see a joined block out of order
    canonical = serial.copy()
    canonical.sum_duplicates()
    assert canonical.nnz == serial.nnz  # no duplicates to begin with


def test_balanced_runs_cover_every_stripe_once_and_split_the_work() -> None:
    lookups = np.r_[0, np.cumsum([5, 1, 1, 1, 1, 1, 0, 90, 1, 1])]
    stored = np.r_[0, np.cumsum([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])] + 7
    runs = collab._balanced_runs(lookups, stored, 2)
    assert runs[0][0] == 0 and runs[-1][1] == 10
    assert all(a[1] == b[0] for a, b in itertools.pairwise(runs))
    assert len(runs) == 2 and runs[0][1] == 7  # the heavy stripe 7 starts the second run
    assert collab._balanced_runs(lookups, stored, 1) == [(0, 10)]
    assert collab._balanced_runs(np.zeros(1), np.zeros(1), 2) == []


@pytest.mark.parametrize("threads", [2, 4])
def test_neighbour_grams_on_threads_are_the_plain_look_ups(shop_matrix: sp.csr_matrix, threads: int) -> None:
    g = collab.gram(collab.binarize(shop_matrix), 1)
    k = 40
    nb, valid, _ = collab._top_neighbours(g, k)
    assert (~valid).any() and valid.any()  # some items have fewer than k neighbours: padding is exercised
    n = len(nb)
    rows, cols = np.repeat(nb, k, axis=1).ravel(), np.tile(nb, (1, k)).ravel()
    plain = np.asarray(g[rows, cols]).reshape(n, k, k)  # scipy's own look-ups, one at a time
    plain[~valid] = 0.0  # a padding position's row is zero (its column entries are masked by the solves)
    # Small stripes: many of them, so every thread gets several and the runs' edges are exercised.
    serial = collab._neighbour_grams(g, nb, valid, stripe=16, threads=1)
    np.testing.assert_array_equal(serial, plain)
    np.testing.assert_array_equal(collab._neighbour_grams(g, nb, valid, stripe=16, threads=threads), plain)
    # The Gram is symmetric to the bit, so each item's neighbour Gram is too (the solves rely on it).
    both = valid[:, :, None] & valid[:, None, :]
    np.testing.assert_array_equal(np.where(both, serial, 0), np.where(both, serial.transpose(0, 2, 1), 0))


def test_local_ease_on_two_threads_is_bit_for_bit_the_serial_one(shop_matrix: sp.csr_matrix) -> None:
    one = collab.local_ease_support(shop_matrix, 24, threads=1)
    two = collab.local_ease_support(shop_matrix, 24, threads=2)
    assert one is not None and two is not None
    for name in ("nb", "valid", "rhs", "grams", "counts"):
        np.testing.assert_array_equal(getattr(two, name), getattr(one, name), err_msg=name)
    settings = [(40.0, 0.0), (160.0, 0.1)]
    serial = collab.local_ease_family(shop_matrix, settings, 24, threads=1)
    parallel = collab.local_ease_family(shop_matrix, settings, 24, threads=2)
    for a, b in zip(serial, parallel, strict=True):
        _same_csr(b, a)
        assert b.nnz > 0


@pytest.mark.parametrize("params", [{"ease_max_items": "300"}, {}], ids=["local-ease", "dense-ease"])
def test_final_fit_beside_the_metrics_gives_the_serial_results(params: dict[str, str]) -> None:
    data = make_training_input(1_500, 600, 30_000, seed=5)
    data = dataclasses.replace(data, params=params)
    spec = RECIPES["aws-user-personalization"]
    # The serial path: metrics first, then the final fit with the metrics model's choice.
    scores, probe = evaluate_fitted(spec, data, seed=2)
    serial_input = dataclasses.replace(data, params={**params, "candidate": probe.chosen})
    serial = training.train(spec, serial_input, "FULL", None, None)

    bundle, metrics = training.train_measured(spec, data, 2, None)
    assert metrics == {k: float(v) for k, v in scores.items()}
    assert bundle.model.chosen == probe.chosen and bundle.model.engine == serial.model.engine
    if params:  # a catalogue above ease_max_items: EASE, where chosen, is the local (sparse) form
        assert bundle.model.ease_b is None or sp.issparse(bundle.model.ease_b)
    _same_csr(bundle.history, serial.history)
    rows = bundle.history[:200]
    np.testing.assert_array_equal(bundle.model.score(rows), serial.model.score(rows))


def test_a_failing_final_fit_fails_the_training() -> None:
    data = make_training_input(600, 200, 8_000, seed=1)
    data = dataclasses.replace(data, params={"model": "nonsense"})
    with pytest.raises(ValueError, match="hyperparameter model"):
        training.train_measured(RECIPES["aws-user-personalization"], data, 0, None)


def test_ease_scores_on_threads_are_the_serial_scores(shop_matrix: sp.csr_matrix) -> None:
    local = collab.local_ease_weights(shop_matrix, 60.0, 24)
    dense = collab.ease_weights(shop_matrix, 60.0)
    rows = shop_matrix[:300]
    for b in (local, dense):
        serial = scoring.ease_scores(rows, b, threads=1)
        assert serial.shape == (300, shop_matrix.shape[1]) and serial.dtype == np.float32
        for threads in (2, 3):
            parallel = scoring.ease_scores(rows, b, threads=threads)
            assert parallel.flags.c_contiguous
            np.testing.assert_array_equal(parallel, serial)
    # Too few rows for threads: the same, on one.
    np.testing.assert_array_equal(scoring.ease_scores(rows[:5], local), scoring.ease_scores(rows[:5], local, threads=1))


@pytest.fixture
def counted_supports(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The shapes of the matrices user-personalization builds a final fit's local-EASE support for."""
    built: list[tuple[int, int]] = []
    real = up_module.local_ease_support

    def counting(x: sp.csr_matrix, *args: object, **kwargs: object) -> collab.LocalEaseSupport | None:
        built.append(x.shape)
        return real(x, *args, **kwargs)

    monkeypatch.setattr(up_module, "local_ease_support", counting)
    return built


def test_a_prepared_fit_takes_the_support_started_for_it_and_fits_the_same_model(
    counted_supports: list[tuple[int, int]],
) -> None:
    data = dataclasses.replace(make_training_input(1_500, 600, 30_000, seed=5), params={"ease_max_items": "300"})
    plain = up_module.UserPersonalization(data.params, seed=0)
    plain.fit(data)
    assert counted_supports == [(1_500, 600)] and plain.engine in ("local_ease", "blend")
    with ThreadPoolExecutor(max_workers=1) as pool:
        prepared = up_module.UserPersonalization(data.params, seed=0)
        prepared.prepare(data, pool)
        prepared.fit(data)
    assert counted_supports == [(1_500, 600)] * 2  # the prepared one only: the fit built none of its own
    assert prepared.chosen == plain.chosen and prepared._prepared is None  # nothing left to pickle
    _same_csr(prepared.ease_b, plain.ease_b)
    rows = data.interactions.matrix()[:100]
    np.testing.assert_array_equal(prepared.score(rows), plain.score(rows))


def test_a_support_started_for_other_data_is_not_used(counted_supports: list[tuple[int, int]]) -> None:
    data = dataclasses.replace(make_training_input(1_500, 600, 30_000, seed=5), params={"ease_max_items": "300"})
    other = dataclasses.replace(make_training_input(1_500, 600, 30_000, seed=6), params=data.params)
    plain = up_module.UserPersonalization(data.params, seed=0)
    plain.fit(data)
    with ThreadPoolExecutor(max_workers=1) as pool:
        model = up_module.UserPersonalization(data.params, seed=0)
        model.prepare(other, pool)  # started for other events of the same shape
        model.fit(data)
    assert len(counted_supports) == 3  # plain's, the one for `other`, and the fit's own
    _same_csr(model.ease_b, plain.ease_b)


def test_the_final_model_reuses_the_probe_choice_only_where_it_selects() -> None:
    data = make_training_input(1_500, 600, 30_000, seed=5)
    probe = up_module.UserPersonalization({}, seed=0)
    probe.fit(data)
    final, fixed = up_module.UserPersonalization({}, seed=0), up_module.UserPersonalization({"model": "ease"}, seed=0)
    final.reuse_choice(probe)
    fixed.reuse_choice(probe)
    assert probe.chosen and final.params["candidate"] == probe.chosen
    assert "candidate" not in fixed.params  # a fixed model chooses nothing
    given = up_module.UserPersonalization({"candidate": "ease λ=4·mean"}, seed=0)
    given.reuse_choice(probe)
    assert given.params["candidate"] == "ease λ=4·mean"  # a candidate set by the caller stays
