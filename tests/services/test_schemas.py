"""Schemas: ECOMMERCE presets, parsing, the custom builder and their errors."""

import json

import pytest

from services.data.schemas import (
    ECOMMERCE_PRESETS,
    FieldSpec,
    SchemaError,
    build_schema,
    demo_shop_schema,
    ecommerce_schema,
    parse_schema,
)


@pytest.mark.parametrize("dataset_type", ["Interactions", "ITEMS", "users"])
def test_presets_round_trip_and_have_required_fields(dataset_type):
    spec = ecommerce_schema(dataset_type)
    assert spec.missing_required(dataset_type) == []
    again = parse_schema(spec.to_json())
    assert again == spec
    assert json.loads(ECOMMERCE_PRESETS[dataset_type.upper()])["type"] == "record"


def test_interactions_preset_matches_aws_fields():
    spec = ecommerce_schema("Interactions")
    assert spec.names == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    assert spec.get("TIMESTAMP").types == ("long",)
    value = spec.get("EVENT_VALUE")
    assert value.nullable and value.types == ("float",)
    assert not spec.get("USER_ID").nullable


def test_items_preset_marks_categories_categorical_and_price_float():
    spec = ecommerce_schema("Items")
    assert spec.get("CATEGORY_L1").categorical and spec.get("CATEGORY_L2").categorical
    assert spec.get("CATEGORY_L2").nullable
    assert spec.get("PRICE").types == ("float",) and spec.get("PRICE").is_numeric
    avro = json.loads(spec.to_json())
    l1 = next(f for f in avro["fields"] if f["name"] == "CATEGORY_L1")
    assert l1 == {"name": "CATEGORY_L1", "type": "string", "categorical": True}


def test_demo_schema_extends_preset():
    assert set(ecommerce_schema("Items").names) < set(demo_shop_schema("Items").names)
    assert "NAME" in demo_shop_schema("Items")


def test_parse_union_and_attributes():
    spec = parse_schema(
        '{"type": "record", "name": "X", "fields": ['
        '{"name": "ITEM_ID", "type": "string"},'
        '{"name": "GENRE", "type": ["null", "string"], "categorical": true},'
        '{"name": "DESCRIPTION", "type": ["string", "null"], "textual": true}]}'
    )
    genre = spec.get("GENRE")
    assert genre.nullable and genre.categorical and genre.types == ("string",)
    assert spec.get("DESCRIPTION").textual
    assert spec.missing_required("Items") == []
    assert spec.missing_required("Interactions") == ["USER_ID", "TIMESTAMP"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "enum"}', "Avro record"),
        ('{"type": "record", "fields": []}', 'no \\"fields\\"'),
        ('{"type": "record", "fields": [{"name": "A", "type": "map"}]}', "'map'"),
        ('{"type": "record", "fields": [{"name": "A", "type": "long", "categorical": true}]}', "only string"),
        (
            '{"type": "record", "fields": [{"name": "A", "type": "long"}, {"name": "A", "type": "int"}]}',
            "twice",
        ),
        ('{"type": "record", "fields": [{"type": "long"}]}', "name"),
    ],
)
def test_parse_errors_say_why(text, fragment):
    with pytest.raises(SchemaError) as info:
        parse_schema(text)
    assert fragment.replace("\\", "") in str(info.value)


def test_build_schema_adds_missing_required_fields():
    spec = build_schema("Interactions", [{"name": "DEVICE", "type": ["null", "string"], "categorical": True}])
    assert spec.names == ["USER_ID", "ITEM_ID", "TIMESTAMP", "DEVICE"]
    assert spec.get("TIMESTAMP").types == ("long",)
    spec2 = build_schema("Users", [FieldSpec("USER_ID", ("string",)), FieldSpec("AGE", ("int",))], name="Shoppers")
    assert spec2.names == ["USER_ID", "AGE"] and spec2.name == "Shoppers"


def test_build_schema_rejects_duplicates_and_unknown_type():
    with pytest.raises(SchemaError):
        build_schema("Items", [{"name": "ITEM_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"}])
    with pytest.raises(SchemaError):
        ecommerce_schema("Actions")
