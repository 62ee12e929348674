"""The side-by-side cell's narrow shape keeps what tells items apart: name, category leaf, price, shared."""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.recommendations.cell_format import category_leaf, category_paths_help, compact_cell, item_label


def test_category_leaf_keeps_the_last_level_of_each_category() -> None:
    assert category_leaf("Home & Kitchen › Coffee") == "Coffee"
    assert category_leaf("Toys") == "Toys"
    assert category_leaf("Books › Cooking, Toys › Games") == "Cooking, Games"
    assert category_leaf("") == "" and category_leaf(None) == ""  # type: ignore[arg-type]


def test_item_label_falls_back_to_the_id_and_keeps_text_as_it_is() -> None:
    assert item_label("P1", "", "") == "P1"
    assert item_label("P1", "**Bold** <b>x</b>", "A › [link](x)") == "**Bold** <b>x</b> · [link](x)"


def test_compact_cell_without_metadata_shows_ids_and_counts() -> None:
    cell = pd.DataFrame({"#": [1, 2], "item": ["P1", "P2"], "shared": ["3/4", "1/4"], "_share": [0.75, 0.25]})
    compact = compact_cell(cell)
    assert list(compact.columns) == ["#", "item", "shared", "_share"]  # no price column without prices
    assert compact["item"].tolist() == ["P1", "P2"] and compact["shared"].tolist() == [3, 1]
    assert category_paths_help(cell).startswith("Item id")


def test_compact_cell_with_metadata_keeps_full_paths_for_the_help() -> None:
    cell = pd.DataFrame({"#": [1, 2], "item": ["P1", "P2"], "name": ["Tent", ""],
                         "category": ["Outdoor › Camping", ""], "price": [44.99, np.nan],
                         "shared": ["2/2", "1/2"], "_share": [1.0, 0.5]})
    compact = compact_cell(cell)
    assert compact["item"].tolist() == ["Tent · Camping", "P2"]
    assert compact["price"].iloc[0] == 44.99 and np.isnan(compact["price"].iloc[1])
    assert "Outdoor › Camping" in category_paths_help(cell)
