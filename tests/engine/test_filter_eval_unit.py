"""Filter evaluation (`engine.filters.allowed_mask`) on planted items: which items each expression keeps.

The HTTP filter tests check whole requests; these pin evaluation itself (AND/OR, NOT IN, !=, IN lists,
comparisons, several values in one field, whole numbers in float columns, placeholders, event types),
so a swapped operator or dropped condition changes a list asserted here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import filters
from engine.errors import InvalidInputException

IDS = np.array(["i0", "i1", "i2", "i3", "i4", "i5"], dtype=object)
META = pd.DataFrame({
    "CATEGORY": ["Toys", "Shoes", "Toys|Games", "Books", None, "Shoes"],
    "PRICE": [5.0, 12.0, 20.0, 7.5, np.nan, 10.0],
    "STOCK": [0, 1, 2, 3, 4, 5],
})
EVENTS = [("i0", "View"), ("i3", "purchase"), ("unknown", "view"), ("i0", "click"), ("i5", "CLICK")]


def kept(expression: str, values: dict[str, str] | None = None, events=EVENTS) -> list[str]:
    mask = filters.allowed_mask(filters.parse(expression), values or {}, IDS, META, list(events))
    assert mask.dtype == bool and mask.shape == (len(IDS),)
    return IDS[mask].tolist()


def test_and_needs_both_conditions_and_or_either():
    both = 'INCLUDE ItemID WHERE Items.PRICE > 10 AND Items.CATEGORY IN ("Shoes")'
    assert kept(both) == ["i1"]
    assert kept(both.replace(" AND ", " OR ")) == ["i1", "i2", "i5"]
    assert kept(both.replace("INCLUDE", "EXCLUDE")) == ["i0", "i2", "i3", "i4", "i5"]
    assert kept(both.replace("INCLUDE", "EXCLUDE").replace(" AND ", " OR ")) == ["i0", "i3", "i4"]
    three = 'INCLUDE ItemID WHERE Items.PRICE > 6 AND Items.PRICE < 15 AND Items.STOCK >= 3'
    assert kept(three) == ["i3", "i5"]
    assert kept(three.replace(" AND ", " OR ")) == ["i0", "i1", "i2", "i3", "i4", "i5"]


def test_not_equal_and_not_in_keep_what_does_not_match_including_missing_values():
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY = "Toys"') == ["i0", "i2"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY != "Toys"') == ["i1", "i3", "i4", "i5"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY NOT IN ("Toys", "Books")') == ["i1", "i4", "i5"]
    assert kept('EXCLUDE ItemID WHERE Items.CATEGORY NOT IN ("Toys", "Books")') == ["i0", "i2", "i3"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY IN ("Games")') == ["i2"]  # one of several values
    assert kept('EXCLUDE ItemID WHERE Items.CATEGORY != "Games"') == ["i2"]


def test_numbers_match_as_the_filter_writes_them_in_float_and_int_columns():
    assert kept("INCLUDE ItemID WHERE Items.PRICE = 5") == ["i0"]
    assert kept('INCLUDE ItemID WHERE Items.PRICE = "20"') == ["i2"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE IN (7.5, 10)") == ["i3", "i5"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE != 5") == ["i1", "i2", "i3", "i4", "i5"]
    assert kept("INCLUDE ItemID WHERE Items.STOCK IN (0, 3.0)") == ["i0", "i3"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY IN (5)') == []


def test_comparisons_never_match_a_missing_value():
    assert kept("INCLUDE ItemID WHERE Items.PRICE < 100") == ["i0", "i1", "i2", "i3", "i5"]
    assert kept("EXCLUDE ItemID WHERE Items.PRICE < 100") == ["i4"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE > -1") == ["i0", "i1", "i2", "i3", "i5"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE <= 7.5") == ["i0", "i3"]
    assert kept("INCLUDE ItemID WHERE Items.STOCK > 4") == ["i5"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY > 1') == []  # text is no number


def test_item_id_is_a_field_of_every_item():
    assert kept('INCLUDE ItemID WHERE Items.ITEM_ID IN ("i2", "i9")') == ["i2"]
    assert kept('EXCLUDE ItemID WHERE Items.ITEM_ID = "i0"') == ["i1", "i2", "i3", "i4", "i5"]


def test_placeholders_take_their_values_from_filter_values():
    assert kept("INCLUDE ItemID WHERE Items.CATEGORY IN ($C)", {"C": '"Books","Shoes"'}) == ["i1", "i3", "i5"]
    assert kept("INCLUDE ItemID WHERE Items.CATEGORY = $C", {"C": '"Toys"'}) == ["i0", "i2"]
    assert kept('INCLUDE ItemID WHERE Items.CATEGORY IN ("Books", $C)', {"C": '"Toys"'}) == ["i0", "i2", "i3"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE >= $P", {"P": '"10"'}) == ["i1", "i2", "i5"]
    assert kept("INCLUDE ItemID WHERE Items.PRICE >= $P", {"P": "10"}) == ["i1", "i2", "i5"]


def test_a_quoted_value_that_starts_with_a_dollar_is_a_literal_not_a_placeholder():
    meta = META.assign(CATEGORY=["$5 off", "Shoes", "$C", None, None, "Shoes"])
    clauses = filters.parse('INCLUDE ItemID WHERE Items.CATEGORY IN ("$5 off", "$C")')
    assert filters.parameters(clauses) == set()
    mask = filters.allowed_mask(clauses, {}, IDS, meta, [])
    assert IDS[mask].tolist() == ["i0", "i2"]
    # NOT IN may take such a literal (only placeholders are refused there).
    filters.parse('EXCLUDE ItemID WHERE Items.CATEGORY NOT IN ("$5 off")')


@pytest.mark.parametrize("value", ["true", "[1]", '{"a": 1}', "null"])
def test_a_comparison_with_anything_but_one_number_is_refused(value):
    clauses = filters.parse("INCLUDE ItemID WHERE Items.PRICE > $P")
    with pytest.raises(InvalidInputException, match=r"^> compares Items\.PRICE with one number\.$"):
        filters.allowed_mask(clauses, {"P": value}, IDS, META, [])


def test_event_types_match_whatever_their_case_and_unknown_items_are_ignored():
    assert kept('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")') == ["i1", "i2", "i3", "i4", "i5"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("VIEW", "Purchase")') == ["i0", "i3"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")') == ["i0", "i5"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("view")') == ["i1", "i2", "i3", "i4", "i5"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE != "purchase"') == ["i0", "i1", "i2", "i4", "i5"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE = "purchase"') == ["i3"]
    assert kept('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")', events=[]) == []


def test_item_and_interaction_conditions_combine():
    expression = 'INCLUDE ItemID WHERE Items.CATEGORY IN ("Toys") AND Interactions.EVENT_TYPE IN ("view")'
    assert kept(expression) == ["i0"]
    assert kept(expression.replace(" AND ", " OR ")) == ["i0", "i2"]
    joined = ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click") | '
              'INCLUDE ItemID WHERE Items.PRICE >= 7.5')
    assert kept(joined) == ["i1", "i2", "i3"]


def test_parameters_lists_each_placeholder_name():
    clauses = filters.parse('INCLUDE ItemID WHERE Items.CATEGORY IN ($A, "x") AND Items.PRICE > $B '
                            '| EXCLUDE ItemID WHERE Items.STOCK = $A')
    assert filters.parameters(clauses) == {"A", "B"}


@pytest.mark.parametrize(("expression", "message"), [
    ('INCLUDE ItemID WHERE Items.CATEGORY NOT IN ($C)',
     "Items.CATEGORY NOT IN cannot take a placeholder parameter; use IN with the opposite action instead "
     "(INCLUDE for EXCLUDE, or EXCLUDE for INCLUDE)."),
    ("ItemID WHERE Items.PRICE > 1", "A filter expression starts with INCLUDE or EXCLUDE."),
    ("INCLUDE ItemID", "Expected WHERE in the filter expression, found 'the end'."),
    ("INCLUDE ItemID WHERE 5 > 1",
     "Each condition names Dataset.FIELD, e.g. Items.CATEGORY or Interactions.EVENT_TYPE."),
    ('INCLUDE ItemID WHERE Items.A = "x" OR Items.B = "y" AND Items.C = "z"',
     "Use parentheses-free AND or OR in one expression, not both."),
    ('INCLUDE ItemID WHERE Items.CATEGORY IN ("a" "b")', "An IN list must end with ')'."),
    ("INCLUDE ItemID WHERE Items.CATEGORY IN (", "The filter expression ends where a value was expected."),
    ("INCLUDE ItemID WHERE Items.CATEGORY IN ()", "Expected a value, found ')'."),
    ("INCLUDE ItemID WHERE Items.PRICE > 1 ~ and then much more text",
     "Cannot read the filter expression at '~ and then much more'."),
    ('INCLUDE ItemID WHERE items.CATEGORY IN ("x")',
     "'items' differs only in case from the dataset name Items: write Items.CATEGORY."),
    ('INCLUDE ItemID WHERE INTERACTIONS.EVENT_TYPE IN ("x")',
     "'INTERACTIONS' differs only in case from the dataset name Interactions: write Interactions.EVENT_TYPE."),
])
def test_each_refusal_reads_exactly(expression, message):
    with pytest.raises(InvalidInputException) as caught:
        filters.parse(expression)
    assert str(caught.value) == message


def test_a_field_name_may_contain_a_dot_and_one_condition_joins_with_and():
    [clause] = filters.parse('INCLUDE ItemID WHERE Items.A.B IN ("x")')
    assert clause.conditions[0].dataset == "Items" and clause.conditions[0].field == "A.B"
    assert clause.joiner == "AND" and clause.action == "INCLUDE"


def test_interaction_types_name_what_evaluation_reads_of_a_users_events():
    """Serving slices only the typed histories a filter names: the set must cover every type the
    evaluation matches, in its case-blind way, or say "*" where it cannot tell."""
    def types(expression: str, values: dict[str, str] | None = None):
        return filters.interaction_types(filters.parse(expression), values or {})

    assert types('EXCLUDE ItemID WHERE Items.PRICE > 10') is None
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase", "click")') == {"purchase", "click"}
    assert types('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T) | '
                 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("view") AND Items.PRICE > 1',
                 {"T": '"CART"'}) == {"cart", "view"}
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")') == {"*"}
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T)') == {"*"}  # unresolved: evaluate says so
    # What evaluation keeps is the same with only the named types' events given.
    for expression in ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("CLICK")',
                       'INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("purchase")'):
        named = types(expression)
        assert kept(expression) == kept(expression, events=[e for e in EVENTS if e[1].lower() in named])


def test_excluded_interaction_types_only_for_filters_that_only_exclude_interactions():
    """Serving passes such a filter as the positions it takes out (no mask over every item): the types
    must be exactly what evaluation excludes, and any other filter must say None."""
    def types(expression: str, values: dict[str, str] | None = None):
        return filters.excluded_interaction_types(filters.parse(expression), values or {})

    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase", "click")') == {"purchase", "click"}
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE = "view"') == {"view"}
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") OR Interactions.EVENT_TYPE IN ("cart") | '
                 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T)', {"T": '"Click"'}) == {"view", "cart", "click"}
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")') == {"*"}
    for other in ('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")',
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("view")',
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE != "view"',
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") AND Interactions.EVENT_TYPE IN ("click")',
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") OR Items.PRICE > 10',
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") | EXCLUDE ItemID WHERE Items.PRICE > 10',
                  'EXCLUDE ItemID WHERE Items.PRICE > 10'):
        assert types(other) is None, other
    assert types('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T)') is None  # unresolved: evaluate says so
    # What evaluation keeps is every item but those interacted with under the types.
    for expression in ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("CLICK")',
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view") OR Interactions.EVENT_TYPE = "click"',
                       'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'):
        named = types(expression)
        out = {it for it, et in EVENTS if "*" in named or et.lower() in named}
        assert kept(expression) == [it for it in IDS.tolist() if it not in out], expression
