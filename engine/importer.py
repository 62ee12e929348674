"""CSV files into typed Arrow tables, checked against the dataset's schema the way an import job must:
a failure names the column and the first offending rows (as line numbers in the file).

Every check runs on Arrow arrays with pyarrow.compute (no per-row Python, no pandas object columns):
a 1M-row interactions file is read and checked in about the time pyarrow takes to parse it.
"""

from __future__ import annotations

import codecs
import contextlib
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .avro import NUMERIC, REQUIRED_FIELDS, Field, Schema

# Above this a TIMESTAMP is not Unix seconds: 1e11 s is the year 5138, 1e11 ms is 1973.
MAX_SECONDS = 10**11
MAX_ID_LENGTH = 256
SHOWN_ROWS = 5
# The bytes pyarrow reads a CSV in at a time (any block longer than the longest row reads alike).
BLOCK = 1 << 24
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_WHOLE = r"^[+-]?[0-9]+$"


class ImportFailure(Exception):
    """The file does not fit the schema; the message is the job's failureReason."""


def _lines(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)[:SHOWN_ROWS] + 2  # +1 for 1-based, +1 for the header line
    more = int(mask.sum()) - len(rows)
    text = ", ".join(str(r) for r in rows)
    return f"line {text}" + (f" and {more} more" if more > 0 else "")


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _encoding_problem(data: bytes) -> str | None:
    """Name the encoding problem and where it is, if the file is not UTF-8 (Personalize reads UTF-8)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        return ("The file is UTF-16 (or binary), not UTF-8: save it as UTF-8 CSV "
                "(pandas: to_csv(..., encoding='utf-8')).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        # Which column: commas before the byte on its line (good enough to point at the field).
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        header = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
        index = data.count(b",", line_start, exc.start)
        column = f", column {header[index]}" if line > 1 and index < len(header) else ""
        return (f"The file is not UTF-8: byte 0x{bad} on line {line}{column} cannot be read "
                "(latin-1 or cp1252?). Save it as UTF-8.")
    return None


def _row_problems(data: bytes) -> list[str]:
    """Rows whose number of fields is not the header's, with their line numbers (single-threaded
    parsing is what gives pyarrow line numbers, so this only runs once a file has failed)."""
    found: list[str] = []

    def note(row: pacsv.InvalidRow) -> str:
        if len(found) < SHOWN_ROWS:
            found.append(f"line {row.number} has {row.actual_columns} fields, the header {row.expected_columns}")
        return "skip"

    with contextlib.suppress(pa.ArrowInvalid, UnicodeDecodeError):
        pacsv.read_csv(io.BytesIO(data),
                       read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK),
                       parse_options=pacsv.ParseOptions(invalid_row_handler=note))
    return found


def read_csv(data: bytes, schema: Schema, dataset_type: str) -> pa.Table:
    if not data or data.isspace():  # isspace stops at the first other byte; strip() would copy the file
        raise ImportFailure("The file is empty.")
    problem = _encoding_problem(data) if b"\x00" in data[:4096] else None
    if problem:
        raise ImportFailure(problem)
    bad_rows: list[int] = []

    def count_bad(row: pacsv.InvalidRow) -> str:
        bad_rows.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=BLOCK),
            parse_options=pacsv.ParseOptions(invalid_row_handler=count_bad),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in schema.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        problem = _encoding_problem(data)
        if problem:
            raise ImportFailure(problem) from exc
        raise ImportFailure(f"The file is not a readable CSV: {str(exc)[:300]}".strip()) from exc
    if bad_rows:
        # The same parse as the read above, which met these rows (pyarrow re-infers a column whose
        # type a later block breaks, so the types this read infers cannot stop it before them).
        details = "; ".join(_row_problems(data))
        more = len(bad_rows) - SHOWN_ROWS
        raise ImportFailure(
            f"{len(bad_rows)} row(s) do not have the header's number of fields ({details}"
            + (f"; and {more} more" if more > 0 else "")
            + "). Is the file truncated, or is a field with a comma not quoted?"
        )
    try:
        return check_table(table, schema, dataset_type)
    except UnicodeDecodeError as exc:  # pyarrow decodes the header's names only when they are read
        raise ImportFailure(_encoding_problem(data) or f"The file is not UTF-8: {exc}.") from exc


def _unknown_column(name: str, schema: Schema) -> str:
    """A header name the schema does not have, quoted (an empty one stays visible), with the schema field
    it differs from only in case, if any."""
    same = next((f for f in schema.names if f.lower() == name.lower()), None)
    return f"{name!r} (differs only in case from the schema's {same})" if same else repr(name)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(column)


def _fast_numeric(field: Field, present: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The common case in one cast: Arrow's parser is stricter than pandas except that it reads hex
    (0x10) as an integer and inf/nan as floats, which Personalize does not; those letters send the
    column down the checked path instead."""
    letters = "x" if field.type in ("int", "long") else "n"  # 0x.., inf / nan (case-insensitive)
    if _mask(pc.match_substring(present, letters, ignore_case=True)).any():
        return None
    try:
        return pc.cast(present, pa.int64() if field.type in ("int", "long") else pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _numeric(field: Field, text: pa.ChunkedArray, empty: np.ndarray) -> pa.ChunkedArray:
    values = _parsed_numeric(field, text, empty)
    if pa.types.is_floating(values.type):
        # "1e999" is a well-formed number that overflows to infinity, which the text "inf" may not be.
        huge = _mask(pc.is_inf(values))
        if huge.any():
            raise ImportFailure(f"Column {field.name} has a number too large for a {field.type} ({_lines(huge)}).")
    return values


def _parsed_numeric(field: Field, text: pa.ChunkedArray, empty: np.ndarray) -> pa.ChunkedArray:
    present = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text) if empty.any() else text
    fast = _fast_numeric(field, present)
    if fast is not None:
        return fast
    bad = _mask(pc.invert(pc.match_substring_regex(present, _NUMBER)))
    if bad.any():
        first = text[int(np.flatnonzero(bad)[0])].as_py()
        raise ImportFailure(
            f"Column {field.name} must be a number ({field.type}) but has {first!r} ({_lines(bad)})."
        )
    present = pc.replace_substring_regex(present, r"^\+", "")  # Arrow's integer cast refuses "+3"
    if field.type in ("int", "long"):
        if _mask(pc.match_substring_regex(present, _WHOLE)).sum() == len(text) - int(empty.sum()):
            try:
                return pc.cast(present, pa.int64())
            except pa.ArrowInvalid as exc:
                raise ImportFailure(f"Column {field.name} has a number too large for a {field.type}.") from exc
        floats = pc.cast(present, pa.float64())
        fractional = _mask(pc.not_equal(pc.floor(floats), floats))
        if fractional.any():
            raise ImportFailure(f"Column {field.name} must be a whole number ({field.type}); {_lines(fractional)}.")
        try:
            return pc.cast(floats, pa.int64())
        except pa.ArrowInvalid as exc:
            raise ImportFailure(f"Column {field.name} has a number too large for a {field.type}.") from exc
    return pc.cast(present, pa.float64())


