"""Which files a dataset's imports read, and which of them this dashboard staged (so it can read them
too). Personalize reports no row counts or contents; the staged copies are how pages show real figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.core.listing import list_all
from services.core.resources import dataset_of_type, utc
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


def active_imports(personalize: Any, dataset_arn_: str) -> list[ImportFile]:
    """Every ACTIVE import job of the dataset, oldest first, with the file it read."""
    jobs = list_all(personalize, "list_dataset_import_jobs", "datasetImportJobs", datasetArn=dataset_arn_)
    out = []
    for job in sorted((j for j in jobs if j.get("status") == "ACTIVE"), key=lambda j: _when(j.get("creationDateTime"))):
        detail = personalize.describe_dataset_import_job(
            datasetImportJobArn=job["datasetImportJobArn"])["datasetImportJob"]
        location = (detail.get("dataSource") or {}).get("dataLocation", "")
        out.append(ImportFile(
            job_name=detail.get("jobName", ""), job_arn=job["datasetImportJobArn"],
            mode=detail.get("importMode") or "FULL",
            created=_utc(detail.get("creationDateTime") or job.get("creationDateTime")),
            finished=_utc(detail.get("lastUpdatedDateTime") or job.get("lastUpdatedDateTime")
                          or detail.get("creationDateTime") or job.get("creationDateTime")),
            location=location, path=local_copy_for(location) if location else None,
        ))
    return out


def _when(value: Any) -> datetime:
    """For ordering: a job without a time (optional in AWS's List answer) sorts first."""
    return utc(value) or datetime.fromtimestamp(0, UTC)


def _utc(value: Any) -> datetime:
    when = utc(value)
    if when is None:
        raise ValueError("An ACTIVE import job has no time.")
    return when


def current_chain(imports: list[ImportFile]) -> list[ImportFile]:
    """The imports whose rows the dataset holds now: the last FULL one and every later one."""
    full = [i for i, f in enumerate(imports) if f.mode == "FULL"]
    return imports[full[-1]:] if full else imports


def group_imports(personalize: Any, dataset_group_arn: str, dataset_type: str) -> list[ImportFile]:
    dataset = dataset_of_type(personalize, dataset_group_arn, dataset_type)
    return active_imports(personalize, dataset.arn) if dataset else []


def newest_staged(personalize: Any, dataset_group_arn: str, dataset_type: str) -> Path | None:
    """The newest staged file of the group's dataset of that type, if any."""
    staged = [f.path for f in group_imports(personalize, dataset_group_arn, dataset_type) if f.path is not None]
    return staged[-1] if staged else None
