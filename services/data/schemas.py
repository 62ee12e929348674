"""Amazon Personalize dataset schemas (Avro JSON): ECOMMERCE presets, a builder and a parser.

Personalize takes a schema as an Avro ``record`` whose fields may carry two extra attributes,
``categorical`` and ``textual``. The dashboard needs the schema as data (to validate a file before it
is uploaded), so `parse_schema` turns the JSON into a `SchemaSpec` and `SchemaSpec.to_json` goes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

AVRO_NAMESPACE = "com.amazonaws.personalize.schema"
# Primitive Avro types Personalize accepts in a schema.
SUPPORTED_TYPES = frozenset({"string", "int", "long", "float", "double", "boolean"})
NUMERIC_TYPES = frozenset({"int", "long", "float", "double"})
INTEGER_TYPES = frozenset({"int", "long"})

DATASET_TYPES = ("INTERACTIONS", "ITEMS", "USERS")
# Fields without which Personalize refuses the schema for that dataset type.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "INTERACTIONS": ("USER_ID", "ITEM_ID", "TIMESTAMP"),
    "USERS": ("USER_ID",),
    "ITEMS": ("ITEM_ID",),
}
_RECORD_NAMES = {"INTERACTIONS": "Interactions", "ITEMS": "Items", "USERS": "Users"}
# Every dataset type botocore's model documents, with a title and what it holds. The dashboard creates
# and validates the first three; Next-Best-Action groups add the other two, and a group made elsewhere
# may hold them (or a type added to AWS later), so they are shown, never refused.
DATASET_TYPE_INFO: dict[str, tuple[str, str]] = {
    "INTERACTIONS": ("Interactions", "what users did with items: views, clicks, purchases, with a timestamp"),
    "ITEMS": ("Items", "the catalogue: one row per item with its metadata (category, price, ...)"),
    "USERS": ("Users", "one row per user with their metadata (membership, age group, ...)"),
    "ACTIONS": ("Actions", "the actions Next-Best-Action recommends (sign up, install the app, ...), "
                           "with their value"),
    "ACTION_INTERACTIONS": ("Action interactions", "what users did with actions (taken, not taken), "
                                                   "with a timestamp"),
}


class SchemaError(ValueError):
    """The schema text is not a Personalize-compatible Avro record; the message says why."""


def normalize_dataset_type(dataset_type: str) -> str:
    """'Interactions', 'interactions' and 'INTERACTIONS' all mean the same dataset type."""
    key = dataset_type.strip().upper()
    if key not in REQUIRED_FIELDS:
        raise SchemaError(f"Unknown dataset type {dataset_type!r}; use one of {', '.join(DATASET_TYPES)}.")
    return key


def dataset_type_title(dataset_type: str) -> str:
    """'INTERACTIONS' -> 'Interactions'; a type this dashboard does not know keeps its own name."""
    key = (dataset_type or "").strip().upper()
    return DATASET_TYPE_INFO[key][0] if key in DATASET_TYPE_INFO else (dataset_type or "?")


def dataset_type_description(dataset_type: str) -> str:
    """What a dataset of this type holds, in a few words."""
    key = (dataset_type or "").strip().upper()
    if key in DATASET_TYPE_INFO:
        return DATASET_TYPE_INFO[key][1]
    return f"a dataset type this dashboard does not know yet ({dataset_type}); shown as AWS reports it"


@dataclass(frozen=True)
class FieldSpec:
    """One schema field. `types` holds the non-null Avro types; `nullable` says whether null is allowed."""

    name: str
    types: tuple[str, ...]
    nullable: bool = False
    categorical: bool = False
    textual: bool = False

    @property
    def type(self) -> str:
        """The main (first non-null) Avro type; unions of several non-null types are rare in Personalize."""
        return self.types[0]

    @property
    def is_numeric(self) -> bool:
        return all(t in NUMERIC_TYPES for t in self.types)

    @property
    def is_integer(self) -> bool:
        return all(t in INTEGER_TYPES for t in self.types)

    def to_avro(self) -> dict:
        avro_type: str | list[str] = (
            ["null", *self.types] if self.nullable else (self.types[0] if len(self.types) == 1 else list(self.types))
        )
        out: dict = {"name": self.name, "type": avro_type}
        if self.categorical:
            out["categorical"] = True
        if self.textual:
            out["textual"] = True
        return out


@dataclass(frozen=True)
class SchemaSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    namespace: str = AVRO_NAMESPACE
    version: str = "1.0"
    _by_name: dict[str, FieldSpec] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def get(self, name: str) -> FieldSpec | None:
        return self._by_name.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def missing_required(self, dataset_type: str) -> list[str]:
        """Required fields of `dataset_type` that this schema lacks (empty when the schema fits)."""
        return [n for n in REQUIRED_FIELDS[normalize_dataset_type(dataset_type)] if n not in self]

    def to_dict(self) -> dict:
        return {
            "type": "record",
            "name": self.name,
            "namespace": self.namespace,
            "fields": [f.to_avro() for f in self.fields],
            "version": self.version,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The Avro JSON text CreateSchema takes."""
        return json.dumps(self.to_dict(), indent=indent)


