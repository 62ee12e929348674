"""Read an uploaded CSV or Parquet file into a DataFrame, with errors a person can act on.

Personalize imports UTF-8 CSV with a header line. The reader says which line is broken rather than
letting a short row silently become empty values.

An upload is sized before it is materialised: a Parquet file from its metadata (a few hundred KB of
run-length-encoded zeros can hold 100 million rows), a CSV file by a streaming pass over one column.
Files over the limits, or with nested (list, struct, map) columns that no Personalize schema can
hold, are refused with a message that says which limit and what to do.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Ids are text in Personalize: reading "007" as the number 7 would corrupt them.
TEXT_COLUMNS = ("USER_ID", "ITEM_ID", "EVENT_TYPE", "CATEGORY_L1", "CATEGORY_L2", "CATEGORY_L3")
_MAX_LISTED_LINES = 5
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Excel workbook (.xlsx); save it as CSV (UTF-8) instead",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls); save it as CSV (UTF-8) instead",
    b"\x1f\x8b": "a gzip archive; unpack it first",
    b"%PDF": "a PDF document, not a data file",
}


class FileReadError(ValueError):
    """The upload cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class UploadLimits:
    """How large an upload may become in memory. Defaults from PERSONALIZE_UPLOAD_MAX_ROWS,
    PERSONALIZE_UPLOAD_MAX_BYTES and PERSONALIZE_UPLOAD_MAX_COLUMNS."""

    max_rows: int = 5_000_000
    max_bytes: int = 1 << 30  # estimated size of the table in memory
    max_columns: int = 1_000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> UploadLimits:
        env = dict(os.environ) if env is None else env
        default = cls()

        def number(name: str, fallback: int) -> int:
            raw = env.get(name, "").replace("_", "").strip()
            return int(raw) if raw.isdigit() and int(raw) > 0 else fallback

        return cls(number("PERSONALIZE_UPLOAD_MAX_ROWS", default.max_rows),
                   number("PERSONALIZE_UPLOAD_MAX_BYTES", default.max_bytes),
                   number("PERSONALIZE_UPLOAD_MAX_COLUMNS", default.max_columns))


# A Python string object in a pandas column costs about this much beyond its characters.
_OBJECT_OVERHEAD = 50
_BIG_FILE_HINT = ("Split the file, or import a large file from S3 or MongoDB: the dashboard holds an upload in "
                  "memory to check it.")


def _load_bytes(source: bytes | str | Path | io.IOBase) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        try:
            return Path(source).read_bytes()
        except FileNotFoundError as exc:
            raise FileReadError(f"There is no file at {source}.") from exc
    return source.read()  # Streamlit's UploadedFile and other binary file objects


def read_upload(
    source: bytes | str | Path | io.IOBase, filename: str | None = None, encoding: str = "utf-8",
    limits: UploadLimits | None = None,
) -> pd.DataFrame:
    """Read CSV or Parquet bytes / a path / a binary file object. Raises `FileReadError`.

    The format is recognised from the content (Parquet starts with PAR1), not the file name. Text
    columns (ids, event types, categories) stay text. `encoding` lets a user read a file saved in
    another encoding (e.g. "cp1252"); Personalize itself needs UTF-8, which `to_csv` writes.
    """
    limits = limits or UploadLimits.from_env()
    data = _load_bytes(source)
    label = filename or (str(source) if isinstance(source, str | Path) else "the file")
    if not data.strip():
        raise FileReadError(f"{label} is empty: there is no header and no rows.")
    if data[:4] == b"PAR1":
        return _read_parquet(data, label, limits)
    for signature, what in _SIGNATURES.items():
        if data.startswith(signature):
            raise FileReadError(f"{label} is {what}.")
    return _read_csv(data, label, encoding, limits)


def _too_big(label: str, what: str) -> FileReadError:
    return FileReadError(f"{label} is too large to check here: {what}. {_BIG_FILE_HINT}")


def _parquet_memory(meta: pq.FileMetaData, schema: pa.Schema) -> int:
    """The table's size in memory once read, estimated from the metadata alone."""
    rows = meta.num_rows
    total = 0
    for index, field in enumerate(schema):
        try:
            width = field.type.bit_width // 8
        except ValueError:  # variable width: its encoded bytes plus a Python object a value
            width = 0
        if width:
            total += rows * width
            continue
        encoded = sum(meta.row_group(g).column(index).total_uncompressed_size for g in range(meta.num_row_groups))
        total += encoded + rows * _OBJECT_OVERHEAD
    return total


