"""Read an uploaded CSV or Parquet file into a DataFrame, with errors a person can act on.

Personalize imports UTF-8 CSV with a header line. The reader says which line is broken rather than
letting a short row silently become empty values.
"""

from __future__ import annotations

import io
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
    source: bytes | str | Path | io.IOBase, filename: str | None = None, encoding: str = "utf-8"
) -> pd.DataFrame:
    """Read CSV or Parquet bytes / a path / a binary file object. Raises `FileReadError`.

    The format is recognised from the content (Parquet starts with PAR1), not the file name. Text
    columns (ids, event types, categories) stay text. `encoding` lets a user read a file saved in
    another encoding (e.g. "cp1252"); Personalize itself needs UTF-8, which `to_csv` writes.
    """
    data = _load_bytes(source)
    label = filename or (str(source) if isinstance(source, str | Path) else "the file")
    if not data.strip():
        raise FileReadError(f"{label} is empty: there is no header and no rows.")
    if data[:4] == b"PAR1":
        return _read_parquet(data, label)
    for signature, what in _SIGNATURES.items():
        if data.startswith(signature):
            raise FileReadError(f"{label} is {what}.")
    return _read_csv(data, label, encoding)


def _read_parquet(data: bytes, label: str) -> pd.DataFrame:
    try:
        return pq.read_table(io.BytesIO(data)).to_pandas()
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
            "Save the file as 'CSV UTF-8' (Personalize needs UTF-8), or pick the file's encoding."
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


def _read_csv(data: bytes, label: str, encoding: str) -> pd.DataFrame:
    data = _decode_check(data, label, encoding)
    header = data.lstrip().split(b"\n", 1)[0].decode("utf-8").strip("\r")
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
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False),  # keeps row numbers known
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
