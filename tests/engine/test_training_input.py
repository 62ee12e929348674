"""Building a training input from the event frame: the index spaces and time order the plain pandas
way gives (sort the frame by time, `pd.unique`, `get_indexer`), without sorting its string columns or
hashing each id twice; and the minimum-data check on the result."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine import training


def event_frame(seed: int, n: int = 4_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    users = np.array([f"u{k}" for k in rng.integers(0, 300, n)])
    items = np.array([f"i{k}" for k in rng.integers(0, 120, n)])
    stamps = rng.integers(1_700_000_000, 1_700_000_050, n)  # ~80 events a second: many ties, out of order
    return training.interactions_frame(pa.table({"USER_ID": users, "ITEM_ID": items, "TIMESTAMP": stamps}),
                                       pd.DataFrame())


def plain_input(frame: pd.DataFrame, catalogue: list[str], previous_users: list[str], previous_items: list[str]
                ) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    f = frame.sort_values("TIMESTAMP", kind="stable")
    users = previous_users + [u for u in pd.unique(f["USER_ID"]) if u not in previous_users]
    seen_items = list(pd.unique(pd.concat([f["ITEM_ID"], pd.Series(catalogue, dtype=object)], ignore_index=True)))
    items = previous_items + [i for i in seen_items if i not in previous_items]
    return (users, items, pd.Index(users).get_indexer(f["USER_ID"]), pd.Index(items).get_indexer(f["ITEM_ID"]),
            f["TIMESTAMP"].to_numpy())


@pytest.mark.parametrize("case", ["fresh", "catalogue", "previous"])
def test_the_input_is_what_sorting_the_frame_and_indexing_its_ids_gives(case: str) -> None:
    frame = event_frame(seed=3)
    catalogue = ["i5", "new-a", "i7", "new-b", "new-a"] if case != "fresh" else []
    previous_users = ["u9", "gone", "u1"] if case == "previous" else []
    previous_items = ["i3", "old-item"] if case == "previous" else []
    items = pd.DataFrame({"ITEM_ID": catalogue}) if catalogue else pd.DataFrame()
    previous = (SimpleNamespace(user_ids=np.array(previous_users, dtype=object),
                                item_ids=np.array(previous_items, dtype=object)) if case == "previous" else None)
    data = training.build_input(frame, items, {}, 0, previous)  # type: ignore[arg-type]
    users, item_ids, u, i, ts = plain_input(frame, catalogue, previous_users, previous_items)
    assert data.user_ids.tolist() == users and data.item_ids.tolist() == item_ids
    inter = data.interactions
    np.testing.assert_array_equal(inter.user_index, u)
    np.testing.assert_array_equal(inter.item_index, i)
    np.testing.assert_array_equal(inter.timestamp, ts)
    assert inter.user_index.dtype == np.int32 and inter.item_index.dtype == np.int32
    assert (inter.n_users, inter.n_items) == (len(users), len(item_ids))


def test_an_empty_frame_builds_an_empty_input_that_the_check_refuses() -> None:
    empty = training.interactions_frame(None, pd.DataFrame())
    data = training.build_input(empty, pd.DataFrame(), {}, 0)
    assert len(data.interactions) == 0 and data.user_ids.size == 0
    with pytest.raises(training.TrainingFailure, match="has 0 interactions and 0 such users"):
        training.check_minimum(data.interactions, "the dataset group")


def test_the_check_counts_interactions_and_users_with_two_or_more() -> None:
    data = training.build_input(event_frame(seed=4, n=1_200), pd.DataFrame(), {}, 0)
    training.check_minimum(data.interactions, "the dataset group")  # 1,200 events, ~300 users with 2+
    few = training.build_input(event_frame(seed=4, n=900), pd.DataFrame(), {}, 0)
    with pytest.raises(training.TrainingFailure, match=r"has 900 interactions and \d+ such users"):
        training.check_minimum(few.interactions, "the dataset group")


def test_typed_histories_rank_each_users_items_by_their_newest_event_of_each_type() -> None:
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame({
        "USER_ID": [f"u{k}" for k in rng.integers(0, 25, n)],
        "ITEM_ID": [f"i{k}" for k in rng.integers(0, 30, n)],
        "TIMESTAMP": rng.integers(100, 140, n),  # many ties
        "EVENT_TYPE": rng.choice(["view", "purchase", "click"], n),
    })
    user_ids = np.array([f"u{k}" for k in range(20)], dtype=object)  # u20..u24 are not in the model
    item_ids = np.array([f"i{k}" for k in range(28)], dtype=object)  # nor are i28, i29
    typed = training.typed_histories(frame, user_ids, item_ids)
    assert list(typed) == list(pd.unique(frame.loc[frame.USER_ID.isin(user_ids) & frame.ITEM_ID.isin(item_ids),
                                                   "EVENT_TYPE"]))
    for event_type, m in typed.items():
        expected = np.zeros((20, 28), dtype=np.float32)
        rows = frame[(frame.EVENT_TYPE == event_type) & frame.USER_ID.isin(user_ids) & frame.ITEM_ID.isin(item_ids)]
        for user, events in rows.groupby("USER_ID", sort=False):
            newest_first = events.sort_values("TIMESTAMP", ascending=False, kind="stable")
            for rank, item in enumerate(newest_first.ITEM_ID, start=1):
                cell = (int(user[1:]), int(item[1:]))
                if expected[cell] == 0:  # the newest event on the item decides
                    expected[cell] = rank
        assert m.has_sorted_indices and m.shape == (20, 28)
        np.testing.assert_array_equal(m.toarray(), expected)
    assert training.typed_histories(frame.drop(columns="EVENT_TYPE"), user_ids, item_ids) == {}
