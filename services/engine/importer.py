"""CSV files into typed Arrow tables, checked against the dataset's schema the way an import job must:
a failure names the column and the first offending rows (as line numbers in the file)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .avro import NUMERIC, REQUIRED_FIELDS, Schema

# Above this a TIMESTAMP is not Unix seconds: 1e11 s is the year 5138, 1e11 ms is 1973.
MAX_SECONDS = 10**11
MAX_ID_LENGTH = 256
SHOWN_ROWS = 5


class ImportFailure(Exception):
    """The file does not fit the schema; the message is the job's failureReason."""


def _lines(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)[:SHOWN_ROWS] + 2  # +1 for 1-based, +1 for the header line
    more = int(mask.sum()) - len(rows)
    text = ", ".join(str(r) for r in rows)
    return f"line {text}" + (f" and {more} more" if more > 0 else "")


def read_csv(data: bytes, schema: Schema, dataset_type: str) -> pa.Table:
    if not data.strip():
        raise ImportFailure("The file is empty.")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in schema.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise ImportFailure(f"The file is not a readable CSV: {exc}".strip()) from exc
    return check_table(table, schema, dataset_type)


def check_table(table: pa.Table, schema: Schema, dataset_type: str) -> pa.Table:
    header = table.column_names
    extra = [c for c in header if schema.field(c) is None]
    if extra:
        raise ImportFailure(
            f"Column(s) {', '.join(extra)} are in the file but not in the dataset's schema "
            f"(schema fields: {', '.join(schema.names)}). Rename or drop them, or update the schema."
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
    columns: dict[str, pa.Array] = {}
    for field in schema.fields:
        if field.name not in header:
            continue
        raw = table.column(field.name).to_numpy(zero_copy_only=False).astype(object)
        text = pd.Series(raw, dtype="string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy()
        if field.name in REQUIRED_FIELDS[dataset_type] or not field.nullable:
            if empty.any():
                raise ImportFailure(
                    f"Column {field.name} is empty in {int(empty.sum())} row(s) ({_lines(empty)}); "
                    "every row needs a value there."
                )
        if field.type in NUMERIC:
            values = pd.to_numeric(text.where(~empty), errors="coerce")
            bad = values.isna().to_numpy() & ~empty
            if bad.any():
                first = text[np.flatnonzero(bad)[0]]
                raise ImportFailure(
                    f"Column {field.name} must be a number ({field.type}) but has {first!r} "
                    f"({_lines(bad)})."
                )
            if field.type in ("int", "long"):
                fractional = (values.notna() & (values % 1 != 0)).to_numpy()
                if fractional.any():
                    raise ImportFailure(
                        f"Column {field.name} must be a whole number ({field.type}); {_lines(fractional)}."
                    )
                arr = pa.array(values.astype("Int64"), type=pa.int64())
            else:
                arr = pa.array(values.astype("Float64"), type=pa.float64())
            if field.name == "TIMESTAMP":
                ts = values.to_numpy(dtype=float, na_value=0)
                too_big = ts >= MAX_SECONDS
                if too_big.any():
                    raise ImportFailure(
                        f"TIMESTAMP values look like milliseconds or finer (e.g. {int(ts[too_big][0])}, "
                        f"{_lines(too_big)}); Personalize needs Unix epoch seconds. Divide by 1000."
                    )
                negative = ts < 0
                if negative.any():
                    raise ImportFailure(f"TIMESTAMP is negative in {_lines(negative)}.")
        elif field.type == "boolean":
            lowered = text.str.lower()
            ok = lowered.isin(["true", "false"]) | pd.Series(empty)
            if not ok.all():
                raise ImportFailure(f"Column {field.name} must be true or false ({_lines(~ok.to_numpy())}).")
            arr = pa.array((lowered == "true").where(~pd.Series(empty)).astype("boolean"), type=pa.bool_())
        else:
            if field.name.endswith("_ID"):
                long_ids = (text.str.len() > MAX_ID_LENGTH).fillna(False).to_numpy()
                if long_ids.any():
                    raise ImportFailure(
                        f"Column {field.name} has values longer than {MAX_ID_LENGTH} characters "
                        f"({_lines(long_ids)})."
                    )
            arr = pa.array(text.where(~pd.Series(empty), None), type=pa.string())
        columns[field.name] = arr
    return pa.table(columns)
