"""The engine's domain: Personalize resources, their lifecycles and background jobs.

Protocol-free (as moto keeps models apart from responses): methods take and return plain Python
values in AWS's field names and raise the typed errors of `errors.py`. Records are dicts in AWS's
shapes; internal fields start with an underscore and never leave the engine.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import re
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from botocore.utils import parse_to_aware_datetime

from . import filters, locations, runtime, training
from .avro import REQUIRED_FIELDS, check_schema_for_dataset, normalise_dataset_type, parse_schema
from .datastore import DatasetFiles, EventLog
from .errors import (
    InvalidInputException,
    InvalidNextTokenException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
    TooManyTagsException,
)
from .importer import ImportFailure, read_csv
from .recipes.registry import RECIPES, RELATED_ITEMS, recipe_for_arn
from .store import Record, ResourceStore

log = logging.getLogger("personalize-engine")

ACCOUNT = "000000000000"
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
PENDING = ("CREATE PENDING", "CREATE IN_PROGRESS")
MAX_TAGS = 200
RESTART_REASON = (
    "The engine stopped while this was in progress; nothing it had made ACTIVE was lost. Start it again."
)
# Which record field points at the parent each kind is listed under.
PARENT = {
    "dataset": "datasetGroupArn",
    "dataset-import-job": "datasetArn",
    "dataset-export-job": "datasetArn",
    "solution": "datasetGroupArn",
    "solution-version": "solutionArn",
    "campaign": "solutionArn",
    "event-tracker": "datasetGroupArn",
    "filter": "datasetGroupArn",
    "batch-inference-job": "solutionVersionArn",
}
NOUN = {
    "dataset-group": "dataset group",
    "schema": "schema",
    "dataset": "dataset",
    "dataset-import-job": "dataset import job",
    "dataset-export-job": "dataset export job",
    "solution": "solution",
    "solution-version": "solution version",
    "campaign": "campaign",
    "event-tracker": "event tracker",
    "filter": "filter",
    "batch-inference-job": "batch inference job",
}


_RID_PREFIX = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-xxxx-": a UUID's first four groups
_RID_COUNTER = itertools.count()  # next() on a count is atomic under the GIL


def next_recommendation_id() -> str:
    """`RID-` and a UUID-shaped id unique to this engine process: a random prefix and a counter, because
    uuid4() (an os.urandom call) was a tenth of a GetRecommendations answer's cost."""
    return f"RID-{_RID_PREFIX}{next(_RID_COUNTER):012x}"


def _now() -> float:
    return round(time.time(), 3)


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not (1 <= len(name) <= 63) or not NAME_RE.match(name):
        raise InvalidInputException(
            f"The {what} name {name!r} is not valid: 1 to 63 letters, digits, hyphens or underscores, "
            "starting with a letter or digit."
        )


def _event_time(sent: Any) -> int:
    """sentAt as Unix seconds: a number on the wire (boto3 sends epoch seconds), a datetime, or an
    ISO-8601 string from a hand-written client; anything else is the caller's error, not ours."""
    if sent is None or sent == "":
        return int(time.time())
    try:
        if hasattr(sent, "timestamp"):
            return int(sent.timestamp())
        if isinstance(sent, str):
            try:
                return int(float(sent))
            except ValueError:
                return int(parse_to_aware_datetime(sent).timestamp())
        return int(float(sent))
    except (TypeError, ValueError, OverflowError, OSError, RuntimeError) as exc:
        raise InvalidInputException(f"sentAt {str(sent)[:40]!r} is not a time.") from exc


