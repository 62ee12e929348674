"""Personalize filter expressions: parsed at CreateFilter (a malformed one is refused there), then
evaluated per request into a boolean mask over the model's items.

Supported, as in AWS's grammar:
    EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase", "click")
    INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)
    EXCLUDE ItemID WHERE Items.PRICE > 100 AND Items.CATEGORY_L1 IN ("toys")
and several expressions joined by `|`. Conditions combine with AND or OR (not mixed in one clause).
AWS's rules kept here: event types match whatever their case; NOT IN takes no placeholder parameter
(AWS asks for IN and the opposite action instead); at most 10 distinct dataset fields a filter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InvalidInputException

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<param>\$[A-Za-z_][A-Za-z0-9_]*)'
    r"|(?P<op>>=|<=|!=|=|<|>|\(|\)|,|\|)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
OPS = {"IN", "NOT IN", "=", "!=", "<", ">", "<=", ">="}
MAX_FIELDS = 10  # distinct dataset fields in one filter (AWS's limit)


@dataclass(frozen=True)
class Param:
    """A $NAME placeholder, filled from filterValues at request time. Its own type, so that a quoted
    literal such as "$5 off" stays a literal."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


@dataclass(frozen=True)
class Condition:
    dataset: str  # "Items" or "Interactions"
    field: str
    op: str
    values: tuple[object, ...]  # str/float literals, or Param placeholders


@dataclass(frozen=True)
class Clause:
    action: str  # INCLUDE or EXCLUDE
    conditions: tuple[Condition, ...]
    joiner: str  # AND or OR


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInputException(f"Cannot read the filter expression at {text[pos:pos + 20]!r}.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Reader:
    """A position in the token list, with the few moves the grammar needs."""

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.toks)

    def text(self) -> str:
        return self.toks[self.i][1]

    def at(self, *texts: str) -> bool:
        """Whether the next token is one of `texts` (words compared without case)."""
        return self.more() and self.text().upper() in texts

    def expect_word(self, word: str) -> None:
        if not self.more() or self.text().upper() != word.upper():
            got = self.text() if self.more() else "the end"
            raise InvalidInputException(f"Expected {word} in the filter expression, found {got!r}.")
        self.i += 1

    def value(self) -> object:
        value = _value(self.toks, self.i)
        self.i += 1
        return value


def parse(expression: str) -> list[Clause]:
    if not expression or not expression.strip():
        raise InvalidInputException("The filter expression is empty.")
    if len(expression) > 2500:
        raise InvalidInputException("The filter expression is longer than 2,500 characters.")
    reader = _Reader(_tokens(expression))
    clauses = [_parse_clause(reader)]
    while reader.at("|"):
        reader.i += 1
        clauses.append(_parse_clause(reader))
    if reader.more():
        raise InvalidInputException(f"Unexpected {reader.text()!r} in the filter expression.")
    _check_aws_rules(clauses)
    return clauses


def _parse_clause(reader: _Reader) -> Clause:
    if not reader.at("INCLUDE", "EXCLUDE"):
        raise InvalidInputException("A filter expression starts with INCLUDE or EXCLUDE.")
    action = reader.text().upper()
    reader.i += 1
    reader.expect_word("ItemID")
    reader.expect_word("WHERE")
    conditions = [_parse_condition(reader)]
    joiners: set[str] = set()
    while reader.at("AND", "OR"):
        joiners.add(reader.text().upper())
        reader.i += 1
        conditions.append(_parse_condition(reader))
    if len(joiners) > 1:
        raise InvalidInputException("Use parentheses-free AND or OR in one expression, not both.")
    return Clause(action, tuple(conditions), joiners.pop() if joiners else "AND")


def _parse_condition(reader: _Reader) -> Condition:
    if not reader.more() or reader.toks[reader.i][0] != "word" or "." not in reader.text():
        raise InvalidInputException(
            "Each condition names Dataset.FIELD, e.g. Items.CATEGORY or Interactions.EVENT_TYPE."
        )
    dataset, _, field = reader.text().partition(".")
    if dataset not in ("Items", "Interactions"):
        known = next((d for d in ("Items", "Interactions") if d.lower() == dataset.lower()), None)
        if known:
            raise InvalidInputException(f"{dataset!r} differs only in case from the dataset name {known}: "
                                        f"write {known}.{field}.")
        raise InvalidInputException(f"Filters on {dataset} are not supported here; use Items or Interactions.")
    reader.i += 1
    if not reader.more():
        raise InvalidInputException("The filter expression ends before its operator.")
    op = reader.text().upper()
    reader.i += 1
    if op == "NOT":
        reader.expect_word("IN")
        op = "NOT IN"
    if op not in OPS:
        raise InvalidInputException(f"Unknown operator {op!r} in the filter expression.")
    values = _parse_in_list(reader, op) if op in ("IN", "NOT IN") else [_parse_comparand(reader, op)]
    if dataset == "Interactions" and field != "EVENT_TYPE":
        if field.upper() == "EVENT_TYPE":
            raise InvalidInputException(f"Interactions.{field} differs only in case from the field EVENT_TYPE: "
                                        "write Interactions.EVENT_TYPE (field names are case-sensitive).")
        raise InvalidInputException(f"Interactions filters support EVENT_TYPE only, not {field!r}.")
    return Condition(dataset, field, op, tuple(values))


