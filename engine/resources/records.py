"""Typed resource records: what each kind holds when it is created, and its stored AWS shape (`to_dict`).

The store keeps records as JSON dicts in AWS's member names (the data dir's format); a record built here
turns into exactly that dict. Members left None are not stored, as AWS omits members it has no value
for. `_`-prefixed members are the engine's own and never leave it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from ..store import Record

PENDING_STATUS = "CREATE PENDING"


def now() -> float:
    return round(time.time(), 3)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(kw_only=True)
class ResourceRecord:
    status: str | None = PENDING_STATUS
    creation_date_time: float = field(default_factory=now)
    last_updated_date_time: float | None = None  # None: the creation time

    def __post_init__(self) -> None:
        if self.last_updated_date_time is None:
            self.last_updated_date_time = self.creation_date_time

    def to_dict(self) -> Record:
        out: Record = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.metadata.get("aws") or _camel(f.name)] = value
        return out


@dataclass(kw_only=True)
class DatasetGroupRecord(ResourceRecord):
    name: str
    dataset_group_arn: str
    domain: str | None = None
    role_arn: str | None = None
    kms_key_arn: str | None = None


@dataclass(kw_only=True)
class SchemaRecord(ResourceRecord):
    name: str
    schema_arn: str
    schema: str
    domain: str | None = None
    status: str | None = None  # schemas have no lifecycle


@dataclass(kw_only=True)
class DatasetRecord(ResourceRecord):
    name: str
    dataset_arn: str
    dataset_group_arn: str
    dataset_type: str
    schema_arn: str
    files_id: str = field(metadata={"aws": "_id"})  # the folder of its Parquet file


@dataclass(kw_only=True)
class DatasetImportJobRecord(ResourceRecord):
    job_name: str
    dataset_import_job_arn: str
    dataset_arn: str
    data_source: dict
    import_mode: str
    publish_attribution_metrics_to_s3: bool = field(metadata={"aws": "publishAttributionMetricsToS3"})
    role_arn: str | None = None


@dataclass(kw_only=True)
class DatasetExportJobRecord(ResourceRecord):
    job_name: str
    dataset_export_job_arn: str
    dataset_arn: str
    ingestion_mode: str
    role_arn: str
    job_output: dict


@dataclass(kw_only=True)
class SolutionRecord(ResourceRecord):
    name: str
    solution_arn: str
    perform_hpo: bool = field(metadata={"aws": "performHPO"})
    perform_auto_ml: bool = field(default=False, metadata={"aws": "performAutoML"})
    perform_auto_training: bool
    perform_incremental_update: bool
    recipe_arn: str
    dataset_group_arn: str
    solution_config: dict
    event_type: str | None = None


@dataclass(kw_only=True)
class SolutionVersionRecord(ResourceRecord):
    solution_version_arn: str
    solution_arn: str
    perform_hpo: bool = field(metadata={"aws": "performHPO"})
    perform_auto_ml: bool = field(default=False, metadata={"aws": "performAutoML"})
    perform_incremental_update: bool
    recipe_arn: str
    dataset_group_arn: str
    solution_config: dict
    training_mode: str
    training_type: str = "MANUAL"
    name: str | None = None
    event_type: str | None = None


@dataclass(kw_only=True)
class CampaignRecord(ResourceRecord):
    name: str
    campaign_arn: str
    solution_version_arn: str
    solution_arn: str
    min_provisioned_tps: int = field(metadata={"aws": "minProvisionedTPS"})
    campaign_config: dict


@dataclass(kw_only=True)
class EventTrackerRecord(ResourceRecord):
    name: str
    event_tracker_arn: str
    account_id: str
    tracking_id: str
    dataset_group_arn: str


@dataclass(kw_only=True)
class FilterRecord(ResourceRecord):
    name: str
    filter_arn: str
    dataset_group_arn: str
    filter_expression: str


@dataclass(kw_only=True)
class BatchInferenceJobRecord(ResourceRecord):
    job_name: str
    batch_inference_job_arn: str
    solution_version_arn: str
    num_results: int
    job_input: dict
    job_output: dict
    role_arn: str
    batch_inference_job_mode: str
    filter_arn: str | None = None
    batch_inference_job_config: dict | None = None


