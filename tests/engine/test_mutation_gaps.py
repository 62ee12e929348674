"""Filter behaviours that mutation testing (`python -m bench.mutation --module engine_filters`) showed no
test checked: each error's words, comparisons at their boundary, several expressions joined by `|`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import filters
from engine.errors import InvalidInputException

ITEM_IDS = np.array(["a", "b", "c", "d"], dtype=object)
META = pd.DataFrame({"CATEGORY_L1": ["Toys", "Shoes", "Toys", None], "PRICE": [5, 10, 20, None]})


def kept(expression: str, values: dict[str, str] | None = None, events=()) -> list[str]:
    mask = filters.allowed_mask(filters.parse(expression), values or {}, ITEM_IDS, META, list(events))
    return ITEM_IDS[mask].tolist()


@pytest.mark.parametrize(("expression", "message"), [
    ("   ", "The filter expression is empty."),
    ("INCLUDE ItemID WHERE Items.PRICE > 1 " + "x" * 2500, "longer than 2,500 characters"),
    ("SELECT ItemID WHERE Items.PRICE > 1", "starts with INCLUDE or EXCLUDE"),
    ("INCLUDE ItemID Items.PRICE > 1", "Expected WHERE in the filter expression, found 'Items.PRICE'"),
    ("INCLUDE ItemID WHERE", "Each condition names Dataset.FIELD"),
    ("INCLUDE ItemID WHERE PRICE > 1", "Each condition names Dataset.FIELD"),
    ("INCLUDE ItemID WHERE Users.AGE > 1", "Filters on Users are not supported here; use Items or Interactions."),
    ("INCLUDE ItemID WHERE Items.PRICE", "ends before its operator"),
    ('INCLUDE ItemID WHERE Items.PRICE > 1 AND Items.PRICE < 9 OR Items.CATEGORY_L1 = "Toys"',
     "AND or OR in one expression, not both"),
    ('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN "Toys"', "IN takes a list in parentheses."),
    ('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("Toys"', "An IN list must end with ')'."),
    ('INCLUDE ItemID WHERE Items.PRICE > "cheap"', "> compares numbers; "),
    ('INCLUDE ItemID WHERE Items.PRICE > 1 )', "Unexpected ')' in the filter expression."),
    ("INCLUDE ItemID WHERE Items.PRICE > 1 ~", "Cannot read the filter expression at '~'"),
])
def test_each_refusal_says_what_is_wrong(expression, message):
    with pytest.raises(InvalidInputException) as caught:
        filters.parse(expression)
    assert message in str(caught.value)


def test_the_length_limit_is_2500_characters_inclusive():
    base = "INCLUDE ItemID WHERE Items.PRICE > 1"
    filters.parse(base + " " * (2500 - len(base)))
    with pytest.raises(InvalidInputException):
        filters.parse(base + " " * (2501 - len(base)))


def test_comparisons_at_their_boundary():
    assert kept("INCLUDE ItemID WHERE Items.PRICE < 10") == ["a"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE <= 10") == ["a", "b"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE > 10") == ["c"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE >= 10") == ["b", "c"]
    assert kept("EXCLUDE ItemID WHERE Items.PRICE >= 10") == ["a", "d"]  # no price: never matches


def test_numbers_in_a_list_match_their_text_and_keywords_in_any_case():
    assert kept("INCLUDE ItemID WHERE Items.PRICE IN (5.0, 20)") == ["a", "c"]
    assert kept('include itemid where Items.CATEGORY_L1 = "Toys"') == ["a", "c"]


def test_expressions_joined_by_a_bar_all_apply():
    expression = 'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("Toys") | EXCLUDE ItemID WHERE Items.PRICE > 10'
    assert kept(expression) == ["a"]


def test_a_wildcard_event_type_matches_every_event():
    events = [("a", "view"), ("b", "purchase")]
    assert kept('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', events=events) == ["c", "d"]


def test_an_unknown_item_field_matches_nothing():
    assert kept('INCLUDE ItemID WHERE Items.COLOUR IN ("red")') == []
    assert kept('EXCLUDE ItemID WHERE Items.COLOUR IN ("red")') == ["a", "b", "c", "d"]


def test_missing_and_malformed_filter_values_are_named():
    clauses = filters.parse("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CAT)")
    with pytest.raises(InvalidInputException, match=r"needs a value for \$CAT in filterValues"):
        filters.allowed_mask(clauses, {}, ITEM_IDS, META, [])
    with pytest.raises(InvalidInputException, match=r"filterValues\[CAT\] must be quoted values"):
        filters.allowed_mask(clauses, {"CAT": "Toys"}, ITEM_IDS, META, [])
    numeric = filters.parse("INCLUDE ItemID WHERE Items.PRICE > $P")
    with pytest.raises(InvalidInputException, match=r"> compares Items\.PRICE with a number, not 'x'"):
        filters.allowed_mask(numeric, {"P": '"x"'}, ITEM_IDS, META, [])
    with pytest.raises(InvalidInputException, match=r"> compares Items\.PRICE with one number"):
        filters.allowed_mask(numeric, {"P": '"1", "2"'}, ITEM_IDS, META, [])
