"""Filter evaluation on its own (the domain, no HTTP): multi-valued categorical fields, numeric
comparisons, and values a client can get wrong, which must be InvalidInputException, never a 500."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import filters
from engine.errors import InvalidInputException

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


def test_interaction_filters_see_the_100_most_recent_interactions_per_event_type() -> None:
    """AWS considers a user's 100 most recent interactions of each event type: older ones no longer
    exclude their items, and events sent since training count first."""
    import scipy.sparse as sp

    from engine import runtime, training

    n_items = 130
    item_ids = np.array([f"i{k}" for k in range(n_items)], dtype=object)
    rows = [("u", f"i{k}", 1_000 + k, "view") for k in range(120)]  # i119 newest of these
    rows += [("u", "i0", 5_000, "view"), ("u", "i7", 6_000, "purchase"), ("v", "i3", 2_000, "view")]
    frame = pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"])
    typed = training.typed_histories(frame, np.array(["u", "v"], dtype=object), item_ids)
    views = typed["view"].toarray()
    assert views[0, 0] == 1 and views[0, 119] == 2 and views[0, 21] == 100 and views[0, 20] == 101
    assert views[1, 3] == 1 and typed["purchase"].toarray()[0, 7] == 1

    bundle = training.ModelBundle(
        model=None, recipe_name="aws-user-personalization", recipe_type="USER_PERSONALIZATION",
        user_ids=np.array(["u", "v"], dtype=object), item_ids=item_ids,
        history=sp.csr_matrix((2, n_items), dtype=np.float32), item_created=np.zeros(n_items),
        trained_until=6_000, typed_history=typed,
    )
    no_views = filters.parse('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("VIEW")')
    meta = pd.DataFrame(index=range(n_items))

    def item_condition(cond: filters.Condition, values: list[object]) -> np.ndarray:
        return filters.item_condition_mask(cond, values, pd.Index(item_ids), meta)

    def allowed(events: list[tuple[str, int, str]]) -> set[int]:
        mask = runtime.filter_mask(bundle, no_views, {}, item_condition, "u", events, typed)
        return {int(k) for k in np.flatnonzero(mask)}

    assert allowed([]) == set(range(1, 21)) | set(range(120, 130))
    sent = [("i125", 7_000, "view"), ("i126", 7_001, "view"), ("i127", 7_002, "view"), ("i3", 10, "view")]
    # Three views since training take three of the hundred places; the one stamped before training is
    # already in the training data (as history_row assumes too).
    assert allowed(sent) == set(range(1, 24)) | {120, 121, 122, 123, 124, 128, 129}
