"""Dataset profile figures against values computed independently with pandas."""

import numpy as np
import pandas as pd
import pytest

from services.data.file_profile import profile_file, profile_frame
from services.demo.shop_data import generate_shop


@pytest.fixture(scope="module")
def small_shop():
    return generate_shop(n_users=200, n_items=120, n_interactions=3_000, seed=0)


def test_interaction_figures_match_pandas(small_shop):
    df = small_shop.interactions
    p = profile_frame(df)
    assert p.rows == len(df)
    assert p.n_users == df["USER_ID"].nunique() and p.n_items == df["ITEM_ID"].nunique()
    assert (p.time_min, p.time_max) == (df["TIMESTAMP"].min(), df["TIMESTAMP"].max())
    assert p.timestamp_unit == "seconds"
    shares = df["EVENT_TYPE"].value_counts(normalize=True)
    got = p.event_types.set_index("EVENT_TYPE")["share"]
    assert np.allclose(got.sort_index(), shares.sort_index())
    per_user = df["USER_ID"].value_counts()
    assert p.single_interaction_user_share == pytest.approx((per_user == 1).mean())
    items = df["ITEM_ID"].value_counts()
    k1, k20 = int(np.ceil(len(items) * 0.01)), int(np.ceil(len(items) * 0.2))
    assert p.top_1pct_item_share == pytest.approx(items.iloc[:k1].sum() / len(df))
    assert p.top_20pct_item_share == pytest.approx(items.iloc[:k20].sum() / len(df))
    assert p.duplicate_rows == 0


def test_series_for_charts(small_shop):
    df = small_shop.interactions
    p = profile_frame(df)
    days = pd.to_datetime(df["TIMESTAMP"], unit="s").dt.normalize().value_counts().sort_index()
    assert p.events_per_day["events"].tolist() == days.tolist()
    assert p.events_per_day["date"].tolist() == days.index.tolist()
    hist = df["USER_ID"].value_counts().value_counts().sort_index()
    assert p.interactions_per_user["users"].tolist() == hist.tolist()
    assert p.interactions_per_user["interactions"].tolist() == hist.index.tolist()


def test_duplicates_counted(small_shop):
    df = small_shop.interactions
    doubled = pd.concat([df, df.iloc[:37], df.iloc[:5]], ignore_index=True)
    assert profile_frame(doubled).duplicate_rows == 42
    # Same user and time but another event is not a duplicate.
    twin = df.iloc[:3].copy()
    twin["EVENT_TYPE"] = "other"
    assert profile_frame(pd.concat([df, twin], ignore_index=True)).duplicate_rows == 0


def test_readiness_against_aws_minimums():
    ready = profile_frame(generate_shop(n_users=60, n_items=40, n_interactions=1_200, seed=3).interactions)
    assert ready.readiness.ready and "Ready" in ready.readiness.message
    few = pd.DataFrame({"USER_ID": [f"u{i}" for i in range(30)] * 2, "ITEM_ID": "i", "TIMESTAMP": 1_700_000_000})
    few["TIMESTAMP"] += np.arange(60)
    r = profile_frame(few).readiness
    assert r.users_with_two == 30 and r.interactions == 60 and not r.ready
    assert "940 more interactions" in r.message
    lonely = pd.DataFrame({"USER_ID": [f"u{i}" for i in range(1_000)], "ITEM_ID": "i", "TIMESTAMP": 1_700_000_000})
    assert "25 more users" in profile_frame(lonely).readiness.message


def test_milliseconds_file_gets_a_real_time_range(small_shop):
    df = small_shop.interactions.assign(TIMESTAMP=small_shop.interactions["TIMESTAMP"] * 1000)
    p = profile_frame(df)
    assert p.timestamp_unit == "milliseconds"
    assert p.time_min == small_shop.interactions["TIMESTAMP"].min()


def test_items_and_users_files(small_shop, tmp_path):
    items = profile_frame(small_shop.items)
    assert items.n_items == len(small_shop.items) and items.readiness is None and items.event_types is None
    path = tmp_path / "users.csv"
    small_shop.users.to_csv(path, index=False)
    users = profile_file(path)
    assert users.rows == users.n_users == len(small_shop.users)


def test_csv_and_parquet_files_match_frame(small_shop, tmp_path):
    df = small_shop.interactions
    csv_path, pq_path = tmp_path / "i.csv", tmp_path / "i.parquet"
    df.to_csv(csv_path, index=False)
    df.to_parquet(pq_path, index=False)
    expected = profile_frame(df)
    for path in (csv_path, pq_path):
        got = profile_file(path)
        assert (got.rows, got.n_users, got.n_items, got.time_min, got.time_max) == (
            expected.rows,
            expected.n_users,
            expected.n_items,
            expected.time_min,
            expected.time_max,
        )
        assert got.top_1pct_item_share == pytest.approx(expected.top_1pct_item_share)


def test_ids_stay_text_in_csv(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("USER_ID,ITEM_ID,TIMESTAMP\n007,1,1700000000\n7,1,1700000001\n")
    assert profile_file(path).n_users == 2  # "007" and "7" are different users