def _parse_in_list(reader: _Reader, op: str) -> list[object]:
    if not reader.at("("):
        raise InvalidInputException(f"{op} takes a list in parentheses.")
    reader.i += 1
    values = [reader.value()]
    while reader.at(","):
        reader.i += 1
        values.append(reader.value())
    if not reader.at(")"):
        raise InvalidInputException("An IN list must end with ')'.")
    reader.i += 1
    return values


def _parse_comparand(reader: _Reader, op: str) -> object:
    value = _value(reader.toks, reader.i)
    if op not in ("=", "!=") and isinstance(value, str):
        raise InvalidInputException(f"{op} compares numbers; {reader.text()} is not one.")
    reader.i += 1
    return value


def _check_aws_rules(clauses: list[Clause]) -> None:
    conditions = [cond for clause in clauses for cond in clause.conditions]
    for cond in conditions:
        if cond.op == "NOT IN" and any(isinstance(v, Param) for v in cond.values):
            raise InvalidInputException(
                f"{cond.dataset}.{cond.field} NOT IN cannot take a placeholder parameter; use IN with the "
                "opposite action instead (INCLUDE for EXCLUDE, or EXCLUDE for INCLUDE)."
            )
    fields = {(cond.dataset, cond.field) for cond in conditions}
    if len(fields) > MAX_FIELDS:
        raise InvalidInputException(
            f"A filter can use at most {MAX_FIELDS} distinct dataset fields; this one uses {len(fields)}."
        )


def _value(toks: list[tuple[str, str]], i: int) -> object:
    if i >= len(toks):
        raise InvalidInputException("The filter expression ends where a value was expected.")
    kind, text = toks[i]
    if kind == "str":
        return json.loads(text)
    if kind == "num":
        return float(text)
    if kind == "param":
        return Param(text[1:])
    raise InvalidInputException(f"Expected a value, found {text!r}.")


def parameters(clauses: list[Clause]) -> set[str]:
    return {v.name for c in clauses for cond in c.conditions for v in cond.values if isinstance(v, Param)}


def interaction_types(clauses: list[Clause], filter_values: dict[str, str]) -> set[str] | None:
    """The event types, lower-cased, that the filter's Interactions conditions name (what `evaluate`
    reads of `interacted`): None when it has no such condition; {"*"} when it may read every type
    (a "*" value, or a value that cannot be resolved: `evaluate` then raises the error itself)."""
    wanted: set[str] | None = None
    for clause in clauses:
        for cond in clause.conditions:
            if cond.dataset != "Interactions":
                continue
            try:
                values = _resolve(cond.values, filter_values)
            except InvalidInputException:
                return {"*"}
            wanted = (wanted or set()) | {str(v).lower() for v in values}
    return wanted


def excluded_interaction_types(clauses: list[Clause], filter_values: dict[str, str]) -> set[str] | None:
    """The event types, lower-cased ({"*"}: any), whose interactions the filter excludes, when that is
    all it does: every clause an EXCLUDE whose conditions are Interactions.EVENT_TYPE IN or = (one, or
    several joined by OR). `evaluate` then keeps every item but those the user interacted with under
    these types, so serving can pass their positions instead of a mask over every item. None for any
    other filter, and where a value cannot be resolved (`evaluate` then words the error)."""
    wanted: set[str] = set()
    for clause in clauses:
        if clause.action != "EXCLUDE" or (len(clause.conditions) > 1 and clause.joiner != "OR"):
            return None
        for cond in clause.conditions:
            if cond.dataset != "Interactions" or cond.op not in ("IN", "="):
                return None
            try:
                values = _resolve(cond.values, filter_values)
            except InvalidInputException:
                return None
            wanted |= {str(v).lower() for v in values}
    return wanted if clauses else None


def _resolve(values: tuple[object, ...], filter_values: dict[str, str]) -> list[object]:
    out: list[object] = []
    for v in values:
        if isinstance(v, Param):
            name = v.name
            if name not in filter_values:
                raise InvalidInputException(f"The filter needs a value for ${name} in filterValues.")
            raw = filter_values[name]
            try:
                parsed = json.loads(f"[{raw}]")
            except json.JSONDecodeError as exc:
                raise InvalidInputException(
                    f'filterValues[{name}] must be quoted values such as "\\"shoes\\",\\"socks\\"".'
                ) from exc
            out.extend(parsed)
        else:
            out.append(v)
    return out


