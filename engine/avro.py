"""Personalize schemas: the subset of Avro that Personalize accepts, parsed and checked."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import InvalidInputException

REQUIRED_FIELDS = {
    "INTERACTIONS": ("USER_ID", "ITEM_ID", "TIMESTAMP"),
    "ITEMS": ("ITEM_ID",),
    "USERS": ("USER_ID",),
    "ACTIONS": ("ACTION_ID",),
    "ACTION_INTERACTIONS": ("ACTION_ID", "USER_ID", "TIMESTAMP"),
}
DATASET_TYPES = {t.lower(): t for t in REQUIRED_FIELDS}
PRIMITIVES = {"string", "int", "long", "float", "double", "boolean"}
NUMERIC = {"int", "long", "float", "double"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # the non-null primitive
    nullable: bool
    categorical: bool = False
    textual: bool = False


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def parse_schema(text: str) -> Schema:
    try:
        doc = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise InvalidInputException(f"The schema is not valid JSON: {exc}.") from exc
    if not isinstance(doc, dict) or doc.get("type") != "record" or not isinstance(doc.get("fields"), list):
        raise InvalidInputException('The schema must be an Avro record: {"type": "record", "fields": [...]}.')
    fields: list[Field] = []
    for raw in doc["fields"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise InvalidInputException("Every schema field needs a name and a type.")
        kinds = raw.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        nullable = "null" in kinds
        prims = [k for k in kinds if k != "null"]
        if len(prims) != 1 or prims[0] not in PRIMITIVES:
            raise InvalidInputException(
                f"Field {raw['name']} has type {raw.get('type')!r}; use one of {sorted(PRIMITIVES)}"
                ' optionally in a union with "null".'
            )
        fields.append(
            Field(raw["name"], prims[0], nullable, bool(raw.get("categorical")), bool(raw.get("textual")))
        )
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise InvalidInputException("The schema names a field twice.")
    return Schema(tuple(fields))


def check_schema_for_dataset(schema: Schema, dataset_type: str) -> None:
    missing = [n for n in REQUIRED_FIELDS[dataset_type] if schema.field(n) is None]
    if missing:
        raise InvalidInputException(
            f"A {dataset_type.title()} dataset's schema must have the field(s) {', '.join(missing)}."
        )
    ts = schema.field("TIMESTAMP")
    if ts is not None and ts.type not in ("long", "int"):
        raise InvalidInputException("TIMESTAMP must be of type long (Unix epoch seconds).")


def normalize_dataset_type(value: str) -> str:
    found = DATASET_TYPES.get(str(value).lower())
    if found is None:
        raise InvalidInputException(
            f"datasetType must be one of Interactions, Items, Users (got {value!r})."
        )
    return found
