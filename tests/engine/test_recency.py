"""Recency-weighted user-personalization: a user's newest events count most, where the data says so.

The rows a weighting model scores carry each item's weight from its newest event's position counted
from the user's newest one. The same rows come from the model's own selection, the solution metrics and
serving (training events by their recorded rank, events sent since in front of them)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from engine.metrics import all_metrics, evaluate_fitted, evaluate_model, holdout_split, input_recency
from engine.recipes.base import Interactions, TrainingInput, recency_matrix, recency_ranks
from engine.recipes.registry import RECIPES
from engine.recipes.selection import choose
from engine.recipes.user_personalization import UserPersonalization
from tests.support.engine_shop import dataset_from_file, settle
from tests.support.synthetic_shop import make_training_input

ROLE = "arn:aws:iam::000000000000:role/test"
N_PER_CATEGORY = 20  # items 0..19 are category A, 20..39 category B
T0 = 1_700_000_000


def two_category_events(n_users: int = 300, per_user: int = 6, seed: int = 0) -> list[tuple[str, str, int]]:
    """(user, item, timestamp): each user stays in one category, so items co-occur only within theirs.
    The user "probe" saw six A items long ago, then two B items (its newest session)."""
    rng = np.random.default_rng(seed)
    out = []
    for u in range(n_users):
        base = N_PER_CATEGORY * (u % 2)
        for k, item in enumerate(rng.choice(N_PER_CATEGORY, per_user, replace=False)):
            out.append((f"u{u}", f"i{base + int(item)}", T0 + 100 * u + k))
    out += [("probe", f"i{k}", T0 + 50_000 + k) for k in range(6)]
    out += [("probe", f"i{N_PER_CATEGORY + k}", T0 + 90_000 + k) for k in range(2)]
    return sorted(out, key=lambda e: e[2])


def training_input(events: list[tuple[str, str, int]]) -> TrainingInput:
    users = sorted({u for u, _, _ in events})
    items = [f"i{k}" for k in range(2 * N_PER_CATEGORY)]
    upos, ipos = {u: k for k, u in enumerate(users)}, {it: k for k, it in enumerate(items)}
    return TrainingInput(
        interactions=Interactions(
            user_index=np.array([upos[u] for u, _, _ in events], dtype=np.int32),
            item_index=np.array([ipos[i] for _, i, _ in events], dtype=np.int32),
            timestamp=np.array([t for _, _, t in events], dtype=np.int64),
            weight=np.ones(len(events), dtype=np.float32), n_users=len(users), n_items=len(items)),
        user_ids=np.array(users, dtype=object), item_ids=np.array(items, dtype=object))


def in_category_b(items: np.ndarray) -> np.ndarray:
    return items >= N_PER_CATEGORY


def test_recency_ranks_and_matrix_keep_each_items_newest_event() -> None:
    users = np.array([0, 1, 0, 0, 1, 0])  # events in time order
    ranks = recency_ranks(users)
    np.testing.assert_array_equal(ranks, [3, 1, 2, 1, 0, 0])
    items = np.array([5, 2, 7, 5, 3, 1])  # user 0 saw item 5 twice: its newest counts (rank 1)
    m = recency_matrix(users, items, ranks, (2, 8)).toarray()
    assert m[0, 5] == 2 and m[0, 7] == 3 and m[0, 1] == 1 and m[1, 2] == 2 and m[1, 3] == 1
    assert np.count_nonzero(m) == 5


@pytest.mark.parametrize("shift", [0, -3], ids=["ranks-from-0", "negative-ranks"])
def test_recency_matrix_is_each_cells_smallest_rank_in_canonical_csr(shift: int) -> None:
    rng = np.random.default_rng(7)
    rows, items = rng.integers(0, 40, 3_000), rng.integers(0, 25, 3_000)  # many repeated cells
    ranks = rng.permutation(3_000).astype(np.int64) + shift  # negative ones take the two-key sort
    m = recency_matrix(rows, items, ranks, (40, 25))
    smallest: dict[tuple[int, int], int] = {}
    for r, i, k in zip(rows.tolist(), items.tolist(), ranks.tolist(), strict=True):
        smallest[(r, i)] = min(k, smallest.get((r, i), k))
    dense = np.zeros((40, 25), dtype=np.float32)
    for (r, i), k in smallest.items():
        dense[r, i] = k + 1
    assert m.nnz == len(smallest) and m.dtype == np.float32 and m.has_sorted_indices
    np.testing.assert_array_equal(m.toarray(), dense)
    canonical = m.copy()
    canonical.sum_duplicates()
    np.testing.assert_array_equal(canonical.indices, m.indices)


def test_a_recency_weighted_model_ranks_the_newest_sessions_items_first() -> None:
    data = training_input(two_category_events())
    probe = int(np.flatnonzero(data.user_ids == "probe")[0])
    inter = data.interactions
    recency = recency_matrix(inter.user_index, inter.item_index, recency_ranks(inter.user_index),
                             (inter.n_users, inter.n_items))[[probe]]
    plain, weighted = UserPersonalization({"model": "ease"}), UserPersonalization(
        {"model": "ease", "recency_half_life": "1"})
    plain.fit(data)
    weighted.fit(data)
    assert plain.history_weights(np.arange(3)) is None
    np.testing.assert_allclose(weighted.history_weights(np.arange(3)), [1.0, 0.5, 0.25])
    row = plain.weigh_histories(sp.csr_matrix(recency), recency)
    assert row.data.tolist() == recency.data.tolist()  # an unweighting model takes its rows as they are
    top_plain = plain.recommend(row, 5)[0][0]
    top_weighted = weighted.recommend(weighted.weigh_histories(row, recency), 5)[0][0]
    # Six old A items outvote two new B items unweighted; weighted, the newest session leads.
    assert not in_category_b(top_plain).any()
    assert in_category_b(top_weighted).all()


def shuffled(data: TrainingInput, seed: int = 0) -> TrainingInput:
    """The same events in a random order (timestamps stay ascending): recency says nothing."""
    inter = data.interactions
    order = np.random.default_rng(seed).permutation(len(inter))
    return TrainingInput(
        Interactions(inter.user_index[order], inter.item_index[order], inter.timestamp, inter.weight,
                     inter.n_users, inter.n_items), data.user_ids, data.item_ids)


def test_the_selection_weighs_by_recency_only_where_the_data_has_a_recency_signal() -> None:
    # Sessions stay within one style: a user's newest events say most about the next ones.
    shop = make_training_input(n_users=1500, n_items=300, n_interactions=30_000, seed=2)
    ordered, _ = choose(shop.interactions, seed=0, dense=True, neighbors=16)
    assert ordered.half_life > 0, ordered.name
    unordered, measured = choose(shuffled(shop).interactions, seed=0, dense=True, neighbors=16)
    assert unordered.half_life == 0, measured


def test_the_solution_metrics_score_recency_weighted_rows() -> None:
    shop = make_training_input(n_users=900, n_items=300, n_interactions=18_000, seed=7)
    data = dataclasses.replace(shop, params={"model": "ease", "recency_half_life": "5"})
    spec = RECIPES["aws-user-personalization"]
    reported, model = evaluate_fitted(spec, data, seed=1)
    _, histories, truth, held = holdout_split(data, seed=1)
    recency = input_recency(data, held)
    assert (recency != 0).toarray().tolist() == (histories != 0).toarray().tolist()
    newest = np.asarray([recency.data[recency.indptr[r]:recency.indptr[r + 1]].min() for r in range(len(held))])
    assert (newest == 1).all()
    n_items = data.interactions.n_items

    def metrics_of(rows: sp.csr_matrix) -> dict[str, float]:
        return all_metrics(evaluate_model(model, spec.recipe_type, rows), truth, n_items)

    assert reported == metrics_of(model.weigh_histories(histories, recency))
    assert reported != metrics_of(histories)  # binary rows would have been another model's figures


# -- serving over HTTP ------------------------------------------------------------------------------
def upload(personalize, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.csv"
    path.write_text("USER_ID,ITEM_ID,TIMESTAMP\n" + "".join(f"{u},{i},{t}\n" for u, i, t in two_category_events()))
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    settle(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    schema = {"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
              "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                         {"name": "TIMESTAMP", "type": "long"}], "version": "1.0"}
    dataset_from_file(personalize, group, f"{name}-interactions", "Interactions", schema, path)
    return group


def campaign(personalize, group: str, name: str, params: dict[str, str]) -> str:
    solution = personalize.create_solution(
        name=name, datasetGroupArn=group, recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
        performAutoTraining=False, solutionConfig={"algorithmHyperParameters": params})["solutionArn"]
    settle(lambda: personalize.describe_solution(solutionArn=solution), "solution")
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    done = settle(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert done["status"] == "ACTIVE", done.get("failureReason")
    arn = personalize.create_campaign(name=name, solutionVersionArn=version, minProvisionedTPS=1, campaignConfig={
        "itemExplorationConfig": {"explorationWeight": "0", "explorationItemAgeCutOff": "30"}})["campaignArn"]
    assert settle(lambda: personalize.describe_campaign(campaignArn=arn), "campaign")["status"] == "ACTIVE"
    return arn


def top_items(runtime, campaign_arn: str, user: str) -> np.ndarray:
    answer = runtime.get_recommendations(campaignArn=campaign_arn, userId=user, numResults=5)["itemList"]
    return np.array([int(i["itemId"][1:]) for i in answer])


@pytest.mark.timeout(600)
def test_serving_weighs_a_users_history_by_recency(personalize, personalize_runtime, personalize_events,
                                                     tmp_path: Path) -> None:
    group = upload(personalize, tmp_path, "recency-shop")
    plain = campaign(personalize, group, "recency-plain", {"model": "ease"})
    weighted = campaign(personalize, group, "recency-weighted", {"model": "ease", "recency_half_life": "1"})
    # A known user, from the training events' recorded ranks.
    assert not in_category_b(top_items(personalize_runtime, plain, "probe")).any()
    assert in_category_b(top_items(personalize_runtime, weighted, "probe")).all()
    # A new user's events sent since training: six A items, then two B items, sent in that order.
    tracker = personalize.create_event_tracker(name="recency-tracker", datasetGroupArn=group)
    settle(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    now = time.time()
    events = [{"eventType": "click", "itemId": f"i{k}", "sentAt": now - 600 + k} for k in (3, 4, 5, 6, 7, 8)]
    events += [{"eventType": "click", "itemId": f"i{N_PER_CATEGORY + k}", "sentAt": now - 10 + k} for k in (5, 6)]
    personalize_events.put_events(trackingId=tracker["trackingId"], userId="newcomer", sessionId="s-1",
                                  eventList=events[:4])
    personalize_events.put_events(trackingId=tracker["trackingId"], userId="newcomer", sessionId="s-1",
                                  eventList=events[4:])
    assert not in_category_b(top_items(personalize_runtime, plain, "newcomer")).any()
    assert in_category_b(top_items(personalize_runtime, weighted, "newcomer")).all()


@pytest.mark.parametrize("kind", ["ease", "local_ease"])
def test_serving_shortcut_scores_weighted_rows_as_score_does(kind: str) -> None:
    """One weighted history through `score_one` (serving) and through `score` (a one-row matrix): the
    same scores bit for bit, for a dense and a local (sparse) B, and the same as scipy's product."""
    shop = make_training_input(n_users=900, n_items=300, n_interactions=18_000, seed=7)
    model = UserPersonalization({"model": kind, "recency_half_life": "5"})
    model.fit(shop)
    assert sp.issparse(model.ease_b) == (kind == "local_ease")
    rng = np.random.default_rng(3)
    for size in (1, 2, 9, 40, 150):
        cols = np.unique(rng.integers(0, model.n_items, size)).astype(np.int32)
        data = model.history_weights(rng.permutation(len(cols)))
        fast = model.score_one(cols, data)
        assert fast is not None, "a weighted EASE must take serving's shortcut"
        row = sp.csr_matrix((data, cols, np.array([0, len(cols)])), shape=(1, model.n_items), dtype=np.float32)
        np.testing.assert_array_equal(fast, model.score(row)[0])
        reference = np.asarray(row @ model.ease_b).ravel() if kind == "ease" else (row @ model.ease_b).toarray()[0]
        np.testing.assert_allclose(fast - np.float32(1e-6) * model.pop_score, reference, rtol=1e-4, atol=1e-5)
        unweighted = model.score_one(cols, np.ones(len(cols), dtype=np.float32))
        assert len(cols) == 1 or not np.allclose(unweighted, fast)  # the weights count
