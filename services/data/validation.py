"""Check a DataFrame against a Personalize schema before it is uploaded, and fix what can be fixed.

Every finding says what is wrong, where (row numbers as a spreadsheet shows them: line 1 is the
header, so the first data row is 2), and what to do. Checks are vectorised so a 1M-row file is
validated in about a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from services.core.wording import count, verb
from services.data.schemas import REQUIRED_FIELDS, FieldSpec, SchemaSpec, normalize_dataset_type

Severity = Literal["error", "warning", "info"]

# AWS limits: string ids up to 256 characters, categorical values up to 1,000, textual up to 20,000.
MAX_ID_LENGTH = 256
MAX_CATEGORICAL_LENGTH = 1000
MAX_TEXTUAL_LENGTH = 20_000
ID_FIELDS = ("USER_ID", "ITEM_ID")
TIMESTAMP_FIELDS = ("TIMESTAMP", "CREATION_TIMESTAMP")
SAMPLE_ROWS = 5

# Epoch values by magnitude. Seconds reach 1e11 only in the year 5138, so anything larger is a finer
# unit: milliseconds (JavaScript, MongoDB dates), microseconds, nanoseconds (pandas datetime64).
_UNIT_BOUNDS = ((1e17, "nanoseconds", 10**9), (1e14, "microseconds", 10**6), (1e11, "milliseconds", 10**3))


@dataclass
class Finding:
    severity: Severity
    code: str
    message: str
    column: str | None = None
    row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    sample: pd.DataFrame | None = None

    @property
    def count(self) -> int:
        return int(self.row_numbers.size)


@dataclass
class ValidationReport:
    dataset_type: str
    rows: int
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import (warnings and infos may remain)."""
        return not self.errors

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def by_code(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def summary(self) -> pd.DataFrame:
        """One line per finding, for a table on the page."""
        return pd.DataFrame(
            [
                {
                    "severity": f.severity,
                    "code": f.code,
                    "column": f.column,
                    "rows": f.count,
                    "message": f.message,
                }
                for f in self.findings
            ],
            columns=["severity", "code", "column", "rows", "message"],
        )


# ----------------------------------------------------------------------------- helpers


def _row_numbers(mask: np.ndarray) -> np.ndarray:
    # +2: one for 1-based numbering, one for the header line.
    return np.flatnonzero(mask).astype(np.int64) + 2


def _sample(df: pd.DataFrame, mask: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
    positions = np.flatnonzero(mask)[:SAMPLE_ROWS]
    out = df.iloc[positions] if columns is None else df.iloc[positions][columns]
    out = out.copy()
    out.index = pd.Index(positions + 2, name="row")
    return out


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(r) for r in rows[:5])
    more = f" and {rows.size - 5:,} more" if rows.size > 5 else ""
    return f"row{'s' if rows.size > 1 else ''} {shown}{more}"


def _finding(
    df: pd.DataFrame,
    mask: np.ndarray,
    severity: Severity,
    code: str,
    column: str | None,
    message: str,
    sample_columns: list[str] | None = None,
) -> Finding:
    rows = _row_numbers(mask)
    return Finding(severity, code, f"{message} ({_rows_text(rows)}).", column, rows, _sample(df, mask, sample_columns))


def _is_text(s: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)
    )


def _blank_mask(s: pd.Series) -> np.ndarray:
    """Null, or text that is empty after trimming spaces."""
    mask = s.isna().to_numpy(dtype=bool)
    if _is_text(s):
        text = s.astype("str") if s.dtype == object else s
        mask = mask | (text.str.strip() == "").fillna(False).to_numpy(dtype=bool)
    return mask


def _as_numbers(s: pd.Series) -> pd.Series:
    """Numeric view of a column; values that are not numbers become NaN."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        return s
    return pd.to_numeric(s, errors="coerce")


def timestamp_unit_mask(values: pd.Series | np.ndarray) -> dict[str, np.ndarray]:
    """Masks of epoch values that look like milliseconds / microseconds / nanoseconds, by magnitude."""
    v = np.abs(np.asarray(values, dtype="float64"))
    masks: dict[str, np.ndarray] = {}
    upper = np.inf
    for bound, unit, _ in _UNIT_BOUNDS:
        masks[unit] = (v >= bound) & (v < upper)
        upper = bound
    return masks


def to_unix_seconds(values: pd.Series) -> pd.Series:
    """Unix seconds (nullable Int64) from epoch numbers in any unit, datetimes, or date/number text.

    Used by the one-click fix and by the MongoDB export, where dates arrive as BSON datetimes,
    epoch milliseconds or ISO text depending on who wrote the collection.
    """
    s = values
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
        return _datetimes_to_seconds(s)
    numbers = _as_numbers(s).astype("float64")
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        # Text or objects: what is not a number may be a date (ISO text or datetime objects).
        leftover = numbers.isna().to_numpy() & ~s.isna().to_numpy()
        if leftover.any():
            parsed = pd.to_datetime(s[leftover], errors="coerce", utc=True, format="mixed")
            numbers[leftover] = _datetimes_to_seconds(parsed).astype("float64").to_numpy()
    scale = np.ones(len(numbers))
    arr = numbers.to_numpy(dtype="float64")
    for (_, _unit, divisor), mask in zip(_UNIT_BOUNDS, timestamp_unit_mask(arr).values(), strict=True):
        scale[mask] = divisor
    seconds = np.floor(arr / scale)
    return pd.Series(seconds, index=s.index).astype("Int64")


def _datetimes_to_seconds(s: pd.Series) -> pd.Series:
    dt = pd.to_datetime(s, errors="coerce", utc=True)
    # Timedelta floor division works at any datetime resolution and turns NaT into NaN.
    secs = (dt - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "s")
    return pd.Series(secs, index=s.index).astype("Int64")


def fix_timestamps(df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Return a copy with TIMESTAMP / CREATION_TIMESTAMP converted to whole Unix seconds.

    Milliseconds, microseconds and nanoseconds are recognised per row by magnitude, datetime columns and
    ISO date text are converted too. Values that are neither numbers nor dates stay empty (null).
    """
    targets = [c for c in (columns or TIMESTAMP_FIELDS) if c in df.columns]
    out = df.copy()
    for column in targets:
        out[column] = to_unix_seconds(df[column])
    return out


