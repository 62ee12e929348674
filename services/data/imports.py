"""Bringing data into a dataset group: create the group, schema and dataset, stage a file, launch and
follow import jobs.

Everything goes through the Personalize API (boto3), so it works the same against AWS and the
embedded engine. Import jobs are listed with how long they took and, when they failed, why, in words.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from services.core.aws_errors import error_code
from services.core.clients import Clients
from services.core.listing import list_all
from services.core.resources import datasets_by_type, utc
from services.core.wording import as_sentence
from services.data.schemas import SchemaSpec, dataset_type_title, normalize_dataset_type, parse_schema
from services.data.staging import StagedFile, stage_frame
from services.data.validation import conform_to_schema

IMPORT_MODES = ("FULL", "INCREMENTAL")
# The engine accepts any role; AWS needs one that Personalize may assume to read the bucket.
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/PersonalizeLocal"
RUNNING = ("CREATE PENDING", "CREATE IN_PROGRESS")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}$")


class ImportInputError(ValueError):
    """Input the dashboard refuses before calling AWS; the message says what to change."""


def check_name(name: str, what: str) -> str:
    """Personalize names: 1-63 letters, digits, '-' or '_', starting with a letter or digit."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise ImportInputError(
            f"{what} name {name!r} is not allowed: use 1-63 letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    return name




# ----------------------------------------------------------------------------- creating resources


def create_dataset_group(personalize: Any, name: str, domain: str | None = "ECOMMERCE") -> str:
    params: dict[str, Any] = {"name": check_name(name, "Dataset group")}
    if domain:
        params["domain"] = domain
    return personalize.create_dataset_group(**params)["datasetGroupArn"]


def create_schema(personalize: Any, name: str, schema: SchemaSpec | str, domain: str | None = "ECOMMERCE") -> str:
    """Create a schema from a SchemaSpec or Avro JSON text (parsed first, so errors read well)."""
    spec = schema if isinstance(schema, SchemaSpec) else parse_schema(schema)
    params: dict[str, Any] = {"name": check_name(name, "Schema"), "schema": spec.to_json(indent=None)}
    if domain:
        params["domain"] = domain
    return personalize.create_schema(**params)["schemaArn"]


def create_dataset(personalize: Any, dataset_group_arn: str, dataset_type: str, schema_arn: str, name: str) -> str:
    return personalize.create_dataset(
        name=check_name(name, "Dataset"),
        schemaArn=schema_arn,
        datasetGroupArn=dataset_group_arn,
        # The spelling CreateDataset's datasetType takes; only types this dashboard can create.
        datasetType=dataset_type_title(normalize_dataset_type(dataset_type)),
    )["datasetArn"]


def list_schemas(personalize: Any) -> list[dict]:
    return list_all(personalize, "list_schemas", "schemas")


def dataset_schema(personalize: Any, dataset_arn: str) -> SchemaSpec:
    """The schema a dataset was created with, as data (what a file is validated against)."""
    dataset = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]
    schema = personalize.describe_schema(schemaArn=dataset["schemaArn"])["schema"]
    return parse_schema(schema["schema"])


# ----------------------------------------------------------------------------- staging and launching


@dataclass(frozen=True)
class LaunchedImport:
    job_arn: str
    job_name: str
    staged: StagedFile


