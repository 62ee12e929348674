"""aws-sims' popularity discount: given, it is used as is; not given, it is chosen on a next-item check
carved from the training data, and the choice holds up on users the check never saw."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.recipes.base import Interactions, TrainingInput
from engine.recipes.sims import DEFAULT_DISCOUNT, DISCOUNTS, SimilarItems, Sims
from tests.support.synthetic_shop import make_training_input


def next_item(data: TrainingInput, share: float, seed: int) -> tuple[TrainingInput, np.ndarray, np.ndarray]:
    """Held-out users' newest events removed from the data: (rest, their query items, their truths)."""
    inter = data.interactions
    order = np.lexsort((np.arange(len(inter)), inter.user_index))
    users = inter.user_index[order]
    bound = np.r_[True, users[1:] != users[:-1], True]
    newest = np.flatnonzero(bound[1:] & ~bound[:-1])
    newest = np.random.default_rng(seed).choice(newest, int(share * len(newest)), replace=False)
    keep = np.ones(len(inter), dtype=bool)
    keep[order[newest]] = False
    query, truth = inter.item_index[order[newest - 1]], inter.item_index[order[newest]]
    useful = query != truth
    rest = dataclasses.replace(data, interactions=Interactions(
        inter.user_index[keep], inter.item_index[keep], inter.timestamp[keep], inter.weight[keep],
        inter.n_users, inter.n_items))
    return rest, query[useful], truth[useful]


def ndcg(model: Sims, query: np.ndarray, truth: np.ndarray) -> float:
    top = model.similar_items(query, 25)[0]
    match = top == truth[:, None]
    return float((match / np.log2(np.arange(2, 27))).sum() / len(truth))


def test_a_given_discount_is_used_as_is() -> None:
    data = make_training_input(n_users=600, n_items=200, n_interactions=12_000, seed=2)
    for value in ("0.7", "0"):
        model = Sims({"popularity_discount_factor": value})
        model.fit(data)
        assert model.discount == float(value)


def test_the_chosen_discount_holds_up_on_unseen_users() -> None:
    # Shop data: tight clusters of items bought together, so a smaller discount than cosine's wins.
    data = make_training_input(n_users=3000, n_items=600, n_interactions=60_000, seed=4)
    train, query, truth = next_item(data, 0.3, seed=1)
    chosen = Sims({}, seed=0)
    chosen.fit(train)
    assert chosen.discount in DISCOUNTS and chosen.discount < DEFAULT_DISCOUNT
    cosine = Sims({"popularity_discount_factor": str(DEFAULT_DISCOUNT)})
    cosine.fit(train)
    assert ndcg(chosen, query, truth) > ndcg(cosine, query, truth)
    again = SimilarItems({}, seed=0)
    again.fit(train)
    assert again.discount == chosen.discount  # deterministic for a seed, and the same for similar-items


def test_too_little_data_to_check_keeps_cosine() -> None:
    data = make_training_input(n_users=30, n_items=40, n_interactions=300, seed=1)
    model = Sims({})
    model.fit(data)
    assert model.discount == DEFAULT_DISCOUNT
    assert np.isfinite(model.similarity.data).all()