def conform_to_schema(df: pd.DataFrame, schema: SchemaSpec) -> pd.DataFrame:
    """Keep only the schema's columns, in schema order (Personalize reads the CSV by header)."""
    return df[[c for c in schema.names if c in df.columns]]


# ----------------------------------------------------------------------------- checks


def _check_columns(df: pd.DataFrame, schema: SchemaSpec, dataset_type: str) -> list[Finding]:
    findings: list[Finding] = []
    schema_missing = schema.missing_required(dataset_type)
    if schema_missing:
        findings.append(
            Finding(
                "error",
                "schema_missing_required_field",
                f"The schema has no {', '.join(schema_missing)} field, which a {dataset_type.title()} "
                "dataset "
                "must have. Pick a schema that includes it.",
            )
        )
    missing = [f.name for f in schema.fields if f.name not in df.columns]
    required_missing = [n for n in missing if not schema.get(n).nullable]  # type: ignore[union-attr]
    optional_missing = [n for n in missing if n not in required_missing]
    if required_missing:
        findings.append(
            Finding(
                "error",
                "missing_column",
                f"The file has no column {', '.join(required_missing)}, which the schema requires. Add the "
                f"column (the header must be spelled exactly like the schema) or choose another schema.",
            )
        )
    if optional_missing:
        findings.append(
            Finding(
                "info",
                "missing_optional_column",
                f"The file has no column {', '.join(optional_missing)}; the schema allows it to be empty, so "
                "it will be imported as empty.",
            )
        )
    extra = [c for c in df.columns if c not in schema]
    if extra:
        findings.append(
            Finding(
                "warning",
                "extra_column",
                f"The column{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))} "
                f"{'are' if len(extra) > 1 else 'is'} not in the schema and will be left out of the upload. "
                "Add them to the schema if the model should use them.",
            )
        )
    return findings


def _check_field(df: pd.DataFrame, f: FieldSpec, now: float) -> list[Finding]:
    s = df[f.name]
    findings: list[Finding] = []
    blank = _blank_mask(s)
    if f.name in ID_FIELDS:
        if blank.any():
            findings.append(
                _finding(
                    df,
                    blank,
                    "error",
                    "empty_id",
                    f.name,
                    f"{f.name} is empty; every row needs one. Fill it in or delete these rows",
                )
            )
    elif f.name == "EVENT_TYPE":
        if blank.any():
            findings.append(
                _finding(
                    df,
                    blank,
                    "error",
                    "empty_event_type",
                    f.name,
                    "EVENT_TYPE is empty although the schema has it. Fill in the event (e.g. view, purchase) "
                    "or delete these rows",
                )
            )
    elif not f.nullable and blank.any():
        findings.append(
            _finding(
                df,
                blank,
                "error",
                "null_value",
                f.name,
                f"{f.name} is empty but the schema does not allow null. Fill it in, or make "
                "the field nullable in the schema",
            )
        )

    if f.is_numeric:
        findings.extend(_check_numeric(df, f, s, blank, now))
    elif f.type == "boolean":
        if _is_text(s):
            ok = s.astype("str").str.strip().str.lower().isin(["true", "false"]).to_numpy(dtype=bool)
            bad = ~ok & ~blank
            if bad.any():
                findings.append(_finding(df, bad, "error", "wrong_type", f.name, f"{f.name} must be true or false"))
    else:
        findings.extend(_check_length(df, f, s))
    return findings


