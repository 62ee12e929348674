"""Before an import runs: what the dataset holds now, which mode is safe by default, what a FULL import
would replace, and whether the new rows' ids belong to this shop.

Personalize reports no row counts or contents; what a dataset holds is read from the files this dashboard
staged for its current imports (services.data.import_files). When those files are unknown (imported from
elsewhere), the figures are None and the checks say they could not look, never guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from services.core.resources import datasets_by_type
from services.data.file_profile import read_table
from services.data.import_files import active_imports, current_chain

# Above this share of rows with an id the shop does not know, the file probably belongs elsewhere or its
# ids were mangled (leading zeros lost in a spreadsheet, another system's keys).
UNKNOWN_SHARE_WARN = 0.1
SAMPLE_ROWS = 20
_ID_COLUMNS = {"INTERACTIONS": ("USER_ID", "ITEM_ID"), "ITEMS": ("ITEM_ID",), "USERS": ("USER_ID",)}
# Which dataset holds the known ids of each id column.
_ID_SOURCE = {"USER_ID": "USERS", "ITEM_ID": "ITEMS"}


@dataclass(frozen=True)
class DatasetContents:
    """What a dataset holds now: `imported` False means nothing; `rows` None means unknown."""

    imported: bool
    rows: int | None
    ids: dict[str, frozenset[str]] = field(default_factory=dict)  # id column -> ids held (when known)


def dataset_contents(personalize: Any, dataset_arn: str, dataset_type: str) -> DatasetContents:
    chain = current_chain(active_imports(personalize, dataset_arn))
    if not chain:
        return DatasetContents(imported=False, rows=0)
    if any(f.path is None for f in chain):
        return DatasetContents(imported=True, rows=None)
    columns = _ID_COLUMNS.get(dataset_type, ())
    try:
        tables = [read_table(f.path) for f in chain if f.path is not None]
    except (OSError, pa.ArrowException):
        return DatasetContents(imported=True, rows=None)
    frame = pd.concat([t.select([c for c in columns if c in t.column_names]).to_pandas() for t in tables],
                      ignore_index=True)
    rows = sum(t.num_rows for t in tables)
    if dataset_type in ("ITEMS", "USERS") and columns and columns[0] in frame:
        # An INCREMENTAL import of records replaces those with the same id.
        rows = int(frame[columns[0]].nunique())
    ids = {c: frozenset(frame[c].dropna().astype(str)) for c in columns if c in frame}
    return DatasetContents(imported=True, rows=rows, ids=ids)


def default_mode(contents: DatasetContents) -> str:
    """INCREMENTAL once the dataset holds data: a FULL import would replace it all."""
    return "INCREMENTAL" if contents.imported else "FULL"


def replacement_warning(contents: DatasetContents, new_rows: int) -> str | None:
    """The sentence a FULL import must be confirmed with, or None when it replaces nothing."""
    if not contents.imported:
        return None
    held = "all the rows it holds now (how many is unknown: they were not imported through this dashboard)" \
        if contents.rows is None else _rows(contents.rows)
    return (f"A FULL import replaces {held} with {_rows(new_rows)}. Everything the dataset holds now is gone "
            "once it finishes; INCREMENTAL adds the rows instead.")


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


# ----------------------------------------------------------------------------- id checks


def id_shape(value: str) -> str:
    """An id's format: letters as A, digits as 9, anything else kept (U00138 -> A99999)."""
    return re.sub(r"[0-9]", "9", re.sub(r"[^\W\d_]", "A", value))


@dataclass(frozen=True)
class IdFinding:
    column: str
    message: str
    rows: pd.DataFrame  # the offending rows (first SAMPLE_ROWS), with their row numbers in the file


@dataclass(frozen=True)
class IdCheck:
    findings: list[IdFinding]
    notes: list[str]  # what could not be checked, and why


def _known_ids(personalize: Any, group_arn: str, dataset_type: str, column: str) -> tuple[frozenset[str] | None, str]:
    """The ids the Items or Users dataset holds for `column`, or None with a note when they are unknown."""
    source = _ID_SOURCE[column]
    dataset = datasets_by_type(personalize, group_arn).get(source) if source != dataset_type else None
    if dataset is None:  # no such dataset, or the records being imported define these ids
        return None, ""
    contents = dataset_contents(personalize, dataset.arn, source)
    if not contents.imported:
        return None, ""
    if contents.rows is None:
        return None, f"{column} not checked against the {source.title()} dataset: its files are unknown here."
    return contents.ids.get(column), ""


def _finding(frame: pd.DataFrame, column: str, mask: pd.Series, why: str) -> IdFinding | None:
    share = float(mask.mean()) if len(mask) else 0.0
    if share <= UNKNOWN_SHARE_WARN:
        return None
    bad = frame.loc[mask]
    examples = ", ".join(map(str, bad[column].astype(str).drop_duplicates().head(3)))
    sample = bad.head(SAMPLE_ROWS).copy()
    sample.index = sample.index + 1  # row numbers as a spreadsheet shows them (after the header)
    sample.index.name = "row"
    count = int(mask.sum())
    message = (f"{count:,} of {len(frame):,} rows ({share:.0%}) have a {column} {why} (e.g. {examples}). "
               "Check that the file belongs to this dataset group and that its ids kept their format "
               "(a spreadsheet drops leading zeros).")
    return IdFinding(column=column, message=message, rows=sample)


def check_ids(personalize: Any, group_arn: str, dataset_type: str, frame: pd.DataFrame,
              existing: DatasetContents | None = None) -> IdCheck:
    """Warn when many of the new rows' ids are unknown to the Items/Users datasets, or do not have the
    format of the ids the dataset already holds. `existing` is what the target dataset holds now."""
    findings: list[IdFinding] = []
    notes: list[str] = []
    for column in _ID_COLUMNS.get(dataset_type, ()):
        if column not in frame.columns:
            continue
        values = frame[column].astype(str)
        known, note = _known_ids(personalize, group_arn, dataset_type, column)
        if note:
            notes.append(note)
        found = None
        if known:
            source = _ID_SOURCE[column].title()
            found = _finding(frame, column, ~values.isin(known), f"that the {source} dataset does not hold")
        if found is None and existing is not None and existing.ids.get(column):
            shapes = {id_shape(v) for v in existing.ids[column]}
            found = _finding(frame, column, ~values.map(id_shape).isin(shapes),
                             "whose format differs from every id the dataset holds "
                             f"(those look like {', '.join(sorted(shapes)[:3])}, A a letter, 9 a digit)")
        if found is not None:
            findings.append(found)
    return IdCheck(findings=findings, notes=notes)