def _parse_field(raw: object, position: int) -> FieldSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise SchemaError(f'Field #{position + 1} needs a "name" (text) and a "type".')
    name = raw["name"]
    if "type" not in raw:
        raise SchemaError(f'Field {name!r} has no "type".')
    declared = raw["type"]
    declared_list = declared if isinstance(declared, list) else [declared]
    if not declared_list or not all(isinstance(t, str) for t in declared_list):
        raise SchemaError(
            f'Field {name!r}: type must be a primitive name or a list of them, e.g. "long" or '
            '["null", "string"] (nested records, arrays and maps are not supported by Personalize).'
        )
    nullable = "null" in declared_list
    types = tuple(t for t in declared_list if t != "null")
    if not types:
        raise SchemaError(f'Field {name!r} is only "null"; give it a real type such as "string".')
    unknown = [t for t in types if t not in SUPPORTED_TYPES]
    if unknown:
        raise SchemaError(
            f"Field {name!r} has type {unknown[0]!r}; Personalize supports "
            f"{', '.join(sorted(SUPPORTED_TYPES))} (optionally with null)."
        )
    categorical = bool(raw.get("categorical", False))
    textual = bool(raw.get("textual", False))
    if (categorical or textual) and types != ("string",):
        raise SchemaError(f"Field {name!r}: only string fields can be categorical or textual.")
    return FieldSpec(name, types, nullable, categorical, textual)


def parse_schema(avro_json: str | dict) -> SchemaSpec:
    """Parse a Personalize Avro schema (JSON text or an already-loaded dict). Raises `SchemaError`."""
    if isinstance(avro_json, str):
        try:
            raw = json.loads(avro_json)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"The schema is not valid JSON (line {exc.lineno}, column {exc.colno}).") from exc
    else:
        raw = avro_json
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise SchemaError('A Personalize schema is an Avro record: {"type": "record", "fields": [...]}.')
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields:
        raise SchemaError('The schema has no "fields" list.')
    parsed = [_parse_field(f, i) for i, f in enumerate(fields)]
    seen: set[str] = set()
    for f in parsed:
        if f.name in seen:
            raise SchemaError(f"Field {f.name!r} appears twice.")
        seen.add(f.name)
    return SchemaSpec(
        name=str(raw.get("name") or "Schema"),
        fields=tuple(parsed),
        namespace=str(raw.get("namespace") or AVRO_NAMESPACE),
        version=str(raw.get("version") or "1.0"),
    )


def _f(
    name: str, avro_type: str, *, nullable: bool = False, categorical: bool = False, textual: bool = False
) -> FieldSpec:
    return FieldSpec(name, (avro_type,), nullable, categorical, textual)


# Default ECOMMERCE domain schemas as AWS documents them, plus the reserved optional fields a shop
# usually has (EVENT_VALUE; CATEGORY_L2; CREATION_TIMESTAMP), so the preset fits a typical export.
_ECOMMERCE_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "INTERACTIONS": (
        _f("USER_ID", "string"),
        _f("ITEM_ID", "string"),
        _f("TIMESTAMP", "long"),
        _f("EVENT_TYPE", "string"),
        _f("EVENT_VALUE", "float", nullable=True),
    ),
    "ITEMS": (
        _f("ITEM_ID", "string"),
        _f("PRICE", "float"),
        _f("CATEGORY_L1", "string", categorical=True),
        _f("CATEGORY_L2", "string", nullable=True, categorical=True),
        _f("CREATION_TIMESTAMP", "long"),
    ),
    "USERS": (
        _f("USER_ID", "string"),
        _f("MEMBERSHIP_STATUS", "string", categorical=True),
    ),
}

# The demo shop (services.demo.shop_data) carries two more columns than the AWS defaults.
_DEMO_EXTRA_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "INTERACTIONS": (),
    "ITEMS": (_f("NAME", "string", nullable=True, textual=True),),
    "USERS": (_f("AGE_GROUP", "string", nullable=True, categorical=True),),
}


def ecommerce_schema(dataset_type: str) -> SchemaSpec:
    """The ECOMMERCE domain preset for 'Interactions', 'Items' or 'Users'."""
    key = normalize_dataset_type(dataset_type)
    return SchemaSpec(_RECORD_NAMES[key], _ECOMMERCE_FIELDS[key])


def demo_shop_schema(dataset_type: str) -> SchemaSpec:
    """The ECOMMERCE preset extended with the demo shop's extra columns (item NAME, user AGE_GROUP)."""
    key = normalize_dataset_type(dataset_type)
    return SchemaSpec(_RECORD_NAMES[key], _ECOMMERCE_FIELDS[key] + _DEMO_EXTRA_FIELDS[key])


_DEFAULT_REQUIRED_TYPES = {"USER_ID": "string", "ITEM_ID": "string", "TIMESTAMP": "long"}


def build_schema(dataset_type: str, fields: Iterable[FieldSpec | dict], name: str | None = None) -> SchemaSpec:
    """A custom schema: the given fields, with any missing required field of the type put first.

    `fields` may mix `FieldSpec`s and Avro field dicts ({"name": ..., "type": ..., "categorical": ...}).
    """
    key = normalize_dataset_type(dataset_type)
    parsed = [f if isinstance(f, FieldSpec) else _parse_field(f, i) for i, f in enumerate(fields)]
    present = {f.name for f in parsed}
    required = [_f(n, _DEFAULT_REQUIRED_TYPES[n]) for n in REQUIRED_FIELDS[key] if n not in present]
    spec_dict = SchemaSpec(name or _RECORD_NAMES[key], (*required, *parsed)).to_dict()
    return parse_schema(spec_dict)  # one place checks duplicates and types


ECOMMERCE_PRESETS: dict[str, str] = {k: ecommerce_schema(k).to_json() for k in DATASET_TYPES}
