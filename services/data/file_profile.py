"""The numbers the Overview page shows for a dataset file: size, time range, funnel, long tail, readiness.

Everything is computed on an Arrow table with pyarrow.compute and group_by, so profiling a
1M-interaction CSV costs little more than reading it. `profile_frame` converts a DataFrame to Arrow
and shares the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from services.data.validation import timestamp_unit_mask

# AWS's minimum to train a solution version.
MIN_INTERACTIONS = 1_000
MIN_USERS_WITH_TWO = 25
DAY = 86_400
_UNIT_DIVISORS = {"seconds": 1, "milliseconds": 10**3, "microseconds": 10**6, "nanoseconds": 10**9}


@dataclass
class Readiness:
    interactions: int
    users_with_two: int
    min_interactions: int = MIN_INTERACTIONS
    min_users_with_two: int = MIN_USERS_WITH_TWO

    @property
    def ready(self) -> bool:
        return self.interactions >= self.min_interactions and self.users_with_two >= self.min_users_with_two

    @property
    def message(self) -> str:
        if self.ready:
            return (
                f"Ready to train: {self.interactions:,} interactions and {self.users_with_two:,} users with "
                f"2 or more (AWS needs {self.min_interactions:,} and {self.min_users_with_two})."
            )
        gaps = []
        if self.interactions < self.min_interactions:
            gaps.append(f"{self.min_interactions - self.interactions:,} more interactions")
        if self.users_with_two < self.min_users_with_two:
            gaps.append(f"{self.min_users_with_two - self.users_with_two} more users with 2 or more interactions")
        return f"Not enough data to train yet: AWS needs {' and '.join(gaps)}."


@dataclass
class DatasetProfile:
    """Figures for one dataset file. Fields that do not apply to the file's columns are None."""

    rows: int
    columns: list[str]
    n_users: int | None = None
    n_items: int | None = None
    time_min: int | None = None  # Unix seconds, after converting a detected ms/us/ns unit
    time_max: int | None = None
    timestamp_unit: str | None = None  # "seconds" unless the values look like a finer unit
    event_types: pd.DataFrame | None = None  # EVENT_TYPE, count, share (descending)
    single_interaction_user_share: float | None = None
    top_1pct_item_share: float | None = None
    top_20pct_item_share: float | None = None
    duplicate_rows: int = 0
    events_per_day: pd.DataFrame | None = None  # date, events
    interactions_per_user: pd.DataFrame | None = None  # interactions, users (how many users have that many)
    readiness: Readiness | None = None
    null_counts: dict[str, int] = field(default_factory=dict)

    @property
    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        if self.time_min is None or self.time_max is None:
            return None
        return pd.Timestamp(self.time_min, unit="s", tz="UTC"), pd.Timestamp(self.time_max, unit="s", tz="UTC")


def read_table(path: str | Path) -> pa.Table:
    """Read a CSV or Parquet file into Arrow; ids are read as text so 007 stays 007."""
    path = Path(path)
    with path.open("rb") as fh:
        is_parquet = fh.read(4) == b"PAR1"
    if is_parquet:
        return pq.read_table(path)
    text_columns = {c: pa.string() for c in ("USER_ID", "ITEM_ID", "EVENT_TYPE")}
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=text_columns))


def profile_file(path: str | Path) -> DatasetProfile:
    return profile_table(read_table(path))


def profile_frame(df: pd.DataFrame) -> DatasetProfile:
    return profile_table(pa.Table.from_pandas(df, preserve_index=False))


def _counts_by(table: pa.Table, key: str) -> np.ndarray:
    """How many rows each distinct value of `key` has (nulls left out), as int64 numpy."""
    column = table.column(key)
    grouped = (
        pa.table({key: column})
        .filter(pc.is_valid(column))
        .group_by(key, use_threads=False)
        .aggregate([([], "count_all")])
    )
    return grouped.column("count_all").to_numpy().astype(np.int64)


def _top_share(counts: np.ndarray, fraction: float, total: int) -> float:
    if counts.size == 0 or total == 0:
        return 0.0
    k = max(1, int(np.ceil(counts.size * fraction)))
    return float(np.sort(counts)[::-1][:k].sum() / total)


def _column_codes(column: pa.ChunkedArray) -> np.ndarray:
    """An int64 code per row that is equal for equal values (nulls get their own code)."""
    if pa.types.is_integer(column.type):
        return column.fill_null(-1).to_numpy().astype(np.int64, copy=False)
    indices = pc.dictionary_encode(column.combine_chunks()).indices
    return indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _exact_duplicates(table: pa.Table) -> int:
    try:
        groups = table.group_by(table.column_names, use_threads=False).aggregate([]).num_rows
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        # group_by cannot key on every type (e.g. null-typed columns); pandas can.
        return int(table.to_pandas().duplicated().sum())
    return table.num_rows - groups