def job_name_for(dataset_name: str, mode: str, now: float | None = None) -> str:
    """A unique, readable job name: AWS refuses a job name used before in the account."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now if now is not None else time.time()))
    # The random tail keeps two imports started in the same second apart.
    suffix = f"-{mode.lower()}-{stamp}-{uuid.uuid4().hex[:4]}"
    base = re.sub(r"[^a-zA-Z0-9\-_]", "-", dataset_name)[: 63 - len(suffix)].strip("-_") or "import"
    return base + suffix


def launch_import(
    personalize: Any,
    dataset_arn: str,
    data_location: str,
    mode: str = "FULL",
    role_arn: str | None = None,
    job_name: str | None = None,
) -> str:
    """CreateDatasetImportJob for a location that is already staged; returns the job ARN."""
    if mode not in IMPORT_MODES:
        raise ImportInputError(f"Import mode must be FULL or INCREMENTAL, not {mode!r}.")
    dataset = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]
    name = job_name or job_name_for(dataset["name"], mode)
    return personalize.create_dataset_import_job(
        jobName=check_name(name, "Import job"),
        datasetArn=dataset_arn,
        dataSource={"dataLocation": data_location},
        roleArn=role_arn or LOCAL_ROLE_ARN,
        importMode=mode,
    )["datasetImportJobArn"]


def stage_and_import(
    clients: Clients,
    dataset_arn: str,
    frame: pd.DataFrame,
    mode: str = "FULL",
    bucket: str | None = None,
    prefix: str = "personalize/",
    role_arn: str | None = None,
) -> LaunchedImport:
    """Keep the schema's columns, stage the CSV (engine store or S3), and launch the import job.

    Columns the schema lacks are left out: Personalize fails a whole import on one unknown header.
    """
    if frame.empty:
        raise ImportInputError("There are no rows to import.")
    if mode not in IMPORT_MODES:
        raise ImportInputError(f"Import mode must be FULL or INCREMENTAL, not {mode!r}.")
    if not clients.backend.is_local:
        if not bucket:
            raise ImportInputError("Choose the S3 bucket to stage the file in (AWS imports from S3).")
        if not role_arn:
            raise ImportInputError("Give the IAM role Personalize assumes to read the bucket (its ARN).")
    p = clients.personalize
    dataset = p.describe_dataset(datasetArn=dataset_arn)["dataset"]
    schema = dataset_schema(p, dataset_arn)
    name = job_name_for(dataset["name"], mode)
    # stage_frame stamps file names to the second; the random part keeps two quick imports apart.
    staged = stage_frame(
        conform_to_schema(frame, schema), f"{name}-{uuid.uuid4().hex[:6]}", clients.backend, clients.s3, bucket, prefix
    )
    arn = launch_import(p, dataset_arn, staged.uri, mode, role_arn, name)
    return LaunchedImport(arn, name, staged)


# ----------------------------------------------------------------------------- following import jobs


@dataclass(frozen=True)
class ImportJob:
    dataset_type: str
    job_name: str
    job_arn: str
    status: str
    mode: str
    started: datetime | None  # aware UTC
    duration_s: float | None  # finished jobs: creation to last update; running ones: so far
    failure: str | None  # in words, with what to do

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def failed(self) -> bool:
        return self.status in ("CREATE FAILED", "CREATE STOPPED")

    @property
    def failure_sentence(self) -> str:
        """Why it failed, as one sentence; AWS may give no reason (failureReason is optional)."""
        return as_sentence(self.failure)


# Terse reasons AWS gives, and what they mean for the person reading them.
_FAILURE_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"access denied|insufficient privileges|not authorized|AccessDenied", re.I),
        "Personalize could not read the file: the role needs s3:GetObject and s3:ListBucket on the bucket, "
        "and the bucket policy must allow personalize.amazonaws.com.",
    ),
    (
        re.compile(r"milliseconds|epoch seconds|timestamp.*(format|invalid|range)", re.I),
        "Convert TIMESTAMP to Unix seconds (the Data page's timestamp fix does it) and import again.",
    ),
    (
        re.compile(r"missing|not in the dataset's schema|columns?.*(header|schema)", re.I),
        "Make the file's header match the dataset's schema, then import again.",
    ),
    (
        re.compile(r"no file at|does not exist|NoSuchKey|NoSuchBucket|not found", re.I),
        "The staged file is gone or the location is wrong; stage the data again.",
    ),
    (re.compile(r"empty|no rows", re.I), "Fill in or drop the empty values, then import again."),
)


def readable_failure(reason: str | None) -> str | None:
    """AWS's failureReason with the next step added (the reason itself is kept word for word)."""
    if not reason or not reason.strip():
        return None
    text = as_sentence(reason)
    for pattern, hint in _FAILURE_HINTS:
        if pattern.search(reason):
            return f"{text} {hint}"
    return text


