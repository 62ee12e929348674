"""Filter evaluation on its own (the domain, no HTTP): multi-valued categorical fields, numeric
comparisons, and values a client can get wrong, which must be InvalidInputException, never a 500."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.engine import filters
from services.engine.errors import InvalidInputException

ITEM_IDS = np.array(["a", "b", "c", "d"], dtype=object)
META = pd.DataFrame({"CATEGORY_L1": ["Toys", "Shoes|Toys", None, "Shoes"], "PRICE": [5, 20, 300, None]})


def mask(expression: str, values: dict[str, str] | None = None) -> list[bool]:
    return filters.allowed_mask(filters.parse(expression), values or {}, ITEM_IDS, META, []).tolist()


def test_multi_valued_categories_match_each_of_their_values() -> None:
    assert mask('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("Toys")') == [True, True, False, False]
    assert mask("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($C)", {"C": '"Shoes"'}) == [False, True, False, True]
    assert mask('EXCLUDE ItemID WHERE Items.CATEGORY_L1 = "Toys"') == [False, False, True, True]


def test_numeric_comparisons() -> None:
    assert mask("EXCLUDE ItemID WHERE Items.PRICE > 10") == [True, False, False, True]
    assert mask("INCLUDE ItemID WHERE Items.PRICE <= $MAX", {"MAX": "20"}) == [True, True, False, False]
    assert mask("INCLUDE ItemID WHERE Items.PRICE <= $MAX", {"MAX": '"20"'}) == [True, True, False, False]


@pytest.mark.parametrize("value", ['"cheap"', "", '"a", "b"', "[1]", "{}", "true"])
def test_a_comparison_with_no_single_number_is_invalid_input(value: str) -> None:
    with pytest.raises(InvalidInputException):
        mask("EXCLUDE ItemID WHERE Items.PRICE > $P", {"P": value})


def test_a_comparison_with_a_string_literal_is_refused_at_create() -> None:
    with pytest.raises(InvalidInputException):
        filters.parse('EXCLUDE ItemID WHERE Items.PRICE > "cheap"')
    filters.parse('EXCLUDE ItemID WHERE Items.CATEGORY_L1 != "Toys"')  # equality takes strings


def test_event_types_match_whatever_their_case() -> None:
    events = [("a", "Purchase"), ("b", "click"), ("c", "VIEW")]
    clauses = filters.parse('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase", "View")')
    assert filters.allowed_mask(clauses, {}, ITEM_IDS, META, events).tolist() == [False, True, False, True]
    clauses = filters.parse("INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T)")
    assert filters.allowed_mask(clauses, {"T": '"CLICK"'}, ITEM_IDS, META, events).tolist() == [
        False, True, False, False]


@pytest.mark.parametrize("expression", [
    "EXCLUDE ItemID WHERE Items.CATEGORY_L1 NOT IN ($C)",
    'INCLUDE ItemID WHERE Items.PRICE < 10 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("x", $T)',
])
def test_not_in_takes_no_placeholder_parameter(expression: str) -> None:
    with pytest.raises(InvalidInputException, match="opposite action"):
        filters.parse(expression)


def test_at_most_ten_distinct_fields_a_filter() -> None:
    ten = " AND ".join(f'Items.F{k} IN ("x")' for k in range(10))
    filters.parse(f"INCLUDE ItemID WHERE {ten} | EXCLUDE ItemID WHERE Items.F0 IN (\"y\")")  # F0 again: still ten
    with pytest.raises(InvalidInputException, match="at most 10"):
        filters.parse(f'INCLUDE ItemID WHERE {ten} AND Items.F10 IN ("x")')
