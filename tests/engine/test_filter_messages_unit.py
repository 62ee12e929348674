"""The exact words of the filter parser's refusals (`engine.filters.parse`), one per rule: a refusal is
the only thing a user sees of a filter the engine will not create."""

from __future__ import annotations

import pytest

from engine import filters
from engine.errors import InvalidInputException


@pytest.mark.parametrize(("expression", "message"), [
    ("   ", "The filter expression is empty."),
    ("INCLUDE ItemID WHERE Items.A IN (" + ", ".join(['"x"'] * 600) + ")",
     "The filter expression is longer than 2,500 characters."),
    ('INCLUDE Item WHERE Items.A IN ("x")', "Expected ItemID in the filter expression, found 'Item'."),
    ("INCLUDE ItemID WHERE Items.PRICE", "The filter expression ends before its operator."),
    ('INCLUDE ItemID WHERE Items.A NOT LIKE ("x")', "Expected IN in the filter expression, found 'LIKE'."),
    ('INCLUDE ItemID WHERE Items.A LIKE ("x")', "Unknown operator 'LIKE' in the filter expression."),
    ('EXCLUDE ItemID WHERE Interactions.USER_ID IN ("u1")',
     "Interactions filters support EVENT_TYPE only, not 'USER_ID'."),
    ('EXCLUDE ItemID WHERE Interactions.event_type IN ("click")',
     "Interactions.event_type differs only in case from the field EVENT_TYPE: write Interactions.EVENT_TYPE "
     "(field names are case-sensitive)."),
])
def test_each_refusal_says_exactly_what_is_wrong(expression: str, message: str) -> None:
    assert len(expression) > 2500 or "longer" not in message
    with pytest.raises(InvalidInputException) as caught:
        filters.parse(expression)
    assert str(caught.value) == message


def test_the_event_type_field_is_taken_as_written() -> None:
    (clause,) = filters.parse('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')
    assert [(c.dataset, c.field, c.op, c.values) for c in clause.conditions] == [
        ("Interactions", "EVENT_TYPE", "IN", ("click",))]