def _check_parquet(file: pq.ParquetFile, label: str, limits: UploadLimits) -> None:
    meta, schema = file.metadata, file.schema_arrow
    nested = [f"{field.name} ({field.type})" for field in schema if pa.types.is_nested(field.type)]
    if nested:
        raise FileReadError(
            f"{label} has nested columns, which no Personalize schema can hold: {', '.join(nested[:5])}"
            f"{' and more' if len(nested) > 5 else ''}. Flatten them into plain columns (for a list, e.g. the "
            "values joined with '|' as Personalize's categorical fields expect) and upload it again."
        )
    if len(schema) > limits.max_columns:
        raise _too_big(label, f"{len(schema):,} columns (the limit is {limits.max_columns:,})")
    if meta.num_rows > limits.max_rows:
        raise _too_big(label, f"{meta.num_rows:,} rows (the limit is {limits.max_rows:,})")
    estimate = _parquet_memory(meta, schema)
    if estimate > limits.max_bytes:
        raise _too_big(label, f"about {estimate / 2**20:,.0f} MB once read (the limit is "
                              f"{limits.max_bytes / 2**20:,.0f} MB)")


def _read_parquet(data: bytes, label: str, limits: UploadLimits) -> pd.DataFrame:
    try:
        file = pq.ParquetFile(io.BytesIO(data))
        _check_parquet(file, label, limits)
        return file.read().to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise FileReadError(f"{label} starts like Parquet but cannot be read ({exc}); it may be truncated.") from exc


def _decode_check(data: bytes, label: str, encoding: str) -> bytes:
    """Return UTF-8 bytes; fail naming the first line that is not valid in `encoding`."""
    if b"\x00" in data[:4096]:
        raise FileReadError(f"{label} is not a text file (it contains binary data). Upload a CSV or Parquet file.")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileReadError(
            f"{label} is not valid {encoding.upper()} text: line {line} has the byte "
            f"0x{data[exc.start]:02x}. "
            "Personalize needs UTF-8: save the file as 'CSV UTF-8' (in Excel: Save As, 'CSV UTF-8') and upload "
            "it again."
        ) from exc
    except LookupError as exc:
        raise FileReadError(f"Unknown encoding {encoding!r}.") from exc
    if text.startswith("\ufeff"):
        text = text[1:]  # Excel's UTF-8 byte order mark would end up in the first column name
    return (
        data
        if encoding.lower().replace("-", "") == "utf8" and not data.startswith(b"\xef\xbb\xbf")
        else text.encode("utf-8")
    )


def _count_csv_rows(data: bytes, label: str, limits: UploadLimits, first: str,
                    read_options: pacsv.ReadOptions) -> None:
    """Count the rows in a streaming pass that converts one column: memory stays one block, however
    many rows the file holds; a file over the row limit is refused before any table is built."""
    reader = pacsv.open_csv(
        io.BytesIO(data), read_options=read_options,
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(include_columns=[first], column_types={first: pa.string()}),
    )
    rows = 0
    for batch in reader:
        rows += batch.num_rows
        if rows > limits.max_rows:
            raise _too_big(label, f"more than {limits.max_rows:,} rows")


def _read_csv(data: bytes, label: str, encoding: str, limits: UploadLimits) -> pd.DataFrame:
    data = _decode_check(data, label, encoding)
    header = data.lstrip().split(b"\n", 1)[0].decode("utf-8").strip("\r")
    columns = next(csv.reader([header]), [])
    if len(columns) > limits.max_columns:
        raise FileReadError(
            f"{label} has {len(columns):,} columns in its header line; the dashboard reads at most "
            f"{limits.max_columns:,}. Keep only the columns of the dataset's schema and upload it again."
        )
    # A block must hold the header line whole, or Arrow reports an "empty CSV file or block".
    read_options = pacsv.ReadOptions(use_threads=False, block_size=max(1 << 20, 2 * len(header) + 2))
    if header[:1] in ("{", "["):
        raise FileReadError(f"{label} looks like JSON, not CSV. Export the data as CSV with a header line.")
    if "," not in header:
        for sep, name in (("\t", "tabs"), (";", "semicolons"), ("|", "vertical bars")):
            if sep in header:
                raise FileReadError(
                    f"{label} separates values with {name}; Personalize needs commas. Export it again as CSV."
                )
    bad_rows: list[tuple[int | None, int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    text_types = {c: pa.string() for c in TEXT_COLUMNS}
    try:
        if columns:
            _count_csv_rows(data, label, limits, columns[0], read_options)
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=read_options,  # one thread keeps row numbers known
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=text_types, strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        raise FileReadError(f"{label} cannot be read as CSV: {exc}") from exc
    if bad_rows:
        listed = "; ".join(
            f"line {n if n is not None else '?'} has {got} field{'s' if got != 1 else ''} instead of {want}"
            for n, want, got in bad_rows[:_MAX_LISTED_LINES]
        )
        more = (
            f" ({len(bad_rows) - _MAX_LISTED_LINES} more lines like this)" if len(bad_rows) > _MAX_LISTED_LINES else ""
        )
        raise FileReadError(
            f"{label} has rows with the wrong number of fields: {listed}{more}. The file may be truncated, "
            "or a value contains a comma without quotes around it."
        )
    df = table.to_pandas()
    if df.empty:
        raise FileReadError(f"{label} has a header ({', '.join(map(str, df.columns))}) but no rows.")
    return df
