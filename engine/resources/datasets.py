"""Datasets (Interactions, Items, Users) of a dataset group, and the item metadata the serving path reads."""

from __future__ import annotations

import pandas as pd

from ..avro import check_schema_for_dataset, normalize_dataset_type, parse_schema
from ..datastore import DatasetFiles, EventLog
from ..errors import InvalidInputException, ResourceAlreadyExistsException, ResourceInUseException
from ..store import Record, ResourceStore
from .deletion import Deletions, deleting
from .jobs import JobPool
from .ledger import PENDING, Ledger, check_name, group_id, new_id
from .records import DatasetRecord, now
from .serving_cache import ServingCache


class Datasets:
    def __init__(self, ledger: Ledger, light: JobPool, files: DatasetFiles, cache: ServingCache,
                 deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._files = files
        self._cache = cache
        self._deletions = deletions
        deletions.register("dataset", self._finish_delete)

    def create(
        self, name: str, schema_arn: str, dataset_group_arn: str, dataset_type: str, tags: list | None = None,
        **_: object,
    ) -> str:
        check_name(name, "dataset")
        ledger = self._ledger
        group = ledger.get(dataset_group_arn, "dataset-group")
        if group["status"] == "CREATE FAILED":
            raise ResourceInUseException("The dataset group failed to create; create a new one.")
        schema_record = ledger.get(schema_arn, "schema")
        # AWS also refuses a domain schema in a group without a domain; the engine lets that pass (the
        # dashboard's custom groups take its default ECOMMERCE schemas), as it is lenient elsewhere.
        if group.get("domain") and schema_record.get("domain") != group["domain"]:
            raise InvalidInputException(
                f"The schema's domain ({schema_record.get('domain') or 'none'}) must match the dataset group's "
                f"({group.get('domain') or 'none'}): create the schema with CreateSchema(domain=...) as the group."
            )
        schema = parse_schema(schema_record["schema"])
        dtype = normalize_dataset_type(dataset_type)
        check_schema_for_dataset(schema, dtype)
        arn = ledger.arn("dataset", group["name"], dtype)
        if ledger.store.get(arn) is not None:
            raise ResourceAlreadyExistsException(f"The dataset group already has a {dtype.title()} dataset.")
        record = DatasetRecord(name=name, dataset_arn=arn, dataset_group_arn=dataset_group_arn, dataset_type=dtype,
                               schema_arn=schema_arn, files_id=new_id())
        ledger.new("dataset", arn, record, tags)
        self._light.submit(ledger.activate, arn)
        return arn

    def update(self, dataset_arn: str, schema_arn: str) -> str:
        ledger = self._ledger
        dataset = ledger.get(dataset_arn, "dataset")
        schema = parse_schema(ledger.get(schema_arn, "schema")["schema"])
        check_schema_for_dataset(schema, dataset["datasetType"])
        old = parse_schema(ledger.get(dataset["schemaArn"], "schema")["schema"])
        dropped = [f.name for f in old.fields if schema.field(f.name) is None]
        if dropped:
            raise InvalidInputException(
                f"The new schema must keep every field of the old one; it drops {', '.join(dropped)}."
            )
        updated = now()

        def mutate(rec: Record) -> None:
            rec["schemaArn"] = schema_arn
            rec["latestDatasetUpdate"] = {"schemaArn": schema_arn, "status": "ACTIVE",
                                          "creationDateTime": updated, "lastUpdatedDateTime": updated}

        ledger.store.update(dataset_arn, mutate)
        return dataset_arn

    def delete(self, dataset_arn: str) -> None:
        store = self._ledger.store

        def check(dataset: Record) -> None:
            busy = store.list("dataset-import-job",
                              lambda r: r["datasetArn"] == dataset_arn and r["status"] in PENDING)
            training_now = store.list(
                "solution-version",
                lambda r: r.get("datasetGroupArn") == dataset["datasetGroupArn"] and r["status"] in PENDING,
            )
            if busy or training_now:
                raise ResourceInUseException("An import or a training is running on this dataset; wait for it.")

        self._deletions.start(dataset_arn, "dataset", check)

    def _finish_delete(self, dataset: Record) -> None:
        store = self._ledger.store
        for job in store.list("dataset-import-job", lambda r: r["datasetArn"] == dataset["datasetArn"]):
            store.delete(job["datasetImportJobArn"])
        self._files.remove(dataset["_id"])
        self._cache.items_changed(dataset["datasetGroupArn"])


def dataset_of(store: ResourceStore, group_arn: str, dtype: str) -> Record | None:
    """The group's dataset of a type (INTERACTIONS, ITEMS, USERS), if it has one."""
    found = store.list("dataset", lambda r: r["datasetGroupArn"] == group_arn and r["datasetType"] == dtype
                       and not deleting(r))
    return found[0] if found else None


def load_items(store: ResourceStore, files: DatasetFiles, events: EventLog, group_arn: str) -> pd.DataFrame:
    """Item metadata as it stands: the Items dataset plus PutItems, one row per ITEM_ID (the last wins)."""
    parts = []
    dataset = dataset_of(store, group_arn, "ITEMS")
    if dataset is not None:
        table = files.read(dataset["_id"])
        if table is not None:
            parts.append(table.to_pandas())
    put = events.frame(group_id(group_arn), "items")
    if not put.empty:
        parts.append(put)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["ITEM_ID"])
    frame["ITEM_ID"] = frame["ITEM_ID"].astype(str)
    return frame.drop_duplicates("ITEM_ID", keep="last")
