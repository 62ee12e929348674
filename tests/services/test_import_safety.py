"""Safe imports against the real engine: what a dataset holds, the default mode, the sentence a FULL
import is confirmed with, and ids checked against the Items dataset and the existing ids' format."""

from __future__ import annotations

import pandas as pd

from services.core.waiting import wait_until
from services.data import import_safety, imports
from services.data.schemas import ecommerce_schema
from services.demo.shop_data import generate_shop
from tests.support.shops import interactions_dataset


def _import(clients, dataset: str, frame: pd.DataFrame, mode: str = "FULL") -> None:
    launched = imports.stage_and_import(clients, dataset, frame, mode)
    job = wait_until(lambda: clients.personalize.describe_dataset_import_job(
        datasetImportJobArn=launched.job_arn)["datasetImportJob"], "import", timeout=60, interval=0.05)
    assert job["status"] == "ACTIVE"


def _items_dataset(clients, group: str, name: str) -> str:
    p = clients.personalize
    schema = imports.create_schema(p, f"{name}-items", ecommerce_schema("Items"))
    dataset = imports.create_dataset(p, group, "Items", schema, f"{name}-items")
    wait_until(lambda: p.describe_dataset(datasetArn=dataset)["dataset"], "dataset", timeout=30)
    return dataset


def test_a_filled_dataset_defaults_to_incremental_and_full_states_what_it_replaces(clients) -> None:
    _group, dataset = interactions_dataset(clients, "safety-counts")
    empty = import_safety.dataset_contents(clients.personalize, dataset, "INTERACTIONS")
    assert not empty.imported and import_safety.default_mode(empty) == "FULL"
    assert import_safety.replacement_warning(empty, 44) is None

    shop = generate_shop(60, 30, 1_200, seed=3)
    _import(clients, dataset, shop.interactions)
    _import(clients, dataset, shop.interactions.head(300), "INCREMENTAL")
    held = import_safety.dataset_contents(clients.personalize, dataset, "INTERACTIONS")
    assert held.imported and held.rows == len(shop.interactions) + 300
    assert import_safety.default_mode(held) == "INCREMENTAL"
    sentence = import_safety.replacement_warning(held, 1)
    assert f"replaces {len(shop.interactions) + 300:,} rows with 1 row" in sentence


def test_ids_unknown_to_the_items_dataset_are_warned_with_their_rows(clients) -> None:
    group, _dataset = interactions_dataset(clients, "safety-items")
    items = _items_dataset(clients, group, "safety-items")
    shop = generate_shop(60, 30, 1_200, seed=4)
    _import(clients, items, shop.items)
    new = shop.interactions.head(50).copy()
    good = import_safety.check_ids(clients.personalize, group, "INTERACTIONS", new)
    assert good.findings == []

    new.loc[new.index[:20], "ITEM_ID"] = "P9" + new["ITEM_ID"].str[1:].head(20)  # ids this shop has not got
    check = import_safety.check_ids(clients.personalize, group, "INTERACTIONS", new)
    assert [f.column for f in check.findings] == ["ITEM_ID"]
    finding = check.findings[0]
    assert "20 of 50 rows (40%)" in finding.message and "Items dataset does not hold" in finding.message
    assert list(finding.rows.index[:2]) == [1, 2] and finding.rows["ITEM_ID"].str.startswith("P9").all()


def test_ids_in_another_format_than_the_dataset_holds_are_warned(clients) -> None:
    group, dataset = interactions_dataset(clients, "safety-format")
    shop = generate_shop(60, 30, 1_200, seed=5)
    _import(clients, dataset, shop.interactions)
    held = import_safety.dataset_contents(clients.personalize, dataset, "INTERACTIONS")
    # U00138 written as U0138: the leading zero a spreadsheet drops.
    bad = shop.interactions.head(44).assign(USER_ID=lambda f: "U" + f["USER_ID"].str[2:],
                                            ITEM_ID=lambda f: "P" + f["ITEM_ID"].str[2:])
    check = import_safety.check_ids(clients.personalize, group, "INTERACTIONS", bad, held)
    assert sorted(f.column for f in check.findings) == ["ITEM_ID", "USER_ID"]
    assert all("44 of 44 rows (100%)" in f.message and "A99999" in f.message for f in check.findings)
    assert import_safety.check_ids(clients.personalize, group, "INTERACTIONS",
                                   shop.interactions.tail(44), held).findings == []
