"""Validation's findings as a person reads them (severity, column, rows, the whole message with what to do),
and the columns a real file brings that the hand-made frames elsewhere do not: booleans, datetimes,
integer ids, nullable integers, object columns of numbers, values exactly at a limit. Written from the
survivors of `python -m bench.mutation --module validation`; every test is a plain function call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.data.schemas import FieldSpec, build_schema, ecommerce_schema
from services.data.validation import fix_timestamps, to_unix_seconds, validate

NOW = 1_750_000_000
INTERACTIONS = ecommerce_schema("Interactions")
T = 1_700_000_000


def events(**overrides) -> pd.DataFrame:
    base = {
        "USER_ID": ["u1", "u2", "u3", "u4"],
        "ITEM_ID": ["i1", "i2", "i3", "i4"],
        "TIMESTAMP": [T, T + 100, T + 200, T + 300],
        "EVENT_TYPE": ["view", "click", "purchase", "view"],
        "EVENT_VALUE": [np.nan, np.nan, 19.99, np.nan],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def only(report, code: str):
    matching = [f for f in report.findings if f.code == code]
    assert len(matching) == 1, report.summary()
    return matching[0]


# -- the file's columns against the schema -------------------------------------------------------------
def test_missing_columns_are_named_together_with_what_to_do():
    report = validate(events().drop(columns=["TIMESTAMP", "ITEM_ID", "EVENT_VALUE"]), INTERACTIONS,
                      "Interactions", now=NOW)
    required = only(report, "missing_column")
    assert required.severity == "error"
    assert required.message == (
        "The file has no column ITEM_ID, TIMESTAMP, which the schema requires. Add the column (the header must "
        "be spelled exactly like the schema) or choose another schema.")
    optional = only(report, "missing_optional_column")
    assert optional.message == ("The file has no column EVENT_VALUE; the schema allows it to be empty, so it "
                                "will be imported as empty.")


def test_a_schema_without_the_required_fields_says_which_and_what_to_do():
    schema = build_schema("Interactions", [])
    schema = schema.__class__(schema.name, tuple(f for f in schema.fields if f.name not in ("USER_ID", "ITEM_ID")))
    report = validate(events(), schema, "interactions", now=NOW)
    finding = only(report, "schema_missing_required_field")
    assert finding.severity == "error"
    assert finding.message == ("The schema has no USER_ID, ITEM_ID field, which a Interactions dataset must have. "
                               "Pick a schema that includes it.")


def test_extra_columns_read_in_the_singular_and_the_plural():
    one = only(validate(events(COLOR=list("rgbk")), INTERACTIONS, "Interactions", now=NOW), "extra_column")
    assert one.severity == "warning"
    assert one.message == ("The column COLOR is not in the schema and will be left out of the upload. "
                           "Add them to the schema if the model should use them.")
    two = only(validate(events(COLOR=list("rgbk"), SIZE=list("smlx")), INTERACTIONS, "Interactions", now=NOW),
               "extra_column")
    assert two.message.startswith("The columns COLOR, SIZE are not in the schema")


# -- row numbers and samples ---------------------------------------------------------------------------
def test_rows_are_listed_up_to_five_then_counted():
    def message_for(blank_rows: int) -> str:
        ids = [""] * blank_rows + [f"u{i}" for i in range(8 - blank_rows)]
        frame = pd.DataFrame({"USER_ID": ids, "ITEM_ID": [f"i{i}" for i in range(8)], "TIMESTAMP": [T] * 8,
                              "EVENT_TYPE": ["view"] * 8, "EVENT_VALUE": [1.0] * 8})
        return only(validate(frame, INTERACTIONS, "Interactions", now=NOW), "empty_id").message

    prefix = "USER_ID is empty; every row needs one. Fill it in or delete these rows"
    assert message_for(1) == f"{prefix} (row 2)."
    assert message_for(5) == f"{prefix} (rows 2, 3, 4, 5, 6)."
    assert message_for(6) == f"{prefix} (rows 2, 3, 4, 5, 6 and 1 more)."
    assert message_for(7) == f"{prefix} (rows 2, 3, 4, 5, 6 and 2 more)."


def test_a_findings_sample_shows_whole_rows_indexed_by_their_row_number():
    finding = only(validate(events(USER_ID=["u1", "", "u3", None]), INTERACTIONS, "Interactions", now=NOW),
                   "empty_id")
    assert finding.column == "USER_ID" and finding.severity == "error"
    assert finding.sample.index.name == "row" and finding.sample.index.tolist() == [3, 5]
    assert finding.sample.columns.tolist() == events().columns.tolist()
    assert finding.sample["ITEM_ID"].tolist() == ["i2", "i4"]


def test_empty_event_types_say_what_to_fill_in():
    finding = only(validate(events(EVENT_TYPE=["view", "", "click", "view"]), INTERACTIONS, "Interactions",
                            now=NOW), "empty_event_type")
    assert finding.column == "EVENT_TYPE"
    assert finding.message == ("EVENT_TYPE is empty although the schema has it. Fill in the event (e.g. view, "
                               "purchase) or delete these rows (row 3).")


# -- fields that may not be null, booleans, lengths -----------------------------------------------------
def items(**columns) -> pd.DataFrame:
    return pd.DataFrame({"ITEM_ID": [f"i{i}" for i in range(len(next(iter(columns.values()))))], **columns})


def test_an_empty_value_in_a_field_that_does_not_allow_null_is_an_error():
    schema = build_schema("Items", [{"name": "BRAND", "type": "string"}])
    report = validate(items(BRAND=["acme", " ", None, "zeta"]), schema, "Items", now=NOW)
    finding = only(report, "null_value")
    assert not report.ok and finding.severity == "error" and finding.column == "BRAND"
    assert finding.row_numbers.tolist() == [3, 4]
    assert finding.message == ("BRAND is empty but the schema does not allow null. Fill it in, or make the field "
                               "nullable in the schema (rows 3, 4).")
    nullable = build_schema("Items", [{"name": "BRAND", "type": ["null", "string"]}])
    assert validate(items(BRAND=["acme", " ", None, "zeta"]), nullable, "Items", now=NOW).findings == []


def test_boolean_text_is_read_without_case_or_spaces_and_anything_else_is_flagged():
    schema = build_schema("Items", [{"name": "ON_SALE", "type": ["null", "boolean"]}])
    report = validate(items(ON_SALE=["true", " FALSE ", "True", "yes", None, "0"]), schema, "Items", now=NOW)
    finding = only(report, "wrong_type")
    assert finding.severity == "error" and finding.column == "ON_SALE"
    assert finding.row_numbers.tolist() == [5, 7]
    assert finding.message == "ON_SALE must be true or false (rows 5, 7)."
    assert validate(items(ON_SALE=["true", "false", None]), schema, "Items", now=NOW).findings == []


def test_boolean_columns_pass_as_booleans_and_as_numbers():
    schema = build_schema("Items", [{"name": "ON_SALE", "type": "boolean"}, {"name": "PRICE", "type": "float"}])
    report = validate(items(ON_SALE=[True, False, True], PRICE=[True, False, True]), schema, "Items", now=NOW)
    assert report.findings == []


@pytest.mark.parametrize(("spec", "limit"), [
    ({"name": "BRAND", "type": "string", "categorical": True}, 1000),
    ({"name": "DESCRIPTION", "type": ["null", "string"], "textual": True}, 20_000),
    ({"name": "SKU", "type": "string"}, 256),
])
def test_each_kind_of_text_field_has_its_own_length_limit(spec, limit):
    schema = build_schema("Items", [spec])
    name = spec["name"]
    report = validate(items(**{name: ["x" * limit, "x" * (limit + 1), "y"]}), schema, "Items", now=NOW)
    finding = only(report, "field_too_long")
    assert finding.column == name and finding.row_numbers.tolist() == [3]
    assert finding.message == (f"{name} is longer than {limit:,} characters, the Personalize limit; shorten "
                               "these values (row 3).")


def test_a_missing_value_is_not_too_long():
    schema = build_schema("Items", [{"name": "DESCRIPTION", "type": ["null", "string"], "textual": True}])
    for dtype in (object, "string"):
        frame = items(DESCRIPTION=pd.Series(["short", None], dtype=dtype))
        assert validate(frame, schema, "Items", now=NOW).findings == []


def test_numeric_and_object_ids_are_checked_as_text():
    # MongoDB and Parquet exports hand over integer ids, sometimes as Python ints in an object column.
    for ids in (pd.Series([1, 2, 2, 3]), pd.Series([1, 2, 2, 3], dtype=object)):
        report = validate(pd.DataFrame({"ITEM_ID": ids}), build_schema("Items", []), "Items", now=NOW)
        assert only(report, "duplicate_id").row_numbers.tolist() == [4]
        assert report.ok
    long_id = pd.Series([10**300, 1], dtype=object)  # 301 digits
    report = validate(pd.DataFrame({"ITEM_ID": long_id}), build_schema("Items", []), "Items", now=NOW)
    assert only(report, "field_too_long").row_numbers.tolist() == [2]


# -- numbers and timestamps ----------------------------------------------------------------------------
def test_text_in_a_number_field_explains_itself_and_timestamps_point_to_the_fix():
    report = validate(events(TIMESTAMP=[str(T), "yesterday", str(T), str(T)], EVENT_VALUE=["1", "2", "lots", "3"]),
                      INTERACTIONS, "Interactions", now=NOW)
    by_column = {f.column: f for f in report.findings if f.code == "wrong_type"}
    assert by_column["TIMESTAMP"].message == (
        "TIMESTAMP must be a number (long) but is text. If these are dates, the timestamp fix converts them to "
        "Unix seconds (row 3).")
    assert by_column["EVENT_VALUE"].message == "EVENT_VALUE must be a number (float) but is text (row 4)."


def test_a_fraction_in_a_whole_number_field_says_so():
    finding = only(validate(events(TIMESTAMP=[T, T + 0.5, T, T]), INTERACTIONS, "Interactions", now=NOW),
                   "not_whole_number")
    assert finding.column == "TIMESTAMP" and finding.severity == "error"
    assert finding.message == "TIMESTAMP must be a whole number (long); round or truncate it (row 3)."


def test_unit_bounds_are_inclusive_below_and_exclusive_above():
    report = validate(events(TIMESTAMP=[T, 10**11, 10**14, 10**17]), INTERACTIONS, "Interactions", now=NOW)
    assert only(report, "timestamp_milliseconds").row_numbers.tolist() == [3]
    assert only(report, "timestamp_microseconds").row_numbers.tolist() == [4]
    assert only(report, "timestamp_nanoseconds").row_numbers.tolist() == [5]
    assert "future_timestamp" not in report.codes()  # 1e11 is milliseconds, not seconds far ahead
    finding = only(report, "timestamp_milliseconds")
    assert finding.column == "TIMESTAMP" and finding.message == (
        "TIMESTAMP looks like milliseconds, but Personalize expects Unix seconds (10 digits around now). Use the "
        "timestamp fix to divide by the right power of ten (row 3).")


def test_now_itself_is_not_the_future_and_zero_is_not_negative():
    report = validate(events(TIMESTAMP=[NOW, NOW + 1, 0, -1]), INTERACTIONS, "Interactions", now=NOW)
    future = only(report, "future_timestamp")
    assert future.row_numbers.tolist() == [3] and future.column == "TIMESTAMP"
    assert future.message == ("TIMESTAMP is in the future; check the clock or time zone of the source. "
                              "Personalize may treat these events as the most recent ones (row 3).")
    negative = only(report, "negative_timestamp")
    assert negative.severity == "error" and negative.column == "TIMESTAMP"
    assert negative.row_numbers.tolist() == [5]
    assert negative.message == "TIMESTAMP is negative; use Unix seconds since 1970 (row 5)."


def test_a_datetime_column_is_sent_to_the_timestamp_fix_not_crashed_on():
    # Read as numbers, datetimes are counts of their resolution's unit (pandas picks it), never seconds.
    stamps = pd.to_datetime([T, T + 100, T + 200, T + 300], unit="s")
    report = validate(events(TIMESTAMP=stamps), INTERACTIONS, "Interactions", now=NOW)
    assert len(report.findings) == 1 and report.findings[0].code.startswith("timestamp_")
    assert report.findings[0].row_numbers.tolist() == [2, 3, 4, 5]
    assert validate(fix_timestamps(events(TIMESTAMP=stamps)), INTERACTIONS, "Interactions", now=NOW).findings == []


def test_nullable_integer_timestamps_with_gaps_are_read():
    stamps = pd.Series([T, pd.NA, T + 200, T + 300], dtype="Int64")
    report = validate(events(TIMESTAMP=stamps), INTERACTIONS, "Interactions", now=NOW)
    assert only(report, "null_value").row_numbers.tolist() == [3]
    assert report.codes() == {"null_value"}


# -- duplicates ----------------------------------------------------------------------------------------
def test_duplicate_events_count_rows_in_words():
    one = pd.concat([events(), events().iloc[[0]]], ignore_index=True)
    finding = only(validate(one, INTERACTIONS, "Interactions", now=NOW), "duplicate_events")
    assert finding.severity == "warning" and finding.column is None
    assert finding.message == ("1 row repeats an earlier row exactly (same user, item, time and event). They "
                               "inflate popularity; drop the duplicates before importing (row 6).")
    two = pd.concat([events(), events().iloc[[0, 1]]], ignore_index=True)
    assert only(validate(two, INTERACTIONS, "Interactions", now=NOW), "duplicate_events").message.startswith(
        "2 rows repeat an earlier row exactly")


# -- the timestamp fix on what exports hand over ----------------------------------------------------------
def test_datetimes_become_seconds_rounded_down_and_missing_ones_stay_missing():
    naive = pd.Series(pd.to_datetime(["1971-01-01 00:00:00", None, "2023-11-14 22:13:20.900"], format="ISO8601"))
    assert to_unix_seconds(naive).tolist() == [31_536_000, pd.NA, T]
    aware = naive.dt.tz_localize("Europe/Paris")
    assert to_unix_seconds(aware).tolist() == [31_536_000 - 3600, pd.NA, T - 3600]


def test_date_text_in_mixed_formats_and_offsets_is_read_in_utc():
    text = pd.Series(["2023-11-14T22:13:20Z", "2023-11-14T23:13:20+01:00", "14 Nov 2023 22:13:20", str(T),
                      "2023-11-14T22:13:20.900Z"])
    assert to_unix_seconds(text).tolist() == [T, T, T, T, T]


def test_a_field_spec_built_by_hand_is_validated_like_a_parsed_one():
    schema = build_schema("Items", [FieldSpec("STOCK", ("int",), nullable=True)])
    report = validate(items(STOCK=[1, 2.5, None]), schema, "Items", now=NOW)
    assert only(report, "not_whole_number").row_numbers.tolist() == [3]


# -- the report ----------------------------------------------------------------------------------------
def test_the_report_puts_errors_first_then_warnings_then_infos_and_knows_its_rows():
    frame = events(USER_ID=["", "u2", "u3", "u4"], COLOR=list("rgbk")).drop(columns=["EVENT_VALUE"])
    report = validate(frame, INTERACTIONS, "interactions", now=NOW)
    assert [f.severity for f in report.findings] == ["error", "warning", "info"]
    assert [f.code for f in report.findings] == ["empty_id", "extra_column", "missing_optional_column"]
    assert (report.dataset_type, report.rows) == ("INTERACTIONS", 4)
    assert report.by_code("no_such_code") is None
    summary = report.summary()
    assert summary.columns.tolist() == ["severity", "code", "column", "rows", "message"]
    assert summary.iloc[0].to_dict() == {"severity": "error", "code": "empty_id", "column": "USER_ID", "rows": 1,
                                         "message": report.findings[0].message}


def test_an_empty_file_says_there_is_nothing_to_import():
    report = validate(events().iloc[:0], INTERACTIONS, "Items", now=NOW)
    assert (report.dataset_type, report.rows) == ("ITEMS", 0)
    assert only(report, "empty_file").message == "The file has a header but no rows; there is nothing to import."


def test_two_optional_columns_missing_are_named_together():
    schema = build_schema("Items", [{"name": "BRAND", "type": ["null", "string"]},
                                    {"name": "SIZE", "type": ["null", "string"]}])
    finding = only(validate(items(PRICE=[1.0]).drop(columns=["PRICE"]), schema, "Items", now=NOW),
                   "missing_optional_column")
    assert finding.message.startswith("The file has no column BRAND, SIZE; ")


def test_without_a_now_the_clock_decides_what_is_in_the_future():
    import time

    ahead = int(time.time()) + 30 * 86400
    report = validate(events(TIMESTAMP=[T, ahead, T, T]), INTERACTIONS, "Interactions")
    assert only(report, "future_timestamp").row_numbers.tolist() == [3]


def test_an_id_column_the_schema_forgot_is_still_checked():
    schema = build_schema("Items", [{"name": "PRICE", "type": "float"}])
    schema = schema.__class__(schema.name, tuple(f for f in schema.fields if f.name != "ITEM_ID"))
    report = validate(items(PRICE=[1.0, 2.0, 3.0]).assign(ITEM_ID=["i1", "", "i1"]), schema, "Items", now=NOW)
    assert only(report, "empty_id").row_numbers.tolist() == [3]
    duplicate = only(report, "duplicate_id")
    assert duplicate.severity == "warning" and duplicate.column == "ITEM_ID"
    assert duplicate.message == ("ITEM_ID appears more than once; Personalize keeps one record per id, so keep only "
                                 "the latest row for each (row 4).")


def test_the_fix_keeps_each_value_on_its_own_row_in_a_filtered_frame():
    frame = events(TIMESTAMP=[T * 1000, T + 100, (T + 200) * 1000, T + 300]).iloc[[3, 2, 0]]
    fixed = fix_timestamps(frame)
    assert fixed.index.tolist() == [3, 2, 0]
    assert fixed["TIMESTAMP"].tolist() == [T + 300, T + 200, T]


def test_the_timestamp_conversion_uses_no_deprecated_pandas_spelling():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecated alias today is an error in the next pandas
        assert to_unix_seconds(pd.Series(pd.to_datetime([T], unit="s"))).tolist() == [T]
        assert to_unix_seconds(pd.Series(["2023-11-14T22:13:20Z"])).tolist() == [T]


def test_a_clean_report_still_has_the_summary_columns():
    summary = validate(events(), INTERACTIONS, "Interactions", now=NOW).summary()
    assert summary.empty and summary.columns.tolist() == ["severity", "code", "column", "rows", "message"]