def _duration(job: dict, now: datetime) -> float | None:
    start = utc(job.get("creationDateTime"))
    if start is None:
        return None
    end = now if job.get("status") in RUNNING else (utc(job.get("lastUpdatedDateTime")) or now)
    return max(0.0, (end - start).total_seconds())


def list_import_jobs(personalize: Any, dataset_group_arn: str, limit: int | None = 50) -> list[ImportJob]:
    """Import jobs of every dataset in the group, newest first (at most `limit`).

    The List call carries no failureReason, so the failed jobs among those returned are described.
    """
    now = datetime.now(UTC)
    summaries: list[tuple[str, dict]] = []
    for dtype, dataset in datasets_by_type(personalize, dataset_group_arn).items():
        found = list_all(personalize, "list_dataset_import_jobs", "datasetImportJobs", datasetArn=dataset.arn)
        summaries.extend((dtype, job) for job in found)
    oldest = datetime.min.replace(tzinfo=UTC)
    summaries.sort(key=lambda pair: utc(pair[1].get("creationDateTime")) or oldest, reverse=True)
    jobs: list[ImportJob] = []
    for dtype, job in summaries[:limit] if limit else summaries:
        reason = job.get("failureReason")
        if job.get("status") in ("CREATE FAILED", "CREATE STOPPED") and not reason:
            reason = personalize.describe_dataset_import_job(datasetImportJobArn=job["datasetImportJobArn"])[
                "datasetImportJob"
            ].get("failureReason")
        jobs.append(
            ImportJob(
                dataset_type=dtype,
                job_name=job.get("jobName", ""),
                job_arn=job["datasetImportJobArn"],
                status=job.get("status", ""),
                mode=job.get("importMode") or "FULL",
                started=utc(job.get("creationDateTime")),
                duration_s=_duration(job, now),
                failure=readable_failure(reason),
            )
        )
    return jobs


def parse_metadata_mapping(text: str) -> dict[str, str]:
    """Lines 'COLUMN=field.path' (metadata columns of a MongoDB export) into a mapping; blank lines skipped."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        column, sep, path = line.partition("=")
        column, path = column.strip().upper(), path.strip()
        if not sep or not column or not path:
            raise ImportInputError(
                f"Line {number} ({line!r}) should look like COLUMN=field.path, e.g. PRICE=item.price."
            )
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", column):
            raise ImportInputError(f"Line {number}: {column!r} is not a column name (letters, digits and '_').")
        mapping[column] = path
    return mapping


def jobs_table(jobs: list[ImportJob]) -> pd.DataFrame:
    """One row per job, for st.dataframe."""
    return pd.DataFrame(
        [
            {
                "dataset": dataset_type_title(j.dataset_type),
                "job": j.job_name,
                "status": j.status,
                "mode": j.mode,
                "started (UTC)": utc(j.started),
                "duration (s)": None if j.duration_s is None else round(j.duration_s, 1),
                "failure reason": j.failure or "",
            }
            for j in jobs
        ],
        columns=["dataset", "job", "status", "mode", "started (UTC)", "duration (s)", "failure reason"],
    )


def finished_status(personalize: Any) -> Callable[[str], str | None]:
    """`status_of(job_arn)` for `saved.settle_pending_imports`: a finished import job's status, "DELETED"
    for one that no longer exists, None while it runs or cannot be asked (kept for the next look)."""

    def status_of(job_arn: str) -> str | None:
        try:
            job = personalize.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"]
        except ClientError as exc:
            return "DELETED" if error_code(exc) == "ResourceNotFoundException" else None
        except BotoCoreError:  # unreachable for now: asked again next time
            return None
        status = str(job.get("status", ""))
        return None if status in RUNNING or not status else status

    return status_of