def _check_numeric(df: pd.DataFrame, f: FieldSpec, s: pd.Series, blank: np.ndarray, now: float) -> list[Finding]:
    findings: list[Finding] = []
    numbers = _as_numbers(s)
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    not_number = np.isnan(values) & ~blank
    if not_number.any():
        hint = ""
        if f.name in TIMESTAMP_FIELDS:
            hint = " If these are dates, the timestamp fix converts them to Unix seconds"
        findings.append(
            _finding(
                df,
                not_number,
                "error",
                "wrong_type",
                f.name,
                f"{f.name} must be a number ({f.type}) but is text.{hint}".rstrip("."),
            )
        )
    valid = ~np.isnan(values)
    if f.is_integer:
        fractional = valid & (np.floor(values) != values)
        if fractional.any():
            findings.append(
                _finding(
                    df,
                    fractional,
                    "error",
                    "not_whole_number",
                    f.name,
                    f"{f.name} must be a whole number ({f.type}); round or truncate it",
                )
            )
    if f.name in TIMESTAMP_FIELDS:
        for unit, mask in timestamp_unit_mask(np.where(valid, values, 0.0)).items():
            if mask.any():
                findings.append(
                    _finding(
                        df,
                        mask,
                        "error",
                        f"timestamp_{unit}",
                        f.name,
                        f"{f.name} looks like {unit}, but Personalize expects Unix seconds (10 digits around "
                        f"now). Use the timestamp fix to divide by the right power of ten",
                    )
                )
        in_seconds = valid & (np.abs(values) < _UNIT_BOUNDS[-1][0])
        future = in_seconds & (values > now)
        if f.name == "TIMESTAMP" and future.any():
            findings.append(
                _finding(
                    df,
                    future,
                    "warning",
                    "future_timestamp",
                    f.name,
                    "TIMESTAMP is in the future; check the clock or time zone of the source. "
                    "Personalize may treat these events as the most recent ones",
                )
            )
        negative = valid & (values < 0)
        if negative.any():
            findings.append(
                _finding(
                    df,
                    negative,
                    "error",
                    "negative_timestamp",
                    f.name,
                    f"{f.name} is negative; use Unix seconds since 1970",
                )
            )
    return findings


def _check_length(df: pd.DataFrame, f: FieldSpec, s: pd.Series) -> list[Finding]:
    if f.name in ID_FIELDS:
        limit = MAX_ID_LENGTH
    elif f.textual:
        limit = MAX_TEXTUAL_LENGTH
    elif f.categorical:
        limit = MAX_CATEGORICAL_LENGTH
    else:
        limit = MAX_ID_LENGTH
    text = s.astype("str") if not pd.api.types.is_string_dtype(s) else s
    too_long = (text.str.len() > limit).fillna(False).to_numpy(dtype=bool)
    if not too_long.any():
        return []
    return [
        _finding(
            df,
            too_long,
            "error",
            "field_too_long",
            f.name,
            f"{f.name} is longer than {limit:,} characters, the Personalize limit; shorten these values",
        )
    ]


def _check_duplicates(df: pd.DataFrame) -> list[Finding]:
    # Keep the first copy: the rows listed are the extra ones that can be dropped.
    dup = df.duplicated(keep="first").to_numpy(dtype=bool)
    if not dup.any():
        return []
    return [
        _finding(
            df,
            dup,
            "warning",
            "duplicate_events",
            None,
            f"{count(int(dup.sum()), 'row')} {verb(int(dup.sum()), 'repeats', 'repeat')} an earlier row exactly "
            "(same user, item, time and "
            "event). They inflate popularity; drop the duplicates before importing",
        )
    ]


def validate(df: pd.DataFrame, schema: SchemaSpec, dataset_type: str, now: float | None = None) -> ValidationReport:
    """Validate `df` against `schema` for 'Interactions' / 'Items' / 'Users'. `now` is Unix seconds."""
    key = normalize_dataset_type(dataset_type)
    now = time.time() if now is None else float(now)
    findings = _check_columns(df, schema, key)
    if len(df) == 0:
        findings.append(
            Finding("error", "empty_file", "The file has a header but no rows; there is nothing to import.")
        )
        return ValidationReport(key, 0, findings)
    for f in schema.fields:
        if f.name in df.columns:
            findings.extend(_check_field(df, f, now))
    for name in REQUIRED_FIELDS[key]:
        if name in df.columns and name not in schema:
            # Still check ids the schema forgot, since Personalize would need them anyway.
            findings.extend(_check_field(df, FieldSpec(name, ("string",)), now))
    if key == "INTERACTIONS":
        findings.extend(_check_duplicates(df))
    elif (id_field := REQUIRED_FIELDS[key][0]) in df.columns:
        dup = df[id_field].duplicated(keep="first").to_numpy(dtype=bool) & ~_blank_mask(df[id_field])
        if dup.any():
            findings.append(
                _finding(
                    df,
                    dup,
                    "warning",
                    "duplicate_id",
                    id_field,
                    f"{id_field} appears more than once; Personalize keeps one record per id, "
                    "so keep only the latest row for each",
                )
            )
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: order[f.severity])
    return ValidationReport(key, len(df), findings)