def _camel_to_field(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()


class PersonalizeBackend:
    def __init__(self, data_dir: Path, region: str = "us-east-1") -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.region = region
        self.store = ResourceStore(self.data_dir / "resources.sqlite3")
        self.files = DatasetFiles(self.data_dir)
        self.events = EventLog(self.data_dir)
        self.models = runtime.ModelCache()
        self._light = ThreadPoolExecutor(4, thread_name_prefix="light")
        self._imports = ThreadPoolExecutor(2, thread_name_prefix="import")
        self._training = ThreadPoolExecutor(1, thread_name_prefix="train")
        self._stop_requests: set[str] = set()
        self._filters: dict[str, list[filters.Clause]] = {}
        self._items_cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._items_version: dict[str, int] = {}
        # Filter masks that depend only on item metadata, and metadata aligned with a model's items:
        # rebuilding either per request costs ~10 ms on a 20k-item catalogue.
        self._masks: dict[tuple, tuple[weakref.ref, np.ndarray]] = {}
        self._aligned_meta: dict[tuple, tuple[weakref.ref, pd.DataFrame]] = {}
        self._create_lock = threading.Lock()
        # campaign ARN -> (the stored record it was built from, its bundle, its dataset group)
        self._serving: dict[str, tuple[Record, training.ModelBundle, str]] = {}
        # (campaign, filter) pairs answered since their campaign record last changed: see serves_from_memory.
        self._warm: set[tuple[str, str | None]] = set()
        # trackingId -> dataset group, for PutEvents (event trackers are never modified, only deleted)
        self._trackers: dict[str, str] = {}
        self._recover()

    # ------------------------------------------------------------------ infrastructure
    def shutdown(self) -> None:
        for pool in (self._light, self._imports, self._training):
            pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    def arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:personalize:{self.region}:{ACCOUNT}:{kind}/" + "/".join(parts)

    def _get(self, arn: str, kind: str) -> Record:
        rec = self.store.get(arn) if isinstance(arn, str) else None
        if rec is None or self.store.kind_of(arn) != kind:
            raise ResourceNotFoundException(f"Could not find the {NOUN[kind]} {arn}.")
        return rec

    def _new(self, kind: str, arn: str, record: Record, tags: list[dict] | None = None) -> None:
        record["_tags"] = self._check_tags({}, tags)
        with self.store.lock:  # check and write as one step: two same-name creates never both succeed
            if self.store.get(arn) is not None:
                raise ResourceAlreadyExistsException(f"The {NOUN[kind]} {arn} already exists.")
            self.store.put(kind, arn, record)

    def _items_changed(self, group_arn: str) -> None:
        """Item metadata of the group changed (import, PutItems, delete): cached frames are stale."""
        with self.store.lock:
            self._items_version[group_arn] = self._items_version.get(group_arn, 0) + 1

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[..., None], *args: Any) -> None:
        def guarded() -> None:
            try:
                fn(*args)
            except Exception as exc:  # a job must never die silently: it settles its record instead
                log.error("background job %s failed:\n%s", fn.__name__, traceback.format_exc())
                if args and isinstance(args[0], str):
                    self._settle_failed(args[0], f"The job failed unexpectedly: {type(exc).__name__}: {exc}")

        pool.submit(guarded)

    def _settle_failed(self, arn: str, reason: str) -> None:
        """What `_recover` does after a restart, for one job that raised: nothing stays IN_PROGRESS."""
        def fail(rec: Record) -> None:
            if rec.get("status") in PENDING:
                rec.update(status="CREATE FAILED", failureReason=reason)
            update = rec.get("latestCampaignUpdate") or {}
            if update.get("status") in PENDING:
                update.update(status="CREATE FAILED", failureReason=reason, lastUpdatedDateTime=_now())

        with self.store.lock:
            if self.store.peek(arn) is not None:
                self.store.update(arn, fail)

    def _set_status(self, arn: str, status: str, reason: str | None = None, **extra: Any) -> None:
        def mutate(rec: Record) -> None:
            rec["status"] = status
            if reason is not None:
                rec["failureReason"] = reason
            rec.update(extra)

        if self.store.get(arn) is not None:
            self.store.update(arn, mutate)

    def _activate(self, arn: str) -> None:
        """Light resources: PENDING -> IN_PROGRESS -> ACTIVE, observed by Describe as on AWS."""
        self._set_status(arn, "CREATE IN_PROGRESS")
        self._set_status(arn, "ACTIVE")

    def _recover(self) -> None:
        """After a restart (even SIGKILL) nothing stays IN_PROGRESS: finish or fail each piece of work."""
        for arn, kind in self.store.kinds():
            rec = self.store.get(arn) or {}
            status = rec.get("status", "")
            if kind in ("dataset-group", "dataset", "event-tracker", "filter", "solution") and status in PENDING:
                self._set_status(arn, "ACTIVE")
            elif status in PENDING:
                self._set_status(arn, "CREATE FAILED", RESTART_REASON)
            elif status == "CREATE STOPPING":
                self._set_status(arn, "CREATE STOPPED")
            if kind == "campaign":
                update = rec.get("latestCampaignUpdate") or {}
                if update.get("status") in PENDING:
                    def fail(r: Record) -> None:
                        r["latestCampaignUpdate"].update(
                            status="CREATE FAILED", failureReason=RESTART_REASON, lastUpdatedDateTime=_now()
                        )
                        if r.get("status") in ("UPDATE PENDING", "UPDATE IN_PROGRESS"):
                            r["status"] = "ACTIVE"

                    self.store.update(arn, fail)
            if kind == "filter" and rec.get("status") == "ACTIVE":
                self._filters[arn] = filters.parse(rec["filterExpression"])

    def _check_tags(self, existing: dict[str, str], tags: list[dict] | None) -> dict[str, str]:
        merged = dict(existing)
        for tag in tags or []:
            key, value = tag.get("tagKey"), tag.get("tagValue")
            if not isinstance(key, str) or not key or not isinstance(value, str):
                raise InvalidInputException("Each tag needs a tagKey and a tagValue.")
            merged[key] = value
        if len(merged) > MAX_TAGS:
            raise TooManyTagsException(f"A resource takes at most {MAX_TAGS} tags.")
        return merged

    @staticmethod
    def paginate(records: list[Record], max_results: int | None, token: str | None) -> tuple[list, str | None]:
        size = 100 if max_results is None else int(max_results)
        if not 1 <= size <= 100:
            raise InvalidInputException("maxResults must be between 1 and 100.")
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode())
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidNextTokenException("The nextToken is not valid; start the listing again.") from exc
        page = records[start : start + size]
        nxt = start + size
        return page, (base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < len(records) else None)

    def _children(self, kind: str, parent_arn: str | None) -> list[Record]:
        field = PARENT.get(kind)
        if parent_arn is None or field is None:
            return self.store.list(kind)
        return self.store.list(kind, lambda r: r.get(field) == parent_arn)

    def list(self, kind: str, parent_arn: str | None = None) -> list[Record]:
        return self._children(kind, parent_arn)

    def describe(self, kind: str, arn: str) -> Record:
        return self._get(arn, kind)

    # ------------------------------------------------------------------ dataset groups
    def create_dataset_group(self, name: str, domain: str | None = None, tags: list | None = None, **kw: Any) -> str:
        _check_name(name, "dataset group")
        arn = self.arn("dataset-group", name)
        now = _now()
        record: Record = {
            "name": name,
            "datasetGroupArn": arn,
            "status": "CREATE PENDING",
            "creationDateTime": now,
            "lastUpdatedDateTime": now,
        }
        if domain:
            if domain not in ("ECOMMERCE", "VIDEO_ON_DEMAND"):
                raise InvalidInputException("domain must be ECOMMERCE or VIDEO_ON_DEMAND.")
            record["domain"] = domain
        for key in ("roleArn", "kmsKeyArn"):
            if kw.get(key):
                record[key] = kw[key]
        self._new("dataset-group", arn, record, tags)
        self._submit(self._light, self._activate, arn)
        return arn

    def delete_dataset_group(self, arn: str) -> None:
        self._get(arn, "dataset-group")
        for kind in ("dataset", "solution", "event-tracker", "filter"):
            if self._children(kind, arn):
                raise ResourceInUseException(
                    f"The dataset group still has {NOUN[kind]}s; delete them first "
                    "(event trackers, solutions, filters and datasets)."
                )
        self.store.delete(arn)
        self.events.remove(arn.rsplit("/", 1)[-1])
        self._items_changed(arn)  # a new group of the same name must not see this one's item metadata

    # ------------------------------------------------------------------ schemas
    def create_schema(self, name: str, schema: str, domain: str | None = None) -> str:
        _check_name(name, "schema")
        parse_schema(schema)
        arn = self.arn("schema", name)
        now = _now()
        record = {"name": name, "schemaArn": arn, "schema": schema, "creationDateTime": now,
                  "lastUpdatedDateTime": now}
        if domain:
            record["domain"] = domain
        self._new("schema", arn, record)
        return arn

    def delete_schema(self, arn: str) -> None:
        self._get(arn, "schema")
        if self.store.list("dataset", lambda r: r.get("schemaArn") == arn):
            raise ResourceInUseException("A dataset uses this schema; delete the dataset first.")
        self.store.delete(arn)

    # ------------------------------------------------------------------ datasets
    def create_dataset(
        self, name: str, schemaArn: str, datasetGroupArn: str, datasetType: str, tags: list | None = None
    ) -> str:
        _check_name(name, "dataset")
        group = self._get(datasetGroupArn, "dataset-group")
        if group["status"] == "CREATE FAILED":
            raise ResourceInUseException("The dataset group failed to create; create a new one.")
        schema = parse_schema(self._get(schemaArn, "schema")["schema"])
        dtype = normalise_dataset_type(datasetType)
        check_schema_for_dataset(schema, dtype)
        arn = self.arn("dataset", group["name"], dtype)
        if self.store.get(arn) is not None:
            raise ResourceAlreadyExistsException(f"The dataset group already has a {dtype.title()} dataset.")
        now = _now()
        record = {
            "name": name,
            "datasetArn": arn,
            "datasetGroupArn": datasetGroupArn,
            "datasetType": dtype,
            "schemaArn": schemaArn,
            "status": "CREATE PENDING",
            "creationDateTime": now,
            "lastUpdatedDateTime": now,
            "_id": uuid.uuid4().hex,
        }
        self._new("dataset", arn, record, tags)
        self._submit(self._light, self._activate, arn)
        return arn

    def update_dataset(self, datasetArn: str, schemaArn: str) -> str:
        dataset = self._get(datasetArn, "dataset")
        schema = parse_schema(self._get(schemaArn, "schema")["schema"])
        check_schema_for_dataset(schema, dataset["datasetType"])
        old = parse_schema(self._get(dataset["schemaArn"], "schema")["schema"])
        dropped = [f.name for f in old.fields if schema.field(f.name) is None]
        if dropped:
            raise InvalidInputException(
                f"The new schema must keep every field of the old one; it drops {', '.join(dropped)}."
            )
        now = _now()

        def mutate(rec: Record) -> None:
            rec["schemaArn"] = schemaArn
            rec["latestDatasetUpdate"] = {"schemaArn": schemaArn, "status": "ACTIVE",
                                          "creationDateTime": now, "lastUpdatedDateTime": now}

        self.store.update(datasetArn, mutate)
        return datasetArn

    def delete_dataset(self, arn: str) -> None:
        dataset = self._get(arn, "dataset")
        busy = self.store.list("dataset-import-job", lambda r: r["datasetArn"] == arn and r["status"] in PENDING)
        training_now = self.store.list(
            "solution-version",
            lambda r: r.get("datasetGroupArn") == dataset["datasetGroupArn"] and r["status"] in PENDING,
        )
        if busy or training_now:
            raise ResourceInUseException("An import or a training is running on this dataset; wait for it.")
        for job in self.store.list("dataset-import-job", lambda r: r["datasetArn"] == arn):
            self.store.delete(job["datasetImportJobArn"])
        self.files.remove(dataset["_id"])
        self.store.delete(arn)
        self._items_changed(dataset["datasetGroupArn"])

    def dataset_of(self, group_arn: str, dtype: str) -> Record | None:
        found = self.store.list(
            "dataset", lambda r: r["datasetGroupArn"] == group_arn and r["datasetType"] == dtype
        )
        return found[0] if found else None

    # ------------------------------------------------------------------ imports and exports
    def create_dataset_import_job(
        self,
        jobName: str,
        datasetArn: str,
        dataSource: dict,
        roleArn: str | None = None,
        tags: list | None = None,
        importMode: str | None = None,
        publishAttributionMetricsToS3: bool | None = None,
    ) -> str:
        _check_name(jobName, "dataset import job")
        dataset = self._get(datasetArn, "dataset")
        location = (dataSource or {}).get("dataLocation")
        if not location:
            raise InvalidInputException("dataSource.dataLocation is required.")
        locations.check_location(location, "dataSource.dataLocation")
        mode = importMode or "FULL"
        if mode not in ("FULL", "INCREMENTAL"):
            raise InvalidInputException("importMode must be FULL or INCREMENTAL.")
        if dataset["status"] == "CREATE FAILED":
            raise ResourceInUseException("The dataset failed to create.")
        arn = self.arn("dataset-import-job", jobName)
        with self._create_lock:
            running = self.store.list(
                "dataset-import-job", lambda r: r["datasetArn"] == datasetArn and r["status"] in PENDING
            )
            if running:
                raise ResourceInUseException(
                    f"The import {running[0]['jobName']} is still running on this dataset; wait for it."
                )
            now = _now()
            record = {
                "jobName": jobName,
                "datasetImportJobArn": arn,
                "datasetArn": datasetArn,
                "dataSource": {"dataLocation": location},
                "status": "CREATE PENDING",
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
                "importMode": mode,
                "publishAttributionMetricsToS3": bool(publishAttributionMetricsToS3),
            }
            if roleArn:
                record["roleArn"] = roleArn
            self._new("dataset-import-job", arn, record, tags)
        self._submit(self._imports, self._run_import, arn)
        return arn

    def _run_import(self, arn: str) -> None:
        job = self.store.get(arn)
        if job is None:
            return
        self._set_status(arn, "CREATE IN_PROGRESS")
        dataset = self.store.get(job["datasetArn"])
        try:
            if dataset is None:
                raise ImportFailure("The dataset was deleted before the import started.")
            schema = parse_schema(self._get(dataset["schemaArn"], "schema")["schema"])
            uris = locations.list_inputs(job["dataSource"]["dataLocation"])
            tables = [read_csv(locations.read_bytes(u), schema, dataset["datasetType"]) for u in uris]
            table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
            rows = self.files.write(dataset["_id"], dataset["datasetType"], table, job["importMode"])
        except (ImportFailure, locations.LocationError) as exc:
            self._set_status(arn, "CREATE FAILED", str(exc))
            return
        except Exception as exc:
            log.error("import %s failed:\n%s", arn, traceback.format_exc())
            self._set_status(arn, "CREATE FAILED", f"The import failed unexpectedly: {exc}")
            return
        self._items_changed(dataset["datasetGroupArn"])
        self.store.update(dataset["datasetArn"], lambda r: r.update(_rows=rows))
        self._set_status(arn, "ACTIVE", _rowsImported=table.num_rows)

    def create_dataset_export_job(
        self, jobName: str, datasetArn: str, jobOutput: dict, roleArn: str,
        ingestionMode: str | None = None, tags: list | None = None,
    ) -> str:
        _check_name(jobName, "dataset export job")
        self._get(datasetArn, "dataset")
        path = ((jobOutput or {}).get("s3DataDestination") or {}).get("path")
        if not path:
            raise InvalidInputException("jobOutput.s3DataDestination.path is required.")
        locations.check_location(path, "jobOutput.s3DataDestination.path")
        mode = ingestionMode or "PUT"
        if mode not in ("BULK", "PUT", "ALL"):
            raise InvalidInputException("ingestionMode must be BULK, PUT or ALL.")
        arn = self.arn("dataset-export-job", jobName)
        now = _now()
        self._new("dataset-export-job", arn, {
            "jobName": jobName, "datasetExportJobArn": arn, "datasetArn": datasetArn, "ingestionMode": mode,
            "roleArn": roleArn, "status": "CREATE PENDING", "jobOutput": jobOutput,
            "creationDateTime": now, "lastUpdatedDateTime": now,
        }, tags)
        self._submit(self._imports, self._run_export, arn)
        return arn

    def _run_export(self, arn: str) -> None:
        job = self.store.get(arn)
        if job is None:
            return
        self._set_status(arn, "CREATE IN_PROGRESS")
        try:
            dataset = self._get(job["datasetArn"], "dataset")
            frames = []
            if job["ingestionMode"] in ("BULK", "ALL"):
                table = self.files.read(dataset["_id"])
                if table is not None:
                    frames.append(table.to_pandas())
            if job["ingestionMode"] in ("PUT", "ALL"):
                kind = {"INTERACTIONS": "events", "ITEMS": "items", "USERS": "users"}[dataset["datasetType"]]
                frames.append(self.events.frame(self._group_id(dataset["datasetGroupArn"]), kind))
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            buf = io.StringIO()
            frame.to_csv(buf, index=False)
            dest = locations.join(job["jobOutput"]["s3DataDestination"]["path"], f"{job['jobName']}.csv")
            locations.write_bytes(dest, buf.getvalue().encode())
        except (locations.LocationError, ResourceNotFoundException) as exc:
            self._set_status(arn, "CREATE FAILED", str(exc))
            return
        self._set_status(arn, "ACTIVE")

    # ------------------------------------------------------------------ solutions
    def create_solution(
        self,
        name: str,
        datasetGroupArn: str,
        recipeArn: str | None = None,
        eventType: str | None = None,
        solutionConfig: dict | None = None,
        performHPO: bool = False,
        performAutoML: bool = False,
        performAutoTraining: bool | None = None,
        performIncrementalUpdate: bool | None = None,
        tags: list | None = None,
    ) -> str:
        _check_name(name, "solution")
        self._get(datasetGroupArn, "dataset-group")
        if performAutoML:
            raise InvalidInputException("performAutoML is not supported; choose a recipeArn.")
        if not recipeArn:
            raise InvalidInputException("recipeArn is required.")
        if recipe_for_arn(recipeArn) is None:
            raise InvalidInputException(
                f"Unknown recipe {recipeArn}. Use ListRecipes; e.g. arn:aws:personalize:::recipe/"
                "aws-user-personalization."
            )
        config = dict(solutionConfig or {})
        threshold = config.get("eventValueThreshold")
        if threshold not in (None, ""):
            try:
                float(threshold)
            except ValueError as exc:
                raise InvalidInputException("eventValueThreshold must be a number.") from exc
        auto = True if performAutoTraining is None else bool(performAutoTraining)  # AWS's default
        if auto:
            config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
        arn = self.arn("solution", name)
        now = _now()
        record: Record = {
            "name": name,
            "solutionArn": arn,
            "performHPO": bool(performHPO),
            "performAutoML": False,
            "performAutoTraining": auto,
            "performIncrementalUpdate": bool(performIncrementalUpdate),
            "recipeArn": recipeArn,
            "datasetGroupArn": datasetGroupArn,
            "solutionConfig": config,
            "status": "CREATE PENDING",
            "creationDateTime": now,
            "lastUpdatedDateTime": now,
        }
        if eventType:
            record["eventType"] = eventType
        self._new("solution", arn, record, tags)
        self._submit(self._light, self._activate, arn)
        return arn

    def update_solution(
        self, solutionArn: str, performAutoTraining: bool | None = None,
        performIncrementalUpdate: bool | None = None, solutionUpdateConfig: dict | None = None,
    ) -> str:
        solution = self._get(solutionArn, "solution")
        if solution["status"] != "ACTIVE":
            raise ResourceInUseException("The solution is not ACTIVE yet.")
        now = _now()

        def mutate(rec: Record) -> None:
            summary: Record = {"status": "ACTIVE", "creationDateTime": now, "lastUpdatedDateTime": now}
            if performAutoTraining is not None:
                rec["performAutoTraining"] = bool(performAutoTraining)
                summary["performAutoTraining"] = bool(performAutoTraining)
            if performIncrementalUpdate is not None:
                rec["performIncrementalUpdate"] = bool(performIncrementalUpdate)
                summary["performIncrementalUpdate"] = bool(performIncrementalUpdate)
            if solutionUpdateConfig:
                auto = solutionUpdateConfig.get("autoTrainingConfig")
                if auto:
                    rec.setdefault("solutionConfig", {})["autoTrainingConfig"] = auto
                summary["solutionUpdateConfig"] = solutionUpdateConfig
            rec["latestSolutionUpdate"] = summary

        self.store.update(solutionArn, mutate)
        return solutionArn

    def delete_solution(self, arn: str) -> None:
        self._get(arn, "solution")
        if self._children("campaign", arn):
            raise ResourceInUseException("A campaign uses this solution; delete the campaign first.")
        versions = self._children("solution-version", arn)
        if any(v["status"] in PENDING for v in versions):
            raise ResourceInUseException("A version of this solution is still training; stop it or wait.")
        for v in versions:
            self.store.delete(v["solutionVersionArn"])
            path = self._model_path(v["solutionVersionArn"])
            self.models.drop(path)
            path.unlink(missing_ok=True)
        self.store.delete(arn)

    def describe_solution(self, arn: str) -> Record:
        rec = self._get(arn, "solution")
        versions = self._children("solution-version", arn)
        if versions:
            v = versions[0]
            rec["latestSolutionVersion"] = {
                k: v[k] for k in ("solutionVersionArn", "status", "trainingMode", "trainingType",
                                  "creationDateTime", "lastUpdatedDateTime", "failureReason") if k in v
            }
        return rec

    # ------------------------------------------------------------------ solution versions
    def create_solution_version(
        self, solutionArn: str, trainingMode: str | None = None, name: str | None = None, tags: list | None = None
    ) -> str:
        solution = self._get(solutionArn, "solution")
        if solution["status"] != "ACTIVE":
            raise ResourceInUseException("The solution is not ACTIVE yet; wait for it.")
        mode = trainingMode or "FULL"
        if mode not in ("FULL", "UPDATE", "AUTOTRAIN"):
            raise InvalidInputException("trainingMode must be FULL or UPDATE.")
        if name is not None:
            _check_name(name, "solution version")
        with self._create_lock:
            versions = self._children("solution-version", solutionArn)
            running = [v for v in versions if v["status"] in PENDING or v["status"] == "CREATE STOPPING"]
            if running:
                raise ResourceInUseException(
                    f"A version of this solution is already training ({running[0]['solutionVersionArn']}); "
                    "wait for it or stop it."
                )
            if mode == "UPDATE" and not any(v["status"] == "ACTIVE" for v in versions):
                raise InvalidInputException(
                    "trainingMode UPDATE needs an ACTIVE version trained with FULL first."
                )
            arn = f"{solutionArn}/{uuid.uuid4().hex[:8]}"
            now = _now()
            record: Record = {
                "solutionVersionArn": arn,
                "solutionArn": solutionArn,
                "performHPO": solution.get("performHPO", False),
                "performAutoML": False,
                "performIncrementalUpdate": solution.get("performIncrementalUpdate", False),
                "recipeArn": solution["recipeArn"],
                "datasetGroupArn": solution["datasetGroupArn"],
                "solutionConfig": solution.get("solutionConfig", {}),
                "trainingMode": mode,
                "trainingType": "MANUAL",
                "status": "CREATE PENDING",
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
            }
            if name:
                record["name"] = name
            if solution.get("eventType"):
                record["eventType"] = solution["eventType"]
            self._new("solution-version", arn, record, tags)
        self._submit(self._training, self._run_training, arn)
        return arn

    def stop_solution_version_creation(self, solutionVersionArn: str) -> None:
        version = self._get(solutionVersionArn, "solution-version")
        if version["status"] not in PENDING:
            raise InvalidInputException(
                f"Only a version in training can be stopped; this one is {version['status']}."
            )
        with self.store.lock:  # against the training's own final write (see _run_training)
            if (self.store.get(solutionVersionArn) or {}).get("status") not in PENDING:
                raise InvalidInputException("The version finished training before the stop arrived.")
            self._stop_requests.add(solutionVersionArn)
            self._set_status(solutionVersionArn, "CREATE STOPPING")

    def _model_path(self, version_arn: str) -> Path:
        return self.data_dir / "models" / f"{version_arn.rsplit('/', 2)[-2]}-{version_arn.rsplit('/', 1)[-1]}.pkl"

    def _group_id(self, group_arn: str) -> str:
        return group_arn.rsplit("/", 1)[-1]

    def _items_frame(self, group_arn: str) -> pd.DataFrame:
        """Current item metadata: the Items dataset plus PutItems, one row per ITEM_ID (cached)."""
        version = self._items_version.get(group_arn, 0)
        cached = self._items_cache.get(group_arn)
        if cached and cached[0] == version:
            return cached[1]
        parts = []
        dataset = self.dataset_of(group_arn, "ITEMS")
        if dataset is not None:
            table = self.files.read(dataset["_id"])
            if table is not None:
                parts.append(table.to_pandas())
        put = self.events.frame(self._group_id(group_arn), "items")
        if not put.empty:
            parts.append(put)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["ITEM_ID"])
        frame["ITEM_ID"] = frame["ITEM_ID"].astype(str)
        frame = frame.drop_duplicates("ITEM_ID", keep="last")
        self._items_cache[group_arn] = (version, frame)
        return frame

    def _stopped(self, arn: str) -> bool:
        if arn in self._stop_requests:
            self._stop_requests.discard(arn)
            self._set_status(arn, "CREATE STOPPED")
            return True
        return False

    def _run_training(self, arn: str) -> None:
        version = self.store.get(arn)
        if version is None or self._stopped(arn):
            return
        self._set_status(arn, "CREATE IN_PROGRESS")
        started = time.time()
        try:
            bundle, metrics = self._train(version)
            if self._stopped(arn):
                return
            bundle.save(self._model_path(arn))
        except training.TrainingFailure as exc:
            self._set_status(arn, "CREATE FAILED", str(exc))
            return
        except Exception as exc:
            log.error("training %s failed:\n%s", arn, traceback.format_exc())
            self._set_status(arn, "CREATE FAILED", f"Training failed unexpectedly: {type(exc).__name__}: {exc}")
            return
        hours = (time.time() - started) / 3600.0
        with self.store.lock:  # a stop that arrived while saving wins: it was acknowledged as STOPPING
            if self._stopped(arn):
                self._model_path(arn).unlink(missing_ok=True)
                return
            self._set_status(arn, "ACTIVE", trainingHours=round(hours, 6), _metrics=metrics)
        self._follow_latest(version["solutionArn"], arn)

    def _train(self, version: Record) -> tuple[training.ModelBundle, dict[str, float]]:
        spec = recipe_for_arn(version["recipeArn"])
        if spec is None:
            raise training.TrainingFailure(f"The recipe {version['recipeArn']} is not available.")
        group_arn = version["datasetGroupArn"]
        dataset = self.dataset_of(group_arn, "INTERACTIONS")
        if dataset is None:
            raise training.TrainingFailure(
                "The dataset group has no Interactions dataset; create one and import interactions."
            )
        frame = training.interactions_frame(
            self.files.read(dataset["_id"]), self.events.frame(self._group_id(group_arn), "events")
        )
        config = version.get("solutionConfig") or {}
        selected = training.select_events(frame, version.get("eventType"), config.get("eventValueThreshold"))
        what = "the dataset group"
        if version.get("eventType"):
            what += f" (events of type {version['eventType']!r})"
        training.check_minimum(selected, what)
        previous = None
        if version["trainingMode"] == "UPDATE":
            active = [v for v in self._children("solution-version", version["solutionArn"])
                      if v["status"] == "ACTIVE"]
            if active:
                previous = training.ModelBundle.load(self._model_path(active[0]["solutionVersionArn"]))
        seed = int(config.get("algorithmHyperParameters", {}).get("seed", 0) or 0)
        data = training.build_input(
            selected, self._items_frame(group_arn), training.hyperparameters(version), seed, previous
        )
        bundle = training.train(spec, data, version["trainingMode"], previous, version.get("eventType"))
        bundle.typed_history = training.typed_histories(frame, bundle.user_ids, bundle.item_ids)
        metrics: dict[str, float] = {}
        if version["trainingMode"] == "FULL":
            from .metrics import evaluate  # the offline protocol AWS documents

            metrics = {k: float(v) for k, v in evaluate(spec, data, seed=seed).items()}
        elif previous is not None:
            metrics = dict(self._latest_metrics(version["solutionArn"]))
        return bundle, metrics

    def _latest_metrics(self, solution_arn: str) -> dict[str, float]:
        for v in self._children("solution-version", solution_arn):
            if v["status"] == "ACTIVE" and v.get("_metrics"):
                return v["_metrics"]
        return {}

    def get_solution_metrics(self, solutionVersionArn: str) -> dict[str, float]:
        version = self._get(solutionVersionArn, "solution-version")
        if version["status"] != "ACTIVE":
            raise ResourceInUseException(
                f"Metrics exist once the version is ACTIVE; it is {version['status']}."
            )
        return dict(version.get("_metrics") or {})

    # ------------------------------------------------------------------ campaigns
    def _resolve_version(self, arn: str) -> Record:
        """A version ARN, or `<solutionArn>/$LATEST` / a solution ARN for its newest ACTIVE version."""
        if arn.endswith("/$LATEST") or self.store.kind_of(arn) == "solution":
            solution_arn = arn.removesuffix("/$LATEST")
            self._get(solution_arn, "solution")
            active = [v for v in self._children("solution-version", solution_arn) if v["status"] == "ACTIVE"]
            if not active:
                raise InvalidInputException("The solution has no ACTIVE version yet; train one first.")
            return active[0]
        version = self._get(arn, "solution-version")
        if version["status"] != "ACTIVE":
            raise InvalidInputException(
                f"The solution version is {version['status']}; a campaign needs an ACTIVE one."
            )
        return version

    @staticmethod
    def _campaign_config(config: dict | None, recipe_type: str | None) -> dict:
        config = dict(config or {})
        explore = config.get("itemExplorationConfig")
        if explore:
            for key, (lo, hi) in {"explorationWeight": (0.0, 1.0), "explorationItemAgeCutOff": (0.0, 1e9)}.items():
                if key in explore:
                    try:
                        value = float(explore[key])
                    except ValueError as exc:
                        raise InvalidInputException(f"{key} must be a number.") from exc
                    if not lo <= value <= hi:
                        raise InvalidInputException(f"{key} must be between {lo:g} and {hi:g}.")
        config.setdefault("syncWithLatestSolutionVersion", False)
        config.setdefault("enableMetadataWithRecommendations", False)
        if recipe_type == "USER_PERSONALIZATION":
            config.setdefault("itemExplorationConfig", {"explorationWeight": "0.3",
                                                        "explorationItemAgeCutOff": "30"})
        return config

    def create_campaign(
        self, name: str, solutionVersionArn: str, minProvisionedTPS: int | None = None,
        campaignConfig: dict | None = None, tags: list | None = None,
    ) -> str:
        _check_name(name, "campaign")
        version = self._resolve_version(solutionVersionArn)
        tps = 1 if minProvisionedTPS is None else int(minProvisionedTPS)
        if tps < 1:
            raise InvalidInputException("minProvisionedTPS must be at least 1.")
        spec = recipe_for_arn(version["recipeArn"])
        config = self._campaign_config(campaignConfig, spec.recipe_type if spec else None)
        arn = self.arn("campaign", name)
        now = _now()
        record = {
            "name": name,
            "campaignArn": arn,
            "solutionVersionArn": version["solutionVersionArn"],
            "solutionArn": version["solutionArn"],
            "minProvisionedTPS": tps,
            "campaignConfig": config,
            "status": "CREATE PENDING",
            "creationDateTime": now,
            "lastUpdatedDateTime": now,
        }
        self._new("campaign", arn, record, tags)
        self._submit(self._light, self._deploy_campaign, arn)
        return arn

    def _deploy_campaign(self, arn: str) -> None:
        self._set_status(arn, "CREATE IN_PROGRESS")
        campaign = self.store.get(arn)
        if campaign is None:
            return
        try:
            self.models.get(self._model_path(campaign["solutionVersionArn"]))
        except (OSError, EOFError) as exc:
            self._set_status(arn, "CREATE FAILED", f"The solution version's model cannot be loaded: {exc}")
            return
        self._set_status(arn, "ACTIVE")

    def update_campaign(
        self, campaignArn: str, solutionVersionArn: str | None = None, minProvisionedTPS: int | None = None,
        campaignConfig: dict | None = None,
    ) -> str:
        campaign = self._get(campaignArn, "campaign")
        if campaign["status"] != "ACTIVE":
            raise ResourceInUseException(f"The campaign is {campaign['status']}; it must be ACTIVE to update.")
        if (campaign.get("latestCampaignUpdate") or {}).get("status") in PENDING:
            raise ResourceInUseException("An update of this campaign is already in progress; wait for it.")
        version = self._resolve_version(solutionVersionArn) if solutionVersionArn else \
            self._get(campaign["solutionVersionArn"], "solution-version")
        if version["solutionArn"] != campaign["solutionArn"]:
            raise InvalidInputException("A campaign can only serve versions of its own solution.")
        if minProvisionedTPS is not None and int(minProvisionedTPS) < 1:
            raise InvalidInputException("minProvisionedTPS must be at least 1.")
        spec = recipe_for_arn(version["recipeArn"])
        merged = dict(campaign.get("campaignConfig") or {})
        merged.update(campaignConfig or {})
        config = self._campaign_config(merged, spec.recipe_type if spec else None)
        self._start_campaign_update(
            campaignArn, version["solutionVersionArn"],
            int(minProvisionedTPS) if minProvisionedTPS is not None else campaign["minProvisionedTPS"], config,
        )
        return campaignArn

    def _start_campaign_update(self, arn: str, version_arn: str, tps: int, config: dict) -> None:
        now = _now()

        def mutate(rec: Record) -> None:
            rec["latestCampaignUpdate"] = {
                "solutionVersionArn": version_arn, "minProvisionedTPS": tps, "campaignConfig": config,
                "status": "CREATE PENDING", "creationDateTime": now, "lastUpdatedDateTime": now,
            }

        self.store.update(arn, mutate)
        self._submit(self._light, self._apply_campaign_update, arn)

    def _apply_campaign_update(self, arn: str) -> None:
        def step(status: str, reason: str | None = None, swap: bool = False) -> None:
            def mutate(rec: Record) -> None:
                update = rec["latestCampaignUpdate"]
                update["status"] = status
                update["lastUpdatedDateTime"] = _now()
                if reason:
                    update["failureReason"] = reason
                if swap:  # the campaign serves the new version from this write on
                    rec["solutionVersionArn"] = update["solutionVersionArn"]
                    rec["minProvisionedTPS"] = update["minProvisionedTPS"]
                    rec["campaignConfig"] = update["campaignConfig"]

            self.store.update(arn, mutate)

        step("CREATE IN_PROGRESS")
        campaign = self.store.get(arn)
        if campaign is None:
            return
        target = campaign["latestCampaignUpdate"]["solutionVersionArn"]
        try:
            if (self.store.get(target) or {}).get("status") != "ACTIVE":
                raise OSError("the solution version is no longer ACTIVE")
            self.models.get(self._model_path(target))
        except (OSError, EOFError) as exc:
            step("CREATE FAILED", f"The campaign still serves its previous version: {exc}")
            return
        step("ACTIVE", swap=True)

    def _follow_latest(self, solution_arn: str, version_arn: str) -> None:
        """campaignConfig.syncWithLatestSolutionVersion: campaigns follow each new ACTIVE version."""
        for campaign in self._children("campaign", solution_arn):
            config = campaign.get("campaignConfig") or {}
            busy = (campaign.get("latestCampaignUpdate") or {}).get("status") in PENDING
            if config.get("syncWithLatestSolutionVersion") and campaign["status"] == "ACTIVE" and not busy:
                self._start_campaign_update(
                    campaign["campaignArn"], version_arn, campaign["minProvisionedTPS"], config
                )

    def delete_campaign(self, arn: str) -> None:
        self._get(arn, "campaign")
        self.store.delete(arn)
        self._serving.pop(arn, None)

    # ------------------------------------------------------------------ event trackers
    def create_event_tracker(self, name: str, datasetGroupArn: str, tags: list | None = None) -> tuple[str, str]:
        _check_name(name, "event tracker")
        self._get(datasetGroupArn, "dataset-group")
        if self._children("event-tracker", datasetGroupArn):
            raise ResourceAlreadyExistsException("This dataset group already has an event tracker.")
        arn = self.arn("event-tracker", name)
        tracking_id = str(uuid.uuid4())
        now = _now()
        self._new("event-tracker", arn, {
            "name": name, "eventTrackerArn": arn, "accountId": ACCOUNT, "trackingId": tracking_id,
            "datasetGroupArn": datasetGroupArn, "status": "CREATE PENDING",
            "creationDateTime": now, "lastUpdatedDateTime": now,
        }, tags)
        self._submit(self._light, self._activate, arn)
        return arn, tracking_id

    def delete_event_tracker(self, arn: str) -> None:
        tracker = self._get(arn, "event-tracker")
        self.store.delete(arn)
        self._trackers.pop(tracker["trackingId"], None)

    # ------------------------------------------------------------------ filters
    def create_filter(self, name: str, datasetGroupArn: str, filterExpression: str, tags: list | None = None) -> str:
        _check_name(name, "filter")
        self._get(datasetGroupArn, "dataset-group")
        clauses = filters.parse(filterExpression)
        if len(filters.parameters(clauses)) > 5:
            raise InvalidInputException("A filter takes at most 5 placeholder parameters.")
        arn = self.arn("filter", name)
        now = _now()
        self._new("filter", arn, {
            "name": name, "filterArn": arn, "datasetGroupArn": datasetGroupArn,
            "filterExpression": filterExpression, "status": "CREATE PENDING",
            "creationDateTime": now, "lastUpdatedDateTime": now,
        }, tags)
        self._filters[arn] = clauses
        self._submit(self._light, self._activate, arn)
        return arn

    def delete_filter(self, arn: str) -> None:
        self._get(arn, "filter")
        self.store.delete(arn)
        self._filters.pop(arn, None)

    # ------------------------------------------------------------------ batch inference
    def create_batch_inference_job(
        self, jobName: str, solutionVersionArn: str, jobInput: dict, jobOutput: dict, roleArn: str,
        filterArn: str | None = None, numResults: int | None = None, tags: list | None = None, **kw: Any,
    ) -> str:
        _check_name(jobName, "batch inference job")
        self._resolve_version(solutionVersionArn)
        src = ((jobInput or {}).get("s3DataSource") or {}).get("path")
        dst = ((jobOutput or {}).get("s3DataDestination") or {}).get("path")
        if not src or not dst:
            raise InvalidInputException("jobInput.s3DataSource.path and jobOutput.s3DataDestination.path are required.")
        locations.check_location(src, "jobInput.s3DataSource.path")
        locations.check_location(dst, "jobOutput.s3DataDestination.path")
        if filterArn:
            self._get(filterArn, "filter")
        n = 25 if numResults is None else int(numResults)
        if not 1 <= n <= 500:
            raise InvalidInputException("numResults must be between 1 and 500.")
        arn = self.arn("batch-inference-job", jobName)
        now = _now()
        record = {
            "jobName": jobName, "batchInferenceJobArn": arn, "solutionVersionArn": solutionVersionArn,
            "numResults": n, "jobInput": jobInput, "jobOutput": jobOutput, "roleArn": roleArn,
            "batchInferenceJobMode": kw.get("batchInferenceJobMode") or "STANDARD",
            "status": "CREATE PENDING", "creationDateTime": now, "lastUpdatedDateTime": now,
        }
        if filterArn:
            record["filterArn"] = filterArn
        if kw.get("batchInferenceJobConfig"):
            record["batchInferenceJobConfig"] = kw["batchInferenceJobConfig"]
        self._new("batch-inference-job", arn, record, tags)
        self._submit(self._imports, self._run_batch, arn)
        return arn

    def _run_batch(self, arn: str) -> None:
        job = self.store.get(arn)
        if job is None:
            return
        self._set_status(arn, "CREATE IN_PROGRESS")
        try:
            version = self._resolve_version(job["solutionVersionArn"])
            bundle = self.models.get(self._model_path(version["solutionVersionArn"]))
            src = job["jobInput"]["s3DataSource"]["path"]
            lines = locations.read_bytes(src).decode("utf-8").splitlines()
            config = {"campaignConfig": job.get("batchInferenceJobConfig") or {}}
            group = version["datasetGroupArn"]
            out = []
            for line in lines:
                if not line.strip():
                    continue
                try:
                    req = json.loads(line)
                    user, item = req.get("userId"), req.get("itemId")
                    events = self.events.user_events(self._group_id(group), user) if user else []
                    allowed = self._allowed(bundle, job.get("filterArn"), {}, group, user, events)
                    recs = runtime.recommend(bundle, config, user, item, job["numResults"], events, allowed)
                    out.append({"input": req, "output": {"recommendedItems": [r[0] for r in recs],
                                                         "scores": [r[1] for r in recs]}, "error": None})
                except (json.JSONDecodeError, InvalidInputException, AttributeError) as exc:
                    out.append({"input": line, "output": None, "error": str(exc)})
            name = src.rstrip("/").rsplit("/", 1)[-1] + ".out"
            payload = "".join(json.dumps(o) + "\n" for o in out).encode()
            locations.write_bytes(locations.join(job["jobOutput"]["s3DataDestination"]["path"], name), payload)
        except (locations.LocationError, InvalidInputException, UnicodeDecodeError, OSError) as exc:
            self._set_status(arn, "CREATE FAILED", str(exc))
            return
        self._set_status(arn, "ACTIVE")

    # ------------------------------------------------------------------ recipes
    def recipes(self) -> list[Record]:
        out = []
        for spec in RECIPES.values():
            out.append({
                "name": spec.name, "recipeArn": spec.arn,
                "algorithmArn": f"arn:aws:personalize:::algorithm/{spec.name}",
                "featureTransformationArn": "arn:aws:personalize:::feature-transformation/sims",
                "status": "ACTIVE", "description": spec.description, "recipeType": spec.recipe_type,
                "creationDateTime": 1546300800.0, "lastUpdatedDateTime": 1546300800.0,
            })
        return out

    def describe_recipe(self, recipeArn: str) -> Record:
        for rec in self.recipes():
            if rec["recipeArn"] == recipeArn:
                return rec
        raise ResourceNotFoundException(f"Could not find the recipe {recipeArn}.")

    # ------------------------------------------------------------------ tags
    def _tagged(self, arn: str) -> Record:
        rec = self.store.get(arn) if isinstance(arn, str) else None
        if rec is None:
            raise ResourceNotFoundException(f"Could not find the resource {arn}.")
        return rec

    def tag_resource(self, resourceArn: str, tags: list[dict]) -> None:
        rec = self._tagged(resourceArn)
        merged = self._check_tags(rec.get("_tags") or {}, tags)
        self.store.update(resourceArn, lambda r: r.update(_tags=merged), touch=False)

    def untag_resource(self, resourceArn: str, tagKeys: list[str]) -> None:
        self._tagged(resourceArn)
        self.store.update(
            resourceArn,
            lambda r: r.update(_tags={k: v for k, v in (r.get("_tags") or {}).items() if k not in tagKeys}),
            touch=False,
        )

    def list_tags(self, resourceArn: str) -> list[dict]:
        rec = self._tagged(resourceArn)
        return [{"tagKey": k, "tagValue": v} for k, v in (rec.get("_tags") or {}).items()]

    # ------------------------------------------------------------------ runtime
    def _campaign_bundle(self, campaign_arn: str) -> tuple[Record, training.ModelBundle, str]:
        """The campaign's record (read-only), the bundle it serves and its dataset group. Cached per
        stored record: any write to the campaign replaces the record object, which invalidates it."""
        campaign = self.store.peek(campaign_arn) if isinstance(campaign_arn, str) else None
        if campaign is None or self.store.kind_of(campaign_arn) != "campaign":
            raise ResourceNotFoundException(f"Could not find the campaign {campaign_arn}.")
        cached = self._serving.get(campaign_arn)
        if cached is not None and cached[0] is campaign:
            return campaign, cached[1], cached[2]
        if campaign["status"] not in ("ACTIVE",):
            raise ResourceNotFoundException(f"The campaign is {campaign['status']}, not ACTIVE yet.")
        bundle = self.models.get(self._model_path(campaign["solutionVersionArn"]))
        group = (self.store.peek(campaign["solutionArn"]) or {}).get("datasetGroupArn", "")
        self._serving[campaign_arn] = (campaign, bundle, group)
        return campaign, bundle, group

    def _allowed(
        self, bundle: training.ModelBundle, filter_arn: str | None, values: dict[str, str],
        group_arn: str, user_id: str | None, events: list[tuple[str, int, str]],
    ) -> np.ndarray | None:
        if not filter_arn:
            return None
        record = self._get(filter_arn, "filter")
        if record["datasetGroupArn"] != group_arn:
            raise InvalidInputException("The filter belongs to another dataset group than the campaign.")
        clauses = self._filters.get(filter_arn) or filters.parse(record["filterExpression"])
        version = self._items_version.get(group_arn, 0)
        items_only = all(c.dataset == "Items" for clause in clauses for c in clause.conditions)
        # Keyed by the model object; a weak reference proves it is still the same one (ids are reused).
        key = (filter_arn, id(bundle), version, tuple(sorted((values or {}).items())))
        cached = self._masks.get(key) if items_only else None
        if cached is not None and cached[0]() is bundle:  # the same filter and values on the same model
            return cached[1]
        meta_key = (id(bundle), group_arn, version)
        aligned = self._aligned_meta.get(meta_key)
        if aligned is not None and aligned[0]() is bundle:
            meta = aligned[1]
        else:
            meta = self._items_frame(group_arn).set_index("ITEM_ID").reindex(pd.Index(bundle.item_ids))
            self._aligned_meta = {meta_key: (weakref.ref(bundle), meta)}  # campaigns rarely mix models
        mask = runtime.filter_mask(bundle, clauses, values or {}, meta, user_id, events, bundle.typed_history)
        if items_only:
            if len(self._masks) >= 256:
                self._masks.pop(next(iter(self._masks)))
            mask.flags.writeable = False  # shared between requests
            self._masks[key] = (weakref.ref(bundle), mask)
        return mask

    def serves_from_memory(self, campaign_arn: str, filter_arn: str | None, needs_items: bool = False) -> bool:
        """Whether a runtime call on this campaign and filter reads nothing from disk: it was answered
        before (model and events loaded), the campaign has not changed since, and, for a filter or item
        metadata (`needs_items`), the item metadata is loaded as it stands after the last PutItems. The
        HTTP transport answers such calls on its event loop and sends the others to a worker thread."""
        cached = self._serving.get(campaign_arn)
        if (cached is None or cached[0] is not self.store.peek(campaign_arn)
                or (campaign_arn, filter_arn) not in self._warm):
            return False
        if filter_arn or needs_items:
            items = self._items_cache.get(cached[2])
            return items is not None and items[0] == self._items_version.get(cached[2], 0)
        return True

    def get_recommendations(
        self, campaignArn: str | None = None, userId: str | None = None, itemId: str | None = None,
        numResults: int | None = None, filterArn: str | None = None, filterValues: dict | None = None,
        metadataColumns: dict | None = None, recommenderArn: str | None = None, **_: Any,
    ) -> tuple[list[dict], str]:
        if recommenderArn and not campaignArn:
            raise InvalidInputException("Domain recommenders are not available on this engine; use a campaign.")
        if not campaignArn:
            raise InvalidInputException("campaignArn is required.")
        if not userId and not itemId:
            raise InvalidInputException("Pass a userId or an itemId.")
        n = 25 if numResults is None else int(numResults)
        if not 1 <= n <= 500:
            raise InvalidInputException("numResults must be between 1 and 500.")
        campaign, bundle, group = self._campaign_bundle(campaignArn)
        events = self.events.user_events(self._group_id(group), userId) if userId else []
        allowed = self._allowed(bundle, filterArn, filterValues or {}, group, userId, events)
        recs = runtime.recommend(bundle, campaign, userId, itemId, n, events, allowed)
        items = [{"itemId": it, "score": score} for it, score in recs]
        self._add_metadata(items, campaign, group, metadataColumns)
        self._warm.add((campaignArn, filterArn))
        return items, next_recommendation_id()

    def _add_metadata(self, items: list[dict], campaign: Record, group: str, columns: dict | None) -> None:
        if not columns:
            return
        if not (campaign.get("campaignConfig") or {}).get("enableMetadataWithRecommendations"):
            raise InvalidInputException(
                "metadataColumns needs a campaign created with enableMetadataWithRecommendations."
            )
        wanted = list(columns.get("ITEMS") or [])
        meta = self._items_frame(group).set_index("ITEM_ID")
        missing = [c for c in wanted if c not in meta.columns]
        if missing:
            raise InvalidInputException(f"The Items dataset has no column(s) {', '.join(missing)}.")
        rows = meta.reindex([it["itemId"] for it in items])[wanted]
        for item, (_, row) in zip(items, rows.iterrows(), strict=True):
            item["metadata"] = {c: ("" if pd.isna(v) else str(v)) for c, v in row.items()}

    def get_personalized_ranking(
        self, campaignArn: str, inputList: list[str], userId: str, filterArn: str | None = None,
        filterValues: dict | None = None, metadataColumns: dict | None = None, **_: Any,
    ) -> tuple[list[dict], str]:
        if not inputList:
            raise InvalidInputException("inputList must name at least one item.")
        if len(inputList) > 500:
            raise InvalidInputException("inputList takes at most 500 items.")
        campaign, bundle, group = self._campaign_bundle(campaignArn)
        if bundle.recipe_type == RELATED_ITEMS:
            raise InvalidInputException("GetPersonalizedRanking needs a user-based recipe's campaign.")
        events = self.events.user_events(self._group_id(group), userId)
        allowed = self._allowed(bundle, filterArn, filterValues or {}, group, userId, events)
        ranked = runtime.rank(bundle, userId, inputList, events, allowed)
        items = [{"itemId": it, "score": score} for it, score in ranked]
        self._add_metadata(items, campaign, group, metadataColumns)
        self._warm.add((campaignArn, filterArn))
        return items, next_recommendation_id()

    # ------------------------------------------------------------------ events API
    def _tracker_group(self, tracking_id: str) -> str:
        group = self._trackers.get(tracking_id)
        if group is not None and self.store.peek(group) is not None:
            return group
        found = self.store.list("event-tracker", lambda r: r.get("trackingId") == tracking_id)
        if not found:
            raise ResourceNotFoundException(f"No event tracker has the trackingId {tracking_id}.")
        self._trackers[tracking_id] = found[0]["datasetGroupArn"]
        return found[0]["datasetGroupArn"]

    def put_events(self, trackingId: str, sessionId: str, eventList: list[dict], userId: str | None = None,
                   **_: Any) -> None:
        group = self._tracker_group(trackingId)
        if not eventList or len(eventList) > 10:
            raise InvalidInputException("eventList takes 1 to 10 events.")
        user = userId or f"anonymous:{sessionId}"
        rows = []
        for event in eventList:
            if not event.get("itemId"):
                raise InvalidInputException("Each event needs an itemId for item recommendations.")
            if not event.get("eventType"):
                raise InvalidInputException("Each event needs an eventType.")
            ts = _event_time(event.get("sentAt"))
            row = {"USER_ID": user, "ITEM_ID": str(event["itemId"]), "TIMESTAMP": ts,
                   "EVENT_TYPE": event["eventType"], "SESSION_ID": sessionId}
            if event.get("eventValue") is not None:
                row["EVENT_VALUE"] = float(event["eventValue"])
            rows.append(row)
        self.events.append(self._group_id(group), "events", rows)

    def _put_records(self, dataset_arn: str, records: list[dict], id_key: str, kind: str) -> None:
        dataset = self._get(dataset_arn, "dataset")
        expected = {"items": "ITEMS", "users": "USERS"}[kind]
        if dataset["datasetType"] != expected:
            raise InvalidInputException(f"This dataset is {dataset['datasetType']}, not {expected}.")
        if not records or len(records) > 10:
            raise InvalidInputException(f"Send 1 to 10 {kind} per call.")
        schema = parse_schema(self._get(dataset["schemaArn"], "schema")["schema"])
        rows = []
        id_field = REQUIRED_FIELDS[expected][0]
        for rec in records:
            if not rec.get(id_key):
                raise InvalidInputException(f"Each record needs {id_key}.")
            row: dict[str, Any] = {id_field: str(rec[id_key])}
            if rec.get("properties"):
                try:
                    props = json.loads(rec["properties"])
                except json.JSONDecodeError as exc:
                    raise InvalidInputException("properties must be a JSON object string.") from exc
                if not isinstance(props, dict):
                    raise InvalidInputException("properties must be a JSON object string.")
                for key, value in props.items():
                    field = _camel_to_field(key)
                    if schema.field(field) is None:
                        raise InvalidInputException(
                            f"The property {key!r} ({field}) is not in the {expected.title()} schema."
                        )
                    row[field] = value
            rows.append(row)
        self.events.append(self._group_id(dataset["datasetGroupArn"]), kind, rows)
        group = dataset["datasetGroupArn"]
        self._items_changed(group)

    def put_items(self, datasetArn: str, items: list[dict]) -> None:
        self._put_records(datasetArn, items, "itemId", "items")

    def put_users(self, datasetArn: str, users: list[dict]) -> None:
        self._put_records(datasetArn, users, "userId", "users")

    # ------------------------------------------------------------------ engine extras (not AWS)
    def recent_events(self, group_arn: str, limit: int = 100) -> list[dict]:
        self._get(group_arn, "dataset-group")
        return self.events.recent(self._group_id(group_arn), limit)

    def check_limits(self) -> None:
        if len(self.store.list("campaign")) > 100:
            raise LimitExceededException("At most 100 campaigns per engine.")
