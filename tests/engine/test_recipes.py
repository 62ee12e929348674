"""Each recipe on small seeded synthetic data: trains, beats popularity where it should, folds in new
events, explores new items, updates with new items, survives save/load."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from engine.metrics import evaluate
from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.registry import (
    PERSONALIZED_RANKING,
    RECIPES,
    RELATED_ITEMS,
    USER_PERSONALIZATION,
    recipe_for_arn,
)
from tests.support.synthetic_shop import DAY, make_training_input

NDCG = "normalized_discounted_cumulative_gain_at_25"
UP_MODES = [{"model": "ease"}, {"model": "local_ease", "neighbors": "16"}, {"model": "als"}]


@pytest.fixture(scope="module")
def shop() -> TrainingInput:
    return make_training_input(n_users=1200, n_items=400, n_interactions=24_000, seed=5)


def row(items: list[int], n_items: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(items), dtype=np.float32), ([0] * len(items), items)), shape=(1, n_items))


def category_of(data: TrainingInput) -> np.ndarray:
    return data.item_features["CATEGORY_L1"].str.split("|").str[0].to_numpy()


def test_registry_names_types_descriptions() -> None:
    expected = {
        "aws-popularity-count",
        "aws-trending-now",
        "aws-user-personalization",
        "aws-user-personalization-v2",
        "aws-personalized-ranking",
        "aws-personalized-ranking-v2",
        "aws-sims",
        "aws-similar-items",
    }
    assert set(RECIPES) == expected
    for name, spec in RECIPES.items():
        assert spec.model.recipe_name == name
        assert len(spec.description) > 40
        assert recipe_for_arn(spec.arn) is spec
    assert RECIPES["aws-sims"].recipe_type == RELATED_ITEMS
    assert RECIPES["aws-personalized-ranking-v2"].recipe_type == PERSONALIZED_RANKING
    assert RECIPES["aws-user-personalization-v2"].recipe_type == USER_PERSONALIZATION


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_trains_recommends_and_roundtrips(name: str, shop: TrainingInput, tmp_path: Path) -> None:
    model = RECIPES[name].model(params={}, seed=1)
    model.fit(shop)
    n = shop.interactions.n_items
    histories = sp.vstack([row([1, 2, 3], n), row([], n), row([7], n)]).tocsr()
    before = histories.copy()
    idx, scores = model.recommend(histories, 25)
    assert (histories != before).nnz == 0  # the caller's matrix is left alone
    assert idx.shape == (3, 25) and scores.shape == (3, 25)
    # Items added to the catalogue after training (extra columns) are ignored, not an error.
    wider = sp.csr_matrix(([1.0], ([0], [n + 2])), shape=(1, n + 5), dtype=np.float32)
    assert model.score(wider).shape == (1, n)
    assert not set(idx[0].tolist()) & {1, 2, 3}
    assert (np.diff(scores, axis=1) <= 0).all()
    # The engine persists a trained recipe inside its ModelBundle's pickle: the round trip keeps its scores.
    loaded = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    np.testing.assert_allclose(loaded.score(histories), model.score(histories), rtol=1e-6)


def test_tiny_data_does_not_crash() -> None:
    data = make_training_input(n_users=30, n_items=12, n_interactions=80, seed=1)
    for spec in RECIPES.values():
        model = spec.model(params={}, seed=0)
        model.fit(data)
        idx, _ = model.recommend(row([0], 12), 25)
        assert idx.shape == (1, 12)


@pytest.mark.parametrize("params", UP_MODES, ids=lambda p: p["model"])
def test_user_personalization_beats_popularity(params: dict[str, str], shop: TrainingInput) -> None:
    pop = evaluate(RECIPES["aws-popularity-count"], shop, seed=0)
    up = evaluate(RECIPES["aws-user-personalization"], dataclasses.replace(shop, params=params), seed=0)
    # ALS is not the default; on this small catalogue it only has to clearly beat popularity.
    assert up[NDCG] > (1.3 if params["model"] == "als" else 1.6) * pop[NDCG]


def test_related_items_beat_popularity(shop: TrainingInput) -> None:
    pop = evaluate(RECIPES["aws-popularity-count"], shop, seed=0)
    for name in ("aws-sims", "aws-similar-items"):
        assert evaluate(RECIPES[name], shop, seed=0)[NDCG] > 1.3 * pop[NDCG]


def test_empty_history_gets_popular_items(shop: TrainingInput) -> None:
    for name in ("aws-user-personalization", "aws-user-personalization-v2", "aws-sims"):
        model = RECIPES[name].model(params={}, seed=0)
        model.fit(shop)
        idx, _ = model.recommend(row([], shop.interactions.n_items), 10)
        assert idx[0].tolist() == np.argsort(-model.popularity, kind="stable")[:10].tolist()


@pytest.mark.parametrize("params", UP_MODES, ids=lambda p: p["model"])
def test_fold_in_personalizes_a_new_user(params: dict[str, str], shop: TrainingInput) -> None:
    model = RECIPES["aws-user-personalization"].model(params=params, seed=0)
    model.fit(shop)
    n = shop.interactions.n_items
    cats = category_of(shop)
    # A new user who sent three events on items of one category gets that category on top.
    target = cats[0]
    liked = [i for i in np.argsort(-model.popularity) if cats[i] == target][:3]
    cold_idx, _ = model.recommend(row([], n), 10)
    warm_idx, _ = model.recommend(row(liked, n), 10)
    assert warm_idx[0].tolist() != cold_idx[0].tolist()
    assert np.mean(cats[warm_idx[0]] == target) >= 0.5
    # One more event changes the list again (real-time).
    more_idx, _ = model.recommend(row([*liked, int(warm_idx[0, 0])], n), 10)
    assert more_idx[0].tolist() != warm_idx[0].tolist()


def test_exploration_mixes_in_new_items(shop: TrainingInput) -> None:
    model = RECIPES["aws-user-personalization"].model(params={}, seed=0)
    model.fit(shop)
    n = shop.interactions.n_items
    now = int(shop.interactions.timestamp.max())
    new = model.item_created >= now - 30 * DAY
    assert 0 < new.sum() < n
    histories = sp.vstack([row([i, i + 1], n) for i in range(0, 100, 2)] + [row([], n)]).tocsr()
    base = model.score(histories)
    same = model.explore(base.copy(), 0.0, 30, now, np.random.default_rng(0))
    np.testing.assert_array_equal(same, base)
    explored = model.explore(base.copy(), 0.3, 30, now, np.random.default_rng(0))
    share = lambda s: new[np.argsort(-s, axis=1)[:, :25]].mean()  # noqa: E731
    assert share(explored) > share(base) + 0.05
    # An age cut-off that no item meets explores nothing.
    none = model.explore(base.copy(), 0.3, 0, now + 365 * DAY, np.random.default_rng(0))
    np.testing.assert_array_equal(np.argsort(-none, axis=1)[:, :25], np.argsort(-base, axis=1)[:, :25])
    # Non-personalized recipes do not explore.
    pop = RECIPES["aws-popularity-count"].model(params={}, seed=0)
    pop.fit(shop)
    s = pop.score(histories)
    assert pop.explore(s, 0.5, 30, now, np.random.default_rng(0)) is s


def split_for_update(data: TrainingInput, n_new_items: int = 40) -> tuple[TrainingInput, TrainingInput]:
    """(old, new): old has the first n_items - n_new items and the first 80% of events on them."""
    inter = data.interactions
    n_old_items = inter.n_items - n_new_items
    cut = int(len(inter) * 0.8)
    keep = (np.arange(len(inter)) < cut) & (inter.item_index < n_old_items)
    old_users = int(inter.user_index[keep].max()) + 1
    keep &= inter.user_index < old_users
    old = dataclasses.replace(
        data,
        interactions=Interactions(
            inter.user_index[keep],
            inter.item_index[keep],
            inter.timestamp[keep],
            inter.weight[keep],
            old_users,
            n_old_items,
        ),
        user_ids=data.user_ids[:old_users],
        item_ids=data.item_ids[:n_old_items],
        item_features=data.item_features.iloc[:n_old_items].reset_index(drop=True),
        item_created=data.item_created[:n_old_items],
    )
    return old, data


@pytest.mark.parametrize(
    "name,params",
    [
        ("aws-user-personalization", {"model": "als"}),
        ("aws-user-personalization", {}),
        ("aws-user-personalization-v2", {}),
        ("aws-sims", {}),
        ("aws-trending-now", {}),
    ],
)
def test_update_adds_new_items(name: str, params: dict[str, str], shop: TrainingInput) -> None:
    old, new = split_for_update(shop)
    model = RECIPES[name].model(params=params, seed=0)
    model.fit(old)
    assert model.n_items == old.interactions.n_items
    model.update(new)
    n = new.interactions.n_items
    assert model.n_items == n
    hot_new = int(np.argmax(np.bincount(new.interactions.item_index, minlength=n)[old.interactions.n_items :]))
    hot_new += old.interactions.n_items
    scores = model.score(sp.vstack([row([hot_new], n), row([], n)]).tocsr())
    assert scores.shape == (2, n)
    if name != "aws-trending-now":
        idx, _ = model.recommend(row([], n), n)
        assert hot_new in idx[0]


def test_als_update_keeps_old_factors_close(shop: TrainingInput) -> None:
    old, new = split_for_update(shop)
    model = RECIPES["aws-user-personalization"].model(params={"model": "als"}, seed=0)
    model.fit(old)
    before = model.als.item_factors.copy()
    model.update(new)
    after = model.als.item_factors
    assert after.shape[0] == new.interactions.n_items
    corr = np.corrcoef(before.ravel(), after[: before.shape[0]].ravel())[0, 1]
    assert corr > 0.5  # refined, not retrained from scratch


def test_v2_ranks_cold_items_for_users_of_their_category(shop: TrainingInput) -> None:
    model = RECIPES["aws-user-personalization-v2"].model(params={}, seed=0)
    model.fit(shop)
    v1 = RECIPES["aws-user-personalization"].model(params={}, seed=0)
    v1.fit(shop)
    cats = category_of(shop)
    cold = np.flatnonzero(model.popularity == 0)
    assert cold.size
    target = cats[cold[0]]
    n = shop.interactions.n_items
    fan = [i for i in np.argsort(-model.popularity) if cats[i] == target][:5]
    other = [i for i in np.argsort(-model.popularity) if cats[i] != target][:5]
    fan_idx, _ = model.recommend(row(fan, n), 25)
    other_idx, _ = model.recommend(row(other, n), 25)
    v1_idx, _ = v1.recommend(row(fan, n), 25)
    cold_same = set(cold[cats[cold] == target].tolist())
    assert set(fan_idx[0].tolist()) & cold_same
    assert not set(v1_idx[0].tolist()) & cold_same
    assert not set(other_idx[0].tolist()) & cold_same


def test_sims_similar_items_vectorised_and_related(shop: TrainingInput) -> None:
    cats = category_of(shop)
    for name in ("aws-sims", "aws-similar-items"):
        model = RECIPES[name].model(params={}, seed=0)
        model.fit(shop)
        seeds = np.argsort(-model.popularity)[:20]
        idx, _scores = model.similar_items(seeds, 10)
        assert idx.shape == (20, 10)
        assert not (idx == seeds[:, None]).any()
        assert np.mean(cats[idx] == cats[seeds][:, None]) > 0.5
        # score() of a one-item history is that item's similar items.
        idx1, _ = model.recommend(row([int(seeds[0])], shop.interactions.n_items), 10)
        assert idx1[0].tolist() == idx[0].tolist()


def test_similar_items_uses_metadata_for_cold_items(shop: TrainingInput) -> None:
    cats = category_of(shop)
    model = RECIPES["aws-similar-items"].model(params={}, seed=0)
    model.fit(shop)
    cold = np.flatnonzero(model.popularity == 0)[:5]
    idx, _ = model.similar_items(cold, 5)
    assert np.mean(cats[idx] == cats[cold][:, None]) > 0.8


def test_personalized_ranking_reranks_candidates(shop: TrainingInput) -> None:
    model = RECIPES["aws-personalized-ranking"].model(params={}, seed=0)
    model.fit(shop)
    n = shop.interactions.n_items
    history = row([1, 2, 3], n)
    candidates = np.array([5, 50, 100, 150, 200])
    ranked = model.rank(history, candidates)
    np.testing.assert_allclose(ranked, model.score(history)[0, candidates])


def test_trending_now_finds_the_growing_item() -> None:
    n_items, n_users = 20, 200
    rng = np.random.default_rng(0)
    # Steady items: same rate in both weeks; item 7 grows from 2 to 40 events; item 0 is big but flat.
    events = []
    for week in (0, 1):
        for item in range(n_items):
            rate = 10 + (60 if item == 0 else 0)
            if item == 7:
                rate = 2 if week == 0 else 40
            for _ in range(rate):
                events.append((rng.integers(n_users), item, (week * 7 + rng.random() * 7) * DAY))
    events.sort(key=lambda e: e[2])
    u, i, t = (np.array(x) for x in zip(*events, strict=True))
    data = TrainingInput(
        interactions=Interactions(
            u.astype(np.int32),
            i.astype(np.int32),
            t.astype(np.int64),
            np.ones(len(u), np.float32),
            n_users,
            n_items,
        ),
        user_ids=np.array([f"u{k}" for k in range(n_users)], dtype=object),
        item_ids=np.array([f"i{k}" for k in range(n_items)], dtype=object),
    )
    model = RECIPES["aws-trending-now"].model(params={}, seed=0)
    model.fit(data)
    idx, _ = model.recommend(row([], n_items), 3)
    assert idx[0, 0] == 7
    assert model.window_seconds / 86_400 == pytest.approx(7.0, rel=0.01)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_single_history_shortcut_equals_score(name: str, shop: TrainingInput) -> None:
    """`score_one` (serving's shortcut) gives exactly what `score` gives the same one-row matrix, or
    declines; histories with repeated weights, zero values and no items at all."""
    model = RECIPES[name].model(seed=3)
    model.fit(shop)
    rng = np.random.default_rng(11)
    histories = [np.zeros(0, dtype=np.int32)] + [
        np.unique(rng.integers(0, model.n_items, size)).astype(np.int32) for size in (1, 3, 12, 40)
    ]
    answered = 0
    for cols in histories:
        data = rng.choice(np.array([0.0, 1.0, 2.5], dtype=np.float32), len(cols))
        data[: min(len(cols), 1)] = 1.0  # at least one item seen whenever the history has one
        fast = model.score_one(cols, data)
        if fast is None:
            continue
        answered += 1
        matrix = sp.csr_matrix((data, cols, np.array([0, len(cols)])), shape=(1, model.n_items), dtype=np.float32)
        np.testing.assert_array_equal(fast, model.score(matrix)[0])
        assert fast.dtype == np.float32 and fast.flags.writeable
    # User-personalization (and ranking on it) must take the shortcut, whichever model the selection picked
    # (EASE, ALS or a blend): it is serving's hot path.
    if name in ("aws-user-personalization", "aws-personalized-ranking"):
        assert answered == len(histories)


# -- model=auto: the model chosen on a hold-out carved from the training data ------------------------
def test_selection_is_deterministic_for_a_seed(shop: TrainingInput) -> None:
    from engine.recipes.user_personalization import UserPersonalization

    first, again = UserPersonalization({}, seed=3), UserPersonalization({}, seed=3)
    first.fit(shop)
    again.fit(shop)
    assert first.chosen and first.selection  # it measured, and says what it chose
    assert len(first.selection) >= 6  # three EASE settings, ALS, two blends
    assert first.chosen == again.chosen
    assert first.selection == again.selection
    histories = sp.vstack([row([1, 2, 3], shop.interactions.n_items), row([9], shop.interactions.n_items)]).tocsr()
    np.testing.assert_allclose(first.score(histories), again.score(histories), rtol=1e-5, atol=1e-6)
    # The chosen candidate is the best measured one.
    assert dict(first.selection)[first.chosen] == max(score for _, score in first.selection)


@pytest.mark.parametrize("data_seed", [11, 12])
def test_selected_model_beats_popularity_on_planted_data(data_seed: int) -> None:
    data = make_training_input(n_users=900, n_items=300, n_interactions=18_000, seed=data_seed)
    pop = evaluate(RECIPES["aws-popularity-count"], data, seed=1)
    up = evaluate(RECIPES["aws-user-personalization"], data, seed=1)
    assert up[NDCG] > 1.3 * pop[NDCG]


def test_selection_keeps_the_default_when_the_hold_out_is_too_small() -> None:
    from engine.recipes.selection import DEFAULT, choose

    data = make_training_input(n_users=30, n_items=12, n_interactions=80, seed=1)
    chosen, measured = choose(data.interactions, seed=0, dense=True, neighbors=8)
    assert chosen == DEFAULT and measured == []


def test_a_measured_choice_refits_without_selecting_again(shop: TrainingInput) -> None:
    from engine.recipes.user_personalization import UserPersonalization

    auto = UserPersonalization({}, seed=2)
    auto.fit(shop)
    again = UserPersonalization({"candidate": auto.chosen}, seed=2)
    again.fit(shop)
    assert again.selection == [] and again.chosen == auto.chosen
    histories = sp.vstack([row([4, 5], shop.interactions.n_items), row([], shop.interactions.n_items)]).tocsr()
    np.testing.assert_allclose(again.score(histories), auto.score(histories), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="candidate"):
        UserPersonalization({"candidate": "no such model"}).fit(shop)


# -- local EASE: the neighbour-Gram look-ups -------------------------------------------------------
def _local_ease_reference(x: sp.csr_matrix, l2: float, k: int) -> np.ndarray:
    """Column j of local EASE, the slow obvious way: the dense Gram, item j's k most co-occurring other
    items (ties: the lower index), one ridge solve."""
    xb = (x > 0).astype(np.float64)
    g = np.asarray((xb.T @ xb).todense())
    n = g.shape[0]
    b = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j and g[j, i] > 0]
        nb = sorted(sorted(others), key=lambda i: -g[j, i])[:k]
        if not nb:
            continue
        a = g[np.ix_(nb, nb)] + l2 * np.eye(len(nb))
        b[nb, j] = np.linalg.solve(a, g[nb, j])
    return b


def test_local_ease_equals_the_plain_computation_across_look_up_stripes() -> None:
    from engine.recipes.collaborative import local_ease_family

    # 600 items: more than one 256-row stripe of the Gram, so look-ups cross stripes.
    data = make_training_input(n_users=700, n_items=600, n_interactions=9_000, seed=4)
    x = data.interactions.matrix()
    ours = local_ease_family(x, [(5.0, 0.0)], neighbors=6, chunk=128)[0].toarray()
    np.testing.assert_allclose(ours, _local_ease_reference(x, 5.0, 6), rtol=2e-3, atol=2e-5)


def test_local_ease_with_every_neighbour_is_full_ease() -> None:
    from engine.recipes.collaborative import ease_weights, local_ease_weights

    # Every pair of items co-occurs here: with all of them as neighbours, each local regression is
    # full EASE's column (items that never co-occur are no one's neighbours, so the Gram must be full).
    rng = np.random.default_rng(6)
    x = sp.csr_matrix((rng.random((300, 25)) < rng.uniform(0.1, 0.6, 25)).astype(np.float32))
    gram = ((x > 0).astype(np.float32).T @ (x > 0).astype(np.float32)).toarray()
    assert (gram > 0).all()
    np.testing.assert_allclose(local_ease_weights(x, 20.0, neighbors=24).toarray(), ease_weights(x, 20.0),
                               rtol=1e-3, atol=1e-4)


def test_large_data_selection_is_deterministic_and_bounded(shop: TrainingInput) -> None:
    from engine.recipes.selection import ALS_CANDIDATE, EASE_CANDIDATES, HALF_LIVES, SCREENED_ALS, choose, decayed

    # A budget below the data's size takes the large-data path: one split, sampled training users,
    # blends of the best EASE only (or none where ALS is far behind).
    first = choose(shop.interactions, seed=4, dense=False, neighbors=16, max_interactions=8_000)
    again = choose(shop.interactions, seed=4, dense=False, neighbors=16, max_interactions=8_000)
    assert first == again
    names = [name for name, _ in first[1]]
    eases = [decayed(c, hl).name for c in EASE_CANDIDATES for hl in HALF_LIVES]  # each λ at each half-life
    assert names[: len(eases)] == eases
    # ALS in full with the best EASE's two blends, or only its screen's figure (ALS far behind).
    n = len(eases)
    assert (names[n], len(names)) in ((ALS_CANDIDATE.name, n + 3), (SCREENED_ALS.name, n + 1))
    assert dict(first[1])[first[0].name] == max(score for _, score in first[1])
