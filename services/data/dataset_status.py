"""Everything the Overview page shows about a dataset group's data, from List/Describe calls.

AWS does not report row counts, users, items or time ranges of a dataset. Those figures are computed
from the files that make up the dataset (the last ACTIVE FULL import and the INCREMENTAL ones after
it) when this dashboard staged them (services.data.staging.local_copy_for). Otherwise they are unknown:
None here, "unknown" on the page, never guessed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from services.core import wording
from services.core.resources import datasets_by_type
from services.data.file_profile import (
    MIN_INTERACTIONS,
    MIN_USERS_WITH_TWO,
    DatasetProfile,
    profile_table,
    read_table,
)
from services.data.import_files import active_imports, current_chain
from services.data.imports import ImportJob, dataset_type_title, list_import_jobs
from services.data.schemas import SchemaError, SchemaSpec, parse_schema

Severity = Literal["error", "warning", "info"]
CheckState = Literal["ok", "missing", "unknown"]
# A future timestamp within a few minutes is clock skew, not a data problem.
FUTURE_SLACK_S = 600
# Above this share of one-interaction users, a model mostly falls back on popularity (the cold-start story).
COLD_START_SHARE = 0.5
# When the top 1% of items take more than this share of interactions, the catalogue's tail is barely seen.
HEAD_HEAVY_SHARE = 0.5
_ID_COLUMNS = ("USER_ID", "ITEM_ID", "EVENT_TYPE")
_RECORD_ID = {"ITEMS": "ITEM_ID", "USERS": "USER_ID", "ACTIONS": "ACTION_ID"}


@dataclass(frozen=True)
class QualityFinding:
    severity: Severity
    dataset_type: str
    message: str


@dataclass(frozen=True)
class ReadinessCheck:
    requirement: str
    state: CheckState
    detail: str


@dataclass
class DatasetStatus:
    dataset_type: str  # INTERACTIONS / ITEMS / USERS
    name: str
    arn: str
    status: str
    schema: SchemaSpec | None
    last_import: ImportJob | None
    profile: DatasetProfile | None = None  # None: figures unknown (see figures_note)
    empty_values: dict[str, int] = field(default_factory=dict)  # column -> rows that are null or blank
    figures_note: str = ""  # where the figures come from, or why they are unknown
    imported: bool = False  # holds data from at least one ACTIVE import

    @property
    def title(self) -> str:
        return dataset_type_title(self.dataset_type)

    @property
    def figures_known(self) -> bool:
        return self.profile is not None

    def schema_fields(self) -> str:
        if self.schema is None:
            return "unknown"
        return ", ".join(f"{f.name} ({'|'.join(f.types)}{'?' if f.nullable else ''})" for f in self.schema.fields)


@dataclass
class GroupStatus:
    dataset_group_arn: str
    name: str
    status: str
    datasets: list[DatasetStatus]
    jobs: list[ImportJob]
    readiness: list[ReadinessCheck]
    findings: list[QualityFinding]
    checked_at: float

    def dataset(self, dataset_type: str) -> DatasetStatus | None:
        return next((d for d in self.datasets if d.dataset_type == dataset_type.upper()), None)

    @property
    def ready(self) -> bool | None:
        """True when every AWS minimum is met, False when one is not, None when some are unknown."""
        states = {c.state for c in self.readiness}
        if "missing" in states:
            return False
        return None if "unknown" in states else True


# ----------------------------------------------------------------------------- figures from staged files


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=16)
def _profile_files(keys: tuple[tuple[str, int, int], ...], id_field: str | None) -> tuple[DatasetProfile, dict]:
    """Profile the concatenation of staged files (cached on path, mtime and size: a restaged file is new)."""
    tables = [read_table(path) for path, _, _ in keys]
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    if id_field and len(tables) > 1 and id_field in table.column_names:
        # An INCREMENTAL import of items or users replaces records with the same id: keep the last.
        frame = table.to_pandas().drop_duplicates(id_field, keep="last")
        table = pa.Table.from_pandas(frame, preserve_index=False)
    return profile_table(table), _empty_values(table)


def _empty_values(table: pa.Table) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in _ID_COLUMNS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        blank = 0
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            blank = pc.sum(pc.equal(pc.utf8_trim_whitespace(column), "")).as_py() or 0
        out[name] = int(column.null_count) + int(blank)
    return out


def _figures(personalize: Any, status: DatasetStatus) -> None:
    chain = current_chain(active_imports(personalize, status.arn))
    if not chain:
        status.figures_note = "No data imported yet."
        return
    status.imported = True
    missing = next((f for f in chain if f.path is None), None)
    if missing is not None:
        status.figures_note = (
            f"Unknown: the import {missing.job_name} read {missing.location or 'a location'} that this "
            "dashboard did not stage, and Personalize does not report row counts. Import through the "
            "Data page to see them."
        )
        return
    paths: list[Path] = [f.path for f in chain if f.path is not None]
    # Record datasets (items, users, actions) keep the last row per id; event datasets keep every row.
    id_field = _RECORD_ID.get(status.dataset_type)
    try:
        status.profile, status.empty_values = _profile_files(tuple(_file_key(p) for p in paths), id_field)
    except (OSError, pa.ArrowException) as exc:
        status.figures_note = f"Unknown: the staged file could not be read ({exc})."
        return
    names = ", ".join(p.name for p in paths)
    status.figures_note = f"From the file{'s' if len(paths) > 1 else ''} this dashboard staged: {names}."


# ----------------------------------------------------------------------------- readiness and findings


def readiness_checks(interactions: DatasetStatus | None) -> list[ReadinessCheck]:
    """AWS's minimum to train: an Interactions dataset with 1,000 interactions and 25 users with 2+."""
    need_rows = f"At least {MIN_INTERACTIONS:,} interactions"
    need_users = f"At least {MIN_USERS_WITH_TWO} users with 2 or more interactions"
    if interactions is None:
        return [
            ReadinessCheck("An Interactions dataset", "missing", "Create one on the Data page."),
            ReadinessCheck(need_rows, "missing", "No Interactions dataset."),
            ReadinessCheck(need_users, "missing", "No Interactions dataset."),
        ]
    checks = [ReadinessCheck("An Interactions dataset", "ok", f"{interactions.name} ({interactions.status}).")]
    imported = interactions.imported
    if not imported:
        checks.append(
            ReadinessCheck("Interactions imported", "missing", "No ACTIVE import yet; import a file on the Data page.")
        )
    readiness = interactions.profile.readiness if interactions.profile else None
    if readiness is None:
        why = "No data imported yet." if not imported else "Row counts are unknown (see the dataset's note)."
        state: CheckState = "missing" if not imported else "unknown"
        checks += [ReadinessCheck(need_rows, state, why), ReadinessCheck(need_users, state, why)]
        return checks
    checks.append(
        ReadinessCheck(
            need_rows,
            "ok" if readiness.interactions >= MIN_INTERACTIONS else "missing",
            f"{readiness.interactions:,} interactions.",
        )
    )
    checks.append(
        ReadinessCheck(
            need_users,
            "ok" if readiness.users_with_two >= MIN_USERS_WITH_TWO else "missing",
            f"{readiness.users_with_two:,} users have 2 or more.",
        )
    )
    return checks


