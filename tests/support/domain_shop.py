"""An ECOMMERCE domain dataset group on a real engine, with a few recommenders trained and ACTIVE.

The generated shop is built so that each use case has a right answer that only its own model finds: items
come in pairs bought together, shoppers browse one category, and the most viewed item is not the most
purchased one. The engine's recommender tests and the dashboard's both use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.engine.conftest import active
from tests.support.engine_shop import dataset_from_file

N_USERS, N_ITEMS, N_CATEGORIES = 240, 160, 4
CATEGORIES = [f"cat{c}" for c in range(N_CATEGORIES)]
NOW = 1_735_000_000
SCHEMAS = {
    "Interactions": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                     {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}],
    "Items": [{"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"},
              {"name": "CATEGORY_L1", "type": "string", "categorical": True},
              {"name": "CREATION_TIMESTAMP", "type": "long"}],
}
USE_CASES = ("recommended-for-you", "customers-who-viewed-x-also-viewed", "frequently-bought-together",
             "popular-items-by-purchases", "popular-items-by-views")


def category(item: int) -> str:
    return CATEGORIES[item % N_CATEGORIES]


def partner(item: int) -> int:
    """Items are bought in pairs: 0 with 4, 1 with 5, ... (the same category, so views cannot tell them)."""
    block, offset = divmod(item, 2 * N_CATEGORIES)
    return block * 2 * N_CATEGORIES + (offset + N_CATEGORIES) % (2 * N_CATEGORIES)


def ecommerce_shop(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Views within each shopper's favourite category; purchases of an item and its partner together.
    Item 1 is the most viewed, item 2 the most purchased (AWS's event types: View, Purchase)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str, int]] = []
    for user in range(N_USERS):
        favourite = user % N_CATEGORIES
        own = np.arange(favourite, N_ITEMS, N_CATEGORIES)
        for item in rng.choice(own, 18):
            rows.append((f"u{user}", f"i{item}", "View", NOW - int(rng.integers(0, 30 * 86400))))
        for item in rng.choice(own, 3):
            t = NOW - int(rng.integers(0, 30 * 86400))
            rows += [(f"u{user}", f"i{item}", "Purchase", t), (f"u{user}", f"i{partner(item)}", "Purchase", t + 60)]
        if user % 2:
            rows.append((f"u{user}", "i1", "View", NOW - int(rng.integers(0, 86400))))
        if user % 3 == 0:
            rows.append((f"u{user}", "i2", "Purchase", NOW - int(rng.integers(0, 86400))))
    interactions = pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"])
    items = pd.DataFrame({"ITEM_ID": [f"i{i}" for i in range(N_ITEMS)], "PRICE": 9.5,
                          "CATEGORY_L1": [category(i) for i in range(N_ITEMS)], "CREATION_TIMESTAMP": NOW - 90 * 86400})
    counts = {etype: interactions[interactions.EVENT_TYPE == etype].ITEM_ID.value_counts()
              for etype in ("View", "Purchase")}
    return interactions, items, counts


def record_schema(dataset_type: str) -> dict:
    return {"type": "record", "name": dataset_type, "namespace": "com.amazonaws.personalize.schema",
            "fields": SCHEMAS[dataset_type], "version": "1.0"}

RECIPE = "arn:aws:personalize:::recipe/aws-ecomm-{}"
# name (after the caller's prefix: recommender names are unique in an account) -> (use case, minimum RPS)
RECOMMENDERS = {"for-you": ("recommended-for-you", 2),
                "also-viewed": ("customers-who-viewed-x-also-viewed", 1),
                "popular-views": ("popular-items-by-views", 1)}


def build_group(personalize: Any, tmp: Path, prefix: str) -> dict:
    """The engine tests' ECOMMERCE data in a domain group of its own (names start with `prefix`, so several
    test modules share one engine)."""
    interactions, items, _ = ecommerce_shop()
    arn = personalize.create_dataset_group(name=f"{prefix}-group", domain="ECOMMERCE")["datasetGroupArn"]
    active(lambda: personalize.describe_dataset_group(datasetGroupArn=arn), "datasetGroup")
    for dtype, frame in (("Interactions", interactions), ("Items", items)):
        path = tmp / f"{dtype.lower()}.csv"
        frame.to_csv(path, index=False)
        dataset_from_file(personalize, arn, f"{prefix}-{dtype.lower()}", dtype, record_schema(dtype), path,
                          domain="ECOMMERCE")
    return {"group": arn, "interactions": interactions}


def domain_shop(personalize: Any, tmp: Path, prefix: str, names: str = "dom") -> dict:
    """{"group": arn, "recommenders": {name: arn}, "interactions": frame}, every recommender ACTIVE."""
    shop = build_group(personalize, tmp, prefix)
    arns = {f"{names}-{name}": personalize.create_recommender(
        name=f"{names}-{name}", datasetGroupArn=shop["group"], recipeArn=RECIPE.format(case),
        recommenderConfig={"minRecommendationRequestsPerSecond": rps})["recommenderArn"]
        for name, (case, rps) in RECOMMENDERS.items()}
    for arn in arns.values():
        rec = active(lambda arn=arn: personalize.describe_recommender(recommenderArn=arn), "recommender")
        assert rec["status"] == "ACTIVE", rec.get("failureReason")
    shop["recommenders"] = arns
    return shop