def _duplicate_rows(table: pa.Table) -> int:
    """Rows that repeat an earlier row exactly.

    Grouping 1M rows on every column is the slowest step of a profile, so rows are first screened on
    a cheap key (time and one id): only rows sharing it can be duplicates, and only those few are
    compared on every column.
    """
    if table.num_rows == 0:
        return 0
    screen = [c for c in ("TIMESTAMP", "USER_ID", "ITEM_ID") if c in table.column_names][:2]
    if not screen:
        return _exact_duplicates(table)
    key = np.zeros(table.num_rows, dtype=np.int64)
    with np.errstate(over="ignore"):  # wrap-around only merges keys: more candidates, never fewer
        for name in screen:
            key = key * np.int64(1_000_003) + _column_codes(table.column(name))
    candidates = pd.Series(key).duplicated(keep=False).to_numpy()
    if not candidates.any():
        return 0
    return _exact_duplicates(table.filter(pa.array(candidates)))


def _time_figures(profile: DatasetProfile, column: pa.ChunkedArray, with_series: bool) -> None:
    numbers = (
        pc.cast(column, pa.float64(), safe=False)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
        else None
    )
    if numbers is None:
        return  # text timestamps: validation reports them; the profile has no range to show
    values = numbers.to_numpy(zero_copy_only=False)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return
    # One unit for the whole file, by its median magnitude (mixed files are validation's business).
    median = np.median(values)
    unit = next((u for u, m in timestamp_unit_mask(np.array([median])).items() if m[0]), "seconds")
    seconds = np.floor(values / _UNIT_DIVISORS[unit]).astype(np.int64)
    profile.timestamp_unit = unit
    profile.time_min, profile.time_max = int(seconds.min()), int(seconds.max())
    if with_series:
        days, counts = np.unique(seconds // DAY, return_counts=True)
        profile.events_per_day = pd.DataFrame(
            {
                "date": pd.to_datetime(days * DAY, unit="s").normalize(),
                "events": counts,
            }
        )


def profile_table(table: pa.Table) -> DatasetProfile:
    """Profile an Arrow table of an Interactions, Items or Users file (chosen by its columns)."""
    names = table.column_names
    rows = table.num_rows
    profile = DatasetProfile(rows=rows, columns=names)
    profile.null_counts = {n: int(table.column(n).null_count) for n in names}
    is_interactions = "TIMESTAMP" in names and "USER_ID" in names and "ITEM_ID" in names

    user_counts = _counts_by(table, "USER_ID") if "USER_ID" in names else None
    item_counts = _counts_by(table, "ITEM_ID") if "ITEM_ID" in names else None
    if user_counts is not None:
        profile.n_users = int(user_counts.size)
    if item_counts is not None:
        profile.n_items = int(item_counts.size)
    profile.duplicate_rows = _duplicate_rows(table)

    time_column = (
        "TIMESTAMP" if "TIMESTAMP" in names else ("CREATION_TIMESTAMP" if "CREATION_TIMESTAMP" in names else None)
    )
    if time_column:
        _time_figures(profile, table.column(time_column), with_series=is_interactions)

    if not is_interactions:
        return profile

    if "EVENT_TYPE" in names:
        vc = pc.value_counts(table.column("EVENT_TYPE"))
        event_types = pd.DataFrame(
            {
                "EVENT_TYPE": vc.field("values").to_pylist(),
                "count": vc.field("counts").to_numpy().astype(np.int64),
            }
        ).sort_values("count", ascending=False, ignore_index=True)
        event_types["share"] = event_types["count"] / max(rows, 1)
        profile.event_types = event_types

    assert user_counts is not None and item_counts is not None
    profile.single_interaction_user_share = float((user_counts == 1).mean()) if user_counts.size else 0.0
    profile.top_1pct_item_share = _top_share(item_counts, 0.01, int(item_counts.sum()))
    profile.top_20pct_item_share = _top_share(item_counts, 0.20, int(item_counts.sum()))
    per_user, n_with = np.unique(user_counts, return_counts=True)
    profile.interactions_per_user = pd.DataFrame({"interactions": per_user, "users": n_with})
    profile.readiness = Readiness(interactions=rows, users_with_two=int((user_counts >= 2).sum()))
    return profile