def quality_findings(status: DatasetStatus, now: float) -> list[QualityFinding]:
    """What in the data would hurt a model, in words; only from known figures."""
    p = status.profile
    if p is None:
        return []
    out: list[QualityFinding] = []
    kind = status.dataset_type

    def add(severity: Severity, message: str) -> None:
        out.append(QualityFinding(severity, kind, message))

    if p.timestamp_unit and p.timestamp_unit != "seconds":
        add(
            "error",
            f"Timestamps are in {p.timestamp_unit}, not Unix seconds: Personalize reads them as dates "
            "far in the future, so recency is meaningless. Re-import with the timestamp fix.",
        )
    if p.time_max is not None and p.timestamp_unit == "seconds" and p.time_max > now + FUTURE_SLACK_S:
        add(
            "warning",
            "Some timestamps are in the future (latest "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(p.time_max))} UTC); check the source's "
            "clock or time zone.",
        )
    if p.duplicate_rows:
        add(
            "warning",
            f"{wording.count(p.duplicate_rows, 'row')} "
            f"{wording.verb(p.duplicate_rows, 'repeats', 'repeat')} an earlier row exactly "
            f"({wording.share(p.duplicate_rows, p.rows)});"
            " they inflate popularity. Drop duplicates before the next import.",
        )
    for column, count in status.empty_values.items():
        if count:
            add("error", f"{column} is empty in {wording.count(count, 'row')}; Personalize needs a value in every row.")
    if p.single_interaction_user_share is not None:
        share = p.single_interaction_user_share
        if share > COLD_START_SHARE:
            add(
                "warning",
                f"{share:.0%} of users have a single interaction: for them a model can only fall back "
                "on popular items (everyone gets the same list). More history per user helps.",
            )
        else:
            add("info", f"{share:.0%} of users have a single interaction.")
    if p.top_1pct_item_share is not None and p.top_20pct_item_share is not None:
        message = (
            f"Long tail: the top 1% of items get {p.top_1pct_item_share:.0%} of interactions, "
            f"the top 20% get {p.top_20pct_item_share:.0%}."
        )
        if p.top_1pct_item_share > HEAD_HEAVY_SHARE:
            add("warning", message + " A few items dominate; expect popularity-like recommendations.")
        else:
            add("info", message)
    return out


