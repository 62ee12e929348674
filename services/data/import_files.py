"""Which files a dataset's imports read, and which of them this dashboard staged (so it can read them
too). Personalize reports no row counts or contents; the staged copies are how pages show real figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.core.listing import list_all
from services.data.staging import local_copy_for


@dataclass(frozen=True)
class ImportFile:
    job_name: str
    job_arn: str
    mode: str  # FULL or INCREMENTAL
    created: datetime
    finished: datetime
    location: str
    path: Path | None  # the staged copy, when this dashboard staged the file


def as_utc(value: Any) -> datetime:
    """botocore gives datetimes; records and tests sometimes epoch seconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def dataset_arn(personalize: Any, dataset_group_arn: str, dataset_type: str) -> str | None:
    for d in list_all(personalize, "list_datasets", "datasets", datasetGroupArn=dataset_group_arn):
        if str(d.get("datasetType", "")).upper() == dataset_type.upper():
            return d["datasetArn"]
    return None


def active_imports(personalize: Any, dataset_arn_: str) -> list[ImportFile]:
    """Every ACTIVE import job of the dataset, oldest first, with the file it read."""
    jobs = list_all(personalize, "list_dataset_import_jobs", "datasetImportJobs", datasetArn=dataset_arn_)
    out = []
    for job in sorted((j for j in jobs if j.get("status") == "ACTIVE"), key=lambda j: j["creationDateTime"]):
        detail = personalize.describe_dataset_import_job(
            datasetImportJobArn=job["datasetImportJobArn"])["datasetImportJob"]
        location = (detail.get("dataSource") or {}).get("dataLocation", "")
        out.append(ImportFile(
            job_name=detail.get("jobName", ""), job_arn=job["datasetImportJobArn"],
            mode=detail.get("importMode") or "FULL", created=as_utc(job["creationDateTime"]),
            finished=as_utc(detail.get("lastUpdatedDateTime") or job["lastUpdatedDateTime"]),
            location=location, path=local_copy_for(location) if location else None,
        ))
    return out


def current_chain(imports: list[ImportFile]) -> list[ImportFile]:
    """The imports whose rows the dataset holds now: the last FULL one and every later one."""
    full = [i for i, f in enumerate(imports) if f.mode == "FULL"]
    return imports[full[-1]:] if full else imports


def group_imports(personalize: Any, dataset_group_arn: str, dataset_type: str) -> list[ImportFile]:
    arn = dataset_arn(personalize, dataset_group_arn, dataset_type)
    return active_imports(personalize, arn) if arn else []


def newest_staged(personalize: Any, dataset_group_arn: str, dataset_type: str) -> Path | None:
    """The newest staged file of the group's dataset of that type, if any."""
    staged = [f.path for f in group_imports(personalize, dataset_group_arn, dataset_type) if f.path is not None]
    return staged[-1] if staged else None
