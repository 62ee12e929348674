"""Demo shop: shape, determinism, realism properties and the story split."""

import numpy as np
import pandas as pd
import pytest

from services.data.schemas import demo_shop_schema
from services.demo.shop_data import EVENT_TYPES, generate_shop, meets_training_minimum, story_phases


@pytest.fixture(scope="module")
def small_shop():
    return generate_shop(n_users=200, n_items=120, n_interactions=3_000, seed=0)


def test_columns_match_personalize_names(small_shop):
    assert list(small_shop.interactions.columns) == [
        "USER_ID",
        "ITEM_ID",
        "TIMESTAMP",
        "EVENT_TYPE",
        "EVENT_VALUE",
    ]
    assert set(small_shop.items.columns) == set(demo_shop_schema("Items").names)
    assert set(small_shop.users.columns) == set(demo_shop_schema("Users").names)
    assert small_shop.interactions["TIMESTAMP"].dtype == np.int64


def test_exact_size_and_seeded(small_shop):
    assert len(small_shop.interactions) == 3_000
    again = generate_shop(n_users=200, n_items=120, n_interactions=3_000, seed=0)
    pd.testing.assert_frame_equal(again.interactions, small_shop.interactions)
    other = generate_shop(n_users=200, n_items=120, n_interactions=3_000, seed=1)
    assert not other.interactions.equals(small_shop.interactions)


def test_ids_refer_to_catalogue_and_users(small_shop):
    i = small_shop.interactions
    assert i["ITEM_ID"].isin(small_shop.items["ITEM_ID"]).all()
    assert i["USER_ID"].isin(small_shop.users["USER_ID"]).all()
    assert not i.duplicated().any()


def test_funnel_ratio(small_shop):
    shares = small_shop.interactions["EVENT_TYPE"].value_counts(normalize=True)
    assert set(shares.index) == set(EVENT_TYPES)
    assert shares["view"] > shares["click"] > shares["add-to-cart"] > shares["purchase"] > 0.005


def test_event_value_is_the_price_for_purchases_only(small_shop):
    i = small_shop.interactions
    bought = i["EVENT_TYPE"] == "purchase"
    assert i.loc[~bought, "EVENT_VALUE"].isna().all()
    prices = small_shop.items.set_index("ITEM_ID")["PRICE"]
    assert np.allclose(i.loc[bought, "EVENT_VALUE"], prices.loc[i.loc[bought, "ITEM_ID"]].to_numpy())


def test_power_law_popularity():
    shop = generate_shop()  # the default size, ~0.1 s
    counts = shop.interactions["ITEM_ID"].value_counts()
    top_20pct = counts.iloc[: len(shop.items) // 5].sum() / len(shop.interactions)
    assert top_20pct > 0.5  # uniform popularity would give 0.2
    assert counts.min() < counts.max() / 20


def test_users_are_category_affine(small_shop):
    i = small_shop.interactions.merge(small_shop.items[["ITEM_ID", "CATEGORY_L1"]], on="ITEM_ID")
    per_user = i.groupby("USER_ID")["CATEGORY_L1"]
    top_share = per_user.agg(lambda s: s.value_counts(normalize=True).iloc[0])
    active = per_user.size() >= 10
    # With 8 categories, a shopper without preferences would have ~1/8 of events in their top one.
    assert top_share[active].median() > 0.35


def test_sessions_are_bursts(small_shop):
    i = small_shop.interactions.sort_values(["USER_ID", "TIMESTAMP"])
    gaps = i.groupby("USER_ID")["TIMESTAMP"].diff().dropna()
    assert (gaps < 600).mean() > 0.5  # most consecutive events of a user are minutes apart


def test_new_user_cohort(small_shop):
    counts = small_shop.interactions["USER_ID"].value_counts()
    new = pd.Series(small_shop.new_user_ids)
    assert len(new) >= 10
    assert counts.reindex(new, fill_value=0).max() <= 2
    assert (~new.isin(counts.index)).any()  # some brand-new users have no events at all


def test_items_have_names_and_positive_prices(small_shop):
    items = small_shop.items
    assert items["NAME"].str.len().gt(3).all() and (items["PRICE"] > 0).all()
    assert items["ITEM_ID"].is_unique and items["CATEGORY_L2"].notna().all()


def test_meets_aws_minimum_and_story_phases():
    shop = generate_shop()
    assert meets_training_minimum(shop.interactions)
    initial, additional = story_phases(shop)
    assert len(initial) == 7_000 and len(additional) == 25_000
    assert initial["TIMESTAMP"].max() <= additional["TIMESTAMP"].min()
    assert meets_training_minimum(initial) and meets_training_minimum(additional)
    # "few per user": the initial phase has far fewer events per user than the whole history
    assert initial["USER_ID"].value_counts().median() < shop.interactions["USER_ID"].value_counts().median()


def test_story_phases_scale_with_size(small_shop):
    initial, additional = story_phases(small_shop, n_initial=1_200)
    assert len(initial) + len(additional) == len(small_shop.interactions)