# ----------------------------------------------------------------------------- the whole group


def _schema(personalize: Any, schema_arn: str | None) -> SchemaSpec | None:
    if not schema_arn:
        return None
    try:
        return parse_schema(personalize.describe_schema(schemaArn=schema_arn)["schema"]["schema"])
    except SchemaError:
        return None


def dataset_group_status(personalize: Any, dataset_group_arn: str, now: float | None = None) -> GroupStatus:
    """The Overview's data section for one dataset group."""
    now = time.time() if now is None else now
    group = personalize.describe_dataset_group(datasetGroupArn=dataset_group_arn)["datasetGroup"]
    jobs = list_import_jobs(personalize, dataset_group_arn, limit=None)
    order = {"INTERACTIONS": 0, "ITEMS": 1, "USERS": 2}
    datasets: list[DatasetStatus] = []
    for dtype, summary in sorted(
        datasets_by_type(personalize, dataset_group_arn).items(), key=lambda kv: order.get(kv[0], 9)
    ):
        detail = personalize.describe_dataset(datasetArn=summary.arn)["dataset"]
        status = DatasetStatus(
            dataset_type=dtype,
            name=detail["name"],
            arn=detail["datasetArn"],
            status=detail.get("status", ""),
            schema=_schema(personalize, detail.get("schemaArn")),
            last_import=next((j for j in jobs if j.dataset_type == dtype), None),
        )
        _figures(personalize, status)
        datasets.append(status)
    interactions = next((d for d in datasets if d.dataset_type == "INTERACTIONS"), None)
    findings = [f for d in datasets for f in quality_findings(d, now)]
    severity_order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: severity_order[f.severity])
    return GroupStatus(
        dataset_group_arn=dataset_group_arn,
        name=group.get("name", ""),
        status=group.get("status", ""),
        datasets=datasets,
        jobs=jobs,
        readiness=readiness_checks(interactions),
        findings=findings,
        checked_at=now,
    )


# ----------------------------------------------------------------------------- chart data

_PER_USER_BINS = (0, 1, 2, 3, 4, 5, 10, 20, 50, float("inf"))
_PER_USER_LABELS = ("1", "2", "3", "4", "5", "6-10", "11-20", "21-50", "51+")


def interactions_per_user_buckets(profile: DatasetProfile) -> pd.DataFrame | None:
    """Users by how many interactions they have, in readable buckets (the tail is long)."""
    per_user = profile.interactions_per_user
    if per_user is None or per_user.empty:
        return None
    bucket = pd.cut(per_user["interactions"], _PER_USER_BINS, labels=_PER_USER_LABELS)
    out = per_user.groupby(bucket, observed=False)["users"].sum().reset_index()
    out.columns = ["interactions", "users"]
    out["interactions"] = out["interactions"].astype(str)
    return out
