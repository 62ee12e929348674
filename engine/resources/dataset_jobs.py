"""Dataset import jobs (CSV from s3:// or file:// into a dataset's Parquet file) and dataset export jobs."""

from __future__ import annotations

import io
import logging
import threading
import traceback
from collections.abc import Callable

import pandas as pd
import pyarrow as pa

from .. import locations
from ..avro import parse_schema
from ..datastore import DatasetFiles, EventLog
from ..errors import InvalidInputException, ResourceInUseException, ResourceNotFoundException
from ..importer import ImportFailure, read_csv
from ..locations import Locations
from .jobs import STOPPED_REASON, JobPool
from .ledger import PENDING, Ledger, check_name, group_id
from .records import DatasetExportJobRecord, DatasetImportJobRecord
from .serving_cache import ServingCache

log = logging.getLogger("personalize-engine")
EVENT_FILES = {"INTERACTIONS": "events", "ITEMS": "items", "USERS": "users"}


class DatasetImportJobs:
    def __init__(self, ledger: Ledger, pool: JobPool, files: DatasetFiles, cache: ServingCache,
                 create_lock: threading.Lock, files_policy: Locations) -> None:
        self._ledger = ledger
        self._locations = files_policy
        self._pool = pool
        self._files = files
        self._cache = cache
        self._create_lock = create_lock
        # (group ARN, imported table, publishAttributionMetricsToS3): metric attributions count INCREMENTAL
        # interactions imports; the backend wires it, as it wires PutEvents.
        self.on_incremental_interactions: Callable[[str, pa.Table, bool], None] | None = None

    def create(
        self, job_name: str, dataset_arn: str, data_source: dict, role_arn: str | None = None,
        tags: list | None = None, import_mode: str | None = None,
        publish_attribution_metrics_to_s3: bool | None = None, **_: object,
    ) -> str:
        check_name(job_name, "dataset import job")
        ledger = self._ledger
        dataset = ledger.get(dataset_arn, "dataset")
        location = (data_source or {}).get("dataLocation")
        if not location:
            raise InvalidInputException("dataSource.dataLocation is required.")
        self._locations.check(location, "dataSource.dataLocation")
        mode = import_mode or "FULL"
        if mode not in ("FULL", "INCREMENTAL"):
            raise InvalidInputException("importMode must be FULL or INCREMENTAL.")
        if dataset["status"] == "CREATE FAILED":
            raise ResourceInUseException("The dataset failed to create.")
        arn = ledger.arn("dataset-import-job", job_name)
        with self._create_lock:
            running = ledger.store.list(
                "dataset-import-job", lambda r: r["datasetArn"] == dataset_arn and r["status"] in PENDING
            )
            if running:
                raise ResourceInUseException(
                    f"The import {running[0]['jobName']} is still running on this dataset; wait for it."
                )
            record = DatasetImportJobRecord(
                job_name=job_name, dataset_import_job_arn=arn, dataset_arn=dataset_arn,
                data_source={"dataLocation": location}, import_mode=mode,
                publish_attribution_metrics_to_s3=bool(publish_attribution_metrics_to_s3), role_arn=role_arn or None,
            )
            ledger.new("dataset-import-job", arn, record, tags)
        self._pool.submit(self._run, arn)
        return arn

    def _run(self, arn: str) -> None:
        ledger = self._ledger
        job = ledger.begin(arn)
        if job is None:
            return
        dataset = ledger.store.get(job["datasetArn"])
        try:
            if dataset is None:
                raise ImportFailure("The dataset was deleted before the import started.")
            schema = parse_schema(ledger.get(dataset["schemaArn"], "schema")["schema"])
            uris = self._locations.list_inputs(job["dataSource"]["dataLocation"])
            tables = [read_csv(self._locations.read_bytes(u), schema, dataset["datasetType"]) for u in uris]
            table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
            if ledger.stopping.is_set():
                raise ImportFailure(STOPPED_REASON)
            rows = self._files.write(dataset["_id"], dataset["datasetType"], table, job["importMode"])
        except (ImportFailure, locations.LocationError) as exc:
            ledger.set_status(arn, "CREATE FAILED", str(exc))
            return
        except Exception as exc:
            log.error("import %s failed:\n%s", arn, traceback.format_exc())
            ledger.set_status(arn, "CREATE FAILED", f"The import failed unexpectedly: {exc}")
            return
        self._cache.items_changed(dataset["datasetGroupArn"])
        ledger.store.update(dataset["datasetArn"], lambda r: r.update(_rows=rows))
        hook = self.on_incremental_interactions
        if hook and job["importMode"] == "INCREMENTAL" and dataset["datasetType"] == "INTERACTIONS":
            try:  # before ACTIVE, so whoever sees the job done finds its report; a failure keeps the import
                hook(dataset["datasetGroupArn"], table, bool(job.get("publishAttributionMetricsToS3")))
            except Exception:
                log.error("attribution of import %s failed:\n%s", arn, traceback.format_exc())
        ledger.set_status(arn, "ACTIVE", _rowsImported=table.num_rows)


class DatasetExportJobs:
    def __init__(self, ledger: Ledger, pool: JobPool, files: DatasetFiles, events: EventLog,
                 files_policy: Locations) -> None:
        self._ledger = ledger
        self._locations = files_policy
        self._pool = pool
        self._files = files
        self._events = events

    def create(
        self, job_name: str, dataset_arn: str, job_output: dict, role_arn: str,
        ingestion_mode: str | None = None, tags: list | None = None, **_: object,
    ) -> str:
        check_name(job_name, "dataset export job")
        self._ledger.get(dataset_arn, "dataset")
        path = ((job_output or {}).get("s3DataDestination") or {}).get("path")
        if not path:
            raise InvalidInputException("jobOutput.s3DataDestination.path is required.")
        self._locations.check(path, "jobOutput.s3DataDestination.path")
        mode = ingestion_mode or "PUT"
        if mode not in ("BULK", "PUT", "ALL"):
            raise InvalidInputException("ingestionMode must be BULK, PUT or ALL.")
        arn = self._ledger.arn("dataset-export-job", job_name)
        record = DatasetExportJobRecord(job_name=job_name, dataset_export_job_arn=arn, dataset_arn=dataset_arn,
                                        ingestion_mode=mode, role_arn=role_arn, job_output=job_output)
        self._ledger.new("dataset-export-job", arn, record, tags)
        self._pool.submit(self._run, arn)
        return arn

    def _run(self, arn: str) -> None:
        ledger = self._ledger
        job = ledger.begin(arn)
        if job is None:
            return
        try:
            dataset = ledger.get(job["datasetArn"], "dataset")
            frames = []
            if job["ingestionMode"] in ("BULK", "ALL"):
                table = self._files.read(dataset["_id"])
                if table is not None:
                    frames.append(table.to_pandas())
            if job["ingestionMode"] in ("PUT", "ALL"):
                kind = EVENT_FILES[dataset["datasetType"]]
                frames.append(self._events.frame(group_id(dataset["datasetGroupArn"]), kind))
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            buf = io.StringIO()
            frame.to_csv(buf, index=False)
            if ledger.stopping.is_set():
                raise locations.LocationError(STOPPED_REASON)
            dest = locations.join(job["jobOutput"]["s3DataDestination"]["path"], f"{job['jobName']}.csv")
            self._locations.write_bytes(dest, buf.getvalue().encode())
        except (locations.LocationError, ResourceNotFoundException) as exc:
            ledger.set_status(arn, "CREATE FAILED", str(exc))
            return
        ledger.set_status(arn, "ACTIVE")