def allowed_mask(
    clauses: list[Clause],
    filter_values: dict[str, str],
    item_ids: np.ndarray,
    item_meta: pd.DataFrame,
    user_item_events: list[tuple[str, str]],
) -> np.ndarray:
    """Boolean mask over items. `item_meta` is aligned with item_ids; events are (item, type)."""
    index = pd.Index(item_ids)
    by_type: dict[str, list[str]] = {}
    for it, et in user_item_events:
        by_type.setdefault(et, []).append(it)
    interacted = {et: index.get_indexer(items) for et, items in by_type.items()}

    def item_condition(cond: Condition, values: list[object]) -> np.ndarray:
        return item_condition_mask(cond, values, index, item_meta)

    return evaluate(clauses, filter_values, len(item_ids), item_condition, interacted)


def evaluate(
    clauses: list[Clause],
    filter_values: dict[str, str],
    n_items: int,
    item_condition: Callable[[Condition, list[object]], np.ndarray],
    interacted: Mapping[str, np.ndarray],
) -> np.ndarray:
    """Boolean mask over `n_items` items. `item_condition(cond, resolved values)` gives an Items
    condition's match (the serving path caches these: they depend on item metadata only);
    `interacted` maps each event type, as sent, to the item positions the user interacted with under
    it (negative positions are items the model does not know, and match nothing)."""
    allowed = np.ones(n_items, dtype=bool)
    for clause in clauses:
        masks = []
        for cond in clause.conditions:
            values = _resolve(cond.values, filter_values)
            if cond.dataset == "Interactions":
                masks.append(_interaction_condition(cond, values, n_items, interacted))
            else:
                masks.append(item_condition(cond, values))
        match = np.logical_and.reduce(masks) if clause.joiner == "AND" else np.logical_or.reduce(masks)
        allowed &= match if clause.action == "INCLUDE" else ~match
    return allowed


def _interaction_condition(
    cond: Condition, values: list[object], n_items: int, interacted: Mapping[str, np.ndarray],
) -> np.ndarray:
    wanted = {str(v).lower() for v in values}  # AWS ignores case when it matches event types
    hit = np.zeros(n_items, dtype=bool)
    for event_type, positions in interacted.items():
        if "*" in wanted or event_type.lower() in wanted:
            hit[positions[positions >= 0]] = True
    return ~hit if cond.op in ("NOT IN", "!=") else hit


def item_condition_mask(cond: Condition, values: list[object], index: pd.Index, item_meta: pd.DataFrame) -> np.ndarray:
    """Which items an Items condition matches, over `index` (the model's items) with `item_meta` aligned
    to it; `values` are the condition's resolved values."""
    n = len(index)
    if cond.field == "ITEM_ID":
        column = pd.Series(index.astype(str), index=range(n))
    elif cond.field in item_meta.columns:
        column = item_meta[cond.field].reset_index(drop=True)
    else:
        return np.zeros(n, dtype=bool)  # unknown field: matches nothing, as on AWS
    if cond.op in ("IN", "NOT IN", "=", "!="):
        # Categorical fields hold several values separated by '|'.
        text = column.astype("string").fillna("")
        if pd.api.types.is_float_dtype(column.dtype):
            # A float column prints 5 as "5.0", and a missing value makes any numeric column float:
            # whole numbers are compared as the filter writes them ("5").
            whole = (column.notna() & (column % 1 == 0)).to_numpy(dtype=bool)
            text[whole] = column[whole].astype("int64").astype("string")
        wanted = [str(v) if not isinstance(v, float) else _num_text(v) for v in values]
        # A fresh, writable array: pandas' copy-on-write hands out read-only views.
        hit = text.isin(wanted).to_numpy(dtype=bool, copy=True)
        multi = text.str.contains("|", regex=False).to_numpy(dtype=bool)
        if multi.any():
            parts = text[multi].str.split("|").explode()
            matched = parts[parts.isin(wanted)].index.unique()
            hit[matched] = True
        return ~hit if cond.op in ("NOT IN", "!=") else hit
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int | float | str):
        raise InvalidInputException(f"{cond.op} compares {cond.dataset}.{cond.field} with one number.")
    try:
        target = float(values[0])
    except ValueError as exc:
        raise InvalidInputException(f"{cond.op} compares {cond.dataset}.{cond.field} with a number, "
                                    f"not {values[0]!r}.") from exc
    with np.errstate(invalid="ignore"):
        result = {
            "<": numbers < target,
            ">": numbers > target,
            "<=": numbers <= target,
            ">=": numbers >= target,
        }[cond.op]
    return np.nan_to_num(result, nan=False).astype(bool)


def _num_text(v: float) -> str:
    return str(int(v)) if v.is_integer() else str(v)