def check_table(table: pa.Table, schema: Schema, dataset_type: str) -> pa.Table:
    header = table.column_names
    if header and header[0] == "" and header.count("") == 1:
        # pandas' `to_csv` without index=False writes its index first, under an empty header; two of AWS's
        # sample notebooks import such files, so that one column is dropped rather than refused.
        table = table.remove_column(0)
        header = table.column_names
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ImportFailure(f"Column(s) {', '.join(map(repr, duplicated))} appear more than once in the header.")
    extra = [c for c in header if schema.field(c) is None]
    if extra:
        raise ImportFailure(
            f"Column(s) {', '.join(_unknown_column(c, schema) for c in extra)} are in the file but not in the "
            f"dataset's schema (schema fields: {', '.join(schema.names)}). Rename or drop them, or update the schema."
        )
    missing = [f.name for f in schema.fields if f.name not in header and not f.nullable]
    if missing:
        raise ImportFailure(
            f"Required column(s) {', '.join(missing)} are missing from the file "
            f"(its header: {', '.join(header)})."
        )
    n = table.num_rows
    if n == 0:
        raise ImportFailure("The file has a header but no rows.")
    columns: dict[str, pa.ChunkedArray] = {}
    for field in schema.fields:
        if field.name not in header:
            continue
        text = _as_text(table.column(field.name))
        empty = _mask(pc.or_kleene(pc.is_null(text), pc.equal(text, "")))
        if (field.name in REQUIRED_FIELDS[dataset_type] or not field.nullable) and empty.any():
            raise ImportFailure(
                f"Column {field.name} is empty in {int(empty.sum())} row(s) ({_lines(empty)}); "
                "every row needs a value there."
            )
        if field.type in NUMERIC:
            arr = _numeric(field, text, empty)
            if field.name == "TIMESTAMP":
                too_big = _mask(pc.greater_equal(arr, MAX_SECONDS))
                if too_big.any():
                    first = arr[int(np.flatnonzero(too_big)[0])].as_py()
                    raise ImportFailure(
                        f"TIMESTAMP values look like milliseconds or finer (e.g. {int(first)}, "
                        f"{_lines(too_big)}); Personalize needs Unix epoch seconds. Divide by 1000."
                    )
                negative = _mask(pc.less(arr, 0))
                if negative.any():
                    raise ImportFailure(f"TIMESTAMP is negative in {_lines(negative)}.")
        elif field.type == "boolean":
            lowered = pc.utf8_lower(text)
            ok = _mask(pc.is_in(lowered, pa.array(["true", "false"]))) | empty
            if not ok.all():
                raise ImportFailure(f"Column {field.name} must be true or false ({_lines(~ok)}).")
            arr = pc.if_else(pa.array(empty), pa.scalar(None, pa.bool_()), pc.equal(lowered, "true"))
        else:
            if field.name.endswith("_ID"):
                long_ids = _mask(pc.greater(pc.utf8_length(text), MAX_ID_LENGTH))
                if long_ids.any():
                    raise ImportFailure(
                        f"Column {field.name} has values longer than {MAX_ID_LENGTH} characters "
                        f"({_lines(long_ids)})."
                    )
            arr = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text) if empty.any() else text
        columns[field.name] = arr
    return pa.table(columns)
