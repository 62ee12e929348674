"""CSV import checks (`engine.importer`) in process: bad rows, column mapping, typed values, timestamps.

`test_bad_input.py` sends broken files through CreateDatasetImportJob; these pin each refusal's words,
the line numbers it names and the typed table a good file becomes, so mutation testing can see them.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from engine.avro import parse_schema
from engine.importer import MAX_ID_LENGTH, MAX_SECONDS, ImportFailure, _encoding_problem, check_table, read_csv

INTERACTIONS = parse_schema(json.dumps({"type": "record", "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"},
    {"name": "EVENT_TYPE", "type": ["null", "string"]},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
]}))
ITEMS = parse_schema(json.dumps({"type": "record", "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "PRICE", "type": ["null", "double"]},
    {"name": "STOCK", "type": ["null", "int"]},
    {"name": "ON_SALE", "type": ["null", "boolean"]},
    {"name": "CATEGORY", "type": ["null", "string"], "categorical": True},
    {"name": "BRAND", "type": "string"},
]}))


def interactions(text: str) -> pa.Table:
    return read_csv(text.encode(), INTERACTIONS, "INTERACTIONS")


def items(text: str) -> pa.Table:
    return read_csv(text.encode(), ITEMS, "ITEMS")


def refusal(call, text) -> str:
    with pytest.raises(ImportFailure) as caught:
        call(text)
    return str(caught.value)


# -- a good file -----------------------------------------------------------------------------------
def test_a_good_file_becomes_a_typed_table_in_the_schemas_order():
    table = interactions("ITEM_ID,TIMESTAMP,USER_ID,EVENT_TYPE\n i1 ,+5,u1,view\ni2,1e1,u2,\n")
    assert table.column_names == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"]
    assert table.schema.field("TIMESTAMP").type == pa.int64()
    assert table.to_pydict() == {"USER_ID": ["u1", "u2"], "ITEM_ID": ["i1", "i2"], "TIMESTAMP": [5, 10],
                                 "EVENT_TYPE": ["view", None]}


def test_optional_numbers_booleans_and_strings_keep_empty_values_as_missing():
    table = items("ITEM_ID,PRICE,STOCK,ON_SALE,CATEGORY,BRAND\n"
                  "a,1.5,3,True,x|y,B\n"
                  "b,,,,,B\n"
                  "c,2,4.0,false,z,B\n")
    assert table.schema.field("PRICE").type == pa.float64()
    assert table.schema.field("STOCK").type == pa.int64()
    assert table.schema.field("ON_SALE").type == pa.bool_()
    assert table.to_pydict() == {"ITEM_ID": ["a", "b", "c"], "PRICE": [1.5, None, 2.0], "STOCK": [3, None, 4],
                                 "ON_SALE": [True, None, False], "CATEGORY": ["x|y", None, "z"],
                                 "BRAND": ["B", "B", "B"]}


def test_numbers_the_fast_cast_would_misread_take_the_checked_path():
    table = items("ITEM_ID,PRICE,STOCK,BRAND\na,.5,+7,B\nb,-3.,-2,B\nc,1E2,6.0,B\n")
    assert table.column("PRICE").to_pylist() == [0.5, -3.0, 100.0]
    assert table.column("STOCK").to_pylist() == [7, -2, 6]
    # Arrow's integer cast refuses "+3": whole numbers with a sign are read once the sign is dropped.
    table = items("ITEM_ID,PRICE,STOCK,BRAND\na,1,+3,B\nb,2,,B\nc,3,4,B\n")
    assert table.column("STOCK").to_pylist() == [3, None, 4]


def test_a_pandas_index_column_is_dropped():
    table = items(",ITEM_ID,BRAND\n0,a,B\n1,b,B\n")
    assert table.column_names == ["ITEM_ID", "BRAND"] and table.num_rows == 2


# -- refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_an_empty_file_is_refused(text):
    assert refusal(interactions, text) == "The file is empty."


@pytest.mark.parametrize("data", [
    "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n".encode("utf-16"),
    b"USER_ID,ITEM_ID,TIMESTAMP\nu,i\x00,1\n",
])
def test_utf16_and_binary_files_are_named(data):
    with pytest.raises(ImportFailure, match=r"^The file is UTF-16 \(or binary\), not UTF-8: save it as UTF-8 CSV"):
        read_csv(data, INTERACTIONS, "INTERACTIONS")


def test_a_latin1_byte_is_named_with_its_line_and_column():
    data = "USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1\nu2,café,2\n".encode("latin-1")
    with pytest.raises(ImportFailure) as caught:
        read_csv(data, INTERACTIONS, "INTERACTIONS")
    assert str(caught.value) == ("The file is not UTF-8: byte 0xe9 on line 3, column ITEM_ID cannot be read "
                                 "(latin-1 or cp1252?). Save it as UTF-8.")


@pytest.mark.parametrize(("data", "where"), [
    ("USER_ID,ITEM_ÿD,TIMESTAMP\nu1,i1,1\n".encode("latin-1"), "on line 1 cannot"),
    ("USER_ID\nu1,i1,ÿ\n".encode("latin-1"), "on line 2 cannot"),
])
def test_a_latin1_byte_in_the_header_or_past_its_columns_names_no_column(data, where):
    with pytest.raises(ImportFailure) as caught:
        read_csv(data, INTERACTIONS, "INTERACTIONS")
    assert f"byte 0xff {where}" in str(caught.value)


def test_rows_with_the_wrong_number_of_fields_are_listed_by_line():
    text = "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\nu,i\nu,i,1\nu,i,1,x\n"
    assert refusal(interactions, text) == (
        "2 row(s) do not have the header's number of fields (line 3 has 2 fields, the header 3; "
        "line 5 has 4 fields, the header 3). Is the file truncated, or is a field with a comma not quoted?")


def test_only_the_first_five_wrong_rows_are_listed_and_the_rest_counted():
    text = "USER_ID,ITEM_ID,TIMESTAMP\n" + "u,i\n" * 7
    message = refusal(interactions, text)
    assert message.startswith("7 row(s) do not have the header's number of fields (line 2 has 2 fields")
    assert "line 6 has 2 fields, the header 3; and 2 more)." in message and "line 7" not in message
    five = refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\n" + "u,i\n" * 5)
    assert "line 6 has 2 fields, the header 3)." in five and "more" not in five


def test_an_unreadable_csv_says_so():
    message = refusal(interactions, '"USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n')
    assert message == ("The file is not a readable CSV: CSV parse error: Empty CSV file or block: cannot infer "
                       "number of columns")


def test_header_problems_name_the_columns():
    assert refusal(items, ",,ITEM_ID\n1,2,a\n") == "Column(s) '' appear more than once in the header."
    assert refusal(items, "ITEM_ID,BRAND,BRAND,PRICE,PRICE\na,B,B,1,1\n") == (
        "Column(s) 'BRAND', 'PRICE' appear more than once in the header.")
    assert refusal(items, "ITEM_ID,BRAND,price,COLOUR\na,B,1,red\n") == (
        "Column(s) 'price' (differs only in case from the schema's PRICE), 'COLOUR' are in the file but not in "
        "the dataset's schema (schema fields: ITEM_ID, PRICE, STOCK, ON_SALE, CATEGORY, BRAND). Rename or drop "
        "them, or update the schema.")
    assert refusal(items, "ITEM_ID,PRICE\na,1\n") == (
        "Required column(s) BRAND are missing from the file (its header: ITEM_ID, PRICE).")
    assert refusal(interactions, "ITEM_ID,EVENT_TYPE\na,view\n") == (
        "Required column(s) USER_ID, TIMESTAMP are missing from the file (its header: ITEM_ID, EVENT_TYPE).")
    assert refusal(items, "ITEM_ID,BRAND\n") == "The file has a header but no rows."


def test_an_empty_required_value_names_its_rows():
    text = "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n,i,2\nu,i,3\n  ,i,4\n"
    assert refusal(interactions, text) == (
        "Column USER_ID is empty in 2 row(s) (line 3, 5); every row needs a value there.")
    # BRAND is required by the schema (not nullable) though Items datasets need only ITEM_ID.
    assert refusal(items, "ITEM_ID,BRAND\na,\n") == (
        "Column BRAND is empty in 1 row(s) (line 2); every row needs a value there.")
    many = "USER_ID,ITEM_ID,TIMESTAMP\n" + ",i,1\n" * 8
    assert "(line 2, 3, 4, 5, 6 and 3 more)" in refusal(interactions, many)


@pytest.mark.parametrize(("column", "values", "message"), [
    ("PRICE", ["1", "cheap", "x"], "Column PRICE must be a number (double) but has 'cheap' (line 3, 4)."),
    ("PRICE", ["inf", "1"], "Column PRICE must be a number (double) but has 'inf' (line 2)."),
    ("PRICE", ["NaN", "1"], "Column PRICE must be a number (double) but has 'NaN' (line 2)."),
    ("STOCK", ["0x10", "1"], "Column STOCK must be a number (int) but has '0x10' (line 2)."),
    ("STOCK", ["1", "0X1F"], "Column STOCK must be a number (int) but has '0X1F' (line 3)."),
    ("STOCK", ["1", "2.5", "3", "4.25"], "Column STOCK must be a whole number (int); line 3, 5."),
    ("STOCK", ["99999999999999999999"], "Column STOCK has a number too large for a int."),
    ("STOCK", ["1", "1e30"], "Column STOCK has a number too large for a int."),
    ("PRICE", ["1", "1e999", "-1E400"], "Column PRICE has a number too large for a double (line 3, 4)."),
    ("ON_SALE", ["true", "yes", "FALSE", "1"], "Column ON_SALE must be true or false (line 3, 5)."),
])
def test_a_bad_value_names_its_column_and_rows(column, values, message):
    text = f"ITEM_ID,BRAND,{column}\n" + "".join(f"i{k},B,{v}\n" for k, v in enumerate(values))
    assert refusal(items, text) == message


def test_timestamps_must_be_unix_seconds():
    ok = interactions(f"USER_ID,ITEM_ID,TIMESTAMP\nu,i,{MAX_SECONDS - 1}\nu,i,0\n")
    assert ok.column("TIMESTAMP").to_pylist() == [MAX_SECONDS - 1, 0]
    assert refusal(interactions, f"USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\nu,i,{MAX_SECONDS}\nu,i,1700000000000\n") == (
        f"TIMESTAMP values look like milliseconds or finer (e.g. {MAX_SECONDS}, line 3, 4); Personalize needs "
        "Unix epoch seconds. Divide by 1000.")
    assert refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\nu,i,-1\n") == "TIMESTAMP is negative in line 3."
    assert refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1.5\n") == (
        "Column TIMESTAMP must be a whole number (long); line 2.")


def test_ids_longer_than_the_limit_are_refused_and_other_text_is_not():
    at_limit = "x" * MAX_ID_LENGTH
    table = items(f"ITEM_ID,BRAND\n{at_limit},{'y' * 1000}\n")
    assert table.column("ITEM_ID").to_pylist() == [at_limit]
    assert refusal(items, f"ITEM_ID,BRAND\na,B\n{at_limit}z,B\n") == (
        f"Column ITEM_ID has values longer than {MAX_ID_LENGTH} characters (line 3).")


def test_check_table_reads_non_text_columns_as_text():
    table = pa.table({"ITEM_ID": pa.array([1, 2]), "BRAND": pa.array(["B", "C"]), "PRICE": pa.array([1.5, 2.0])})
    out = check_table(table, ITEMS, "ITEMS")
    assert out.to_pydict() == {"ITEM_ID": ["1", "2"], "PRICE": [1.5, 2.0], "BRAND": ["B", "C"]}


def test_the_utf16_refusal_says_how_to_save_the_file():
    data = "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n".encode("utf-16")
    with pytest.raises(ImportFailure) as caught:
        read_csv(data, INTERACTIONS, "INTERACTIONS")
    assert str(caught.value) == ("The file is UTF-16 (or binary), not UTF-8: save it as UTF-8 CSV "
                                 "(pandas: to_csv(..., encoding='utf-8')).")


@pytest.mark.parametrize(("data", "where"), [
    (b"A,B,C\n1,2,\n,\xe9,3\n", "line 3, column B"),  # the line before ends with a comma
    (b"\nA,B\n1,\xe9\n", "line 3"),  # a blank first line still counts
    (b"A B,C\n1,\xe9\n", "line 2, column C"),  # a header name with a space
    (b"A,B\n1,2,\xe9\n", "line 2"),  # one field more than the header: no column to name
    (b"A,B\n\xe9,2\n", "line 2, column A"),
])
def test_the_line_and_column_of_a_bad_byte(data, where):
    assert _encoding_problem(data) == (f"The file is not UTF-8: byte 0xe9 on {where} cannot be read "
                                       "(latin-1 or cp1252?). Save it as UTF-8.")


def test_hex_in_a_long_column_and_whole_numbers_in_a_float_column():
    assert refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\nu,i,0x10\n") == (
        "Column TIMESTAMP must be a number (long) but has '0x10' (line 2).")
    table = items("ITEM_ID,PRICE,BRAND\na,1,B\nb,2,B\n")
    assert table.schema.field("PRICE").type == pa.float64() and table.column("PRICE").to_pylist() == [1.0, 2.0]


def test_a_whole_number_beyond_float_precision_is_kept_exactly_beside_an_empty_value():
    table = items("ITEM_ID,STOCK,BRAND\na,+9007199254740993,B\nb,,B\n")
    assert table.column("STOCK").to_pylist() == [9007199254740993, None]


def test_six_problems_show_five_and_one_more():
    assert "(line 2, 3, 4, 5, 6 and 1 more)" in refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\n" + ",i,1\n" * 6)
    message = refusal(interactions, "USER_ID,ITEM_ID,TIMESTAMP\n" + "u,i\n" * 6)
    assert message.endswith("line 6 has 2 fields, the header 3; and 1 more). Is the file truncated, or is a "
                            "field with a comma not quoted?")


def test_a_field_of_two_megabytes_is_read_and_a_bad_row_beside_it_is_still_located():
    big = "x" * (2 << 20)  # more than pyarrow's default 1 MB block: one block must hold the row
    table = items(f"ITEM_ID,BRAND\na,{big}\nb,B\n")
    assert table.column("BRAND").to_pylist() == [big, "B"]
    assert refusal(items, f"ITEM_ID,BRAND\na,{big}\nb\n") == (
        "1 row(s) do not have the header's number of fields (line 3 has 1 fields, the header 2). "
        "Is the file truncated, or is a field with a comma not quoted?")


def test_a_latin1_byte_in_a_column_the_schema_lacks_is_refused_for_the_column():
    with pytest.raises(ImportFailure, match=r"^Column\(s\) 'NOTE' are in the file but not in the dataset's schema"):
        read_csv("ITEM_ID,BRAND,NOTE\na,B,café\n".encode("latin-1"), ITEMS, "ITEMS")
