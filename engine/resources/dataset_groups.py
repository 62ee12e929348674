"""Dataset groups and schemas: the containers every other resource lives in or refers to."""

from __future__ import annotations

from ..avro import parse_schema
from ..datastore import EventLog
from ..errors import InvalidInputException, ResourceInUseException
from ..store import Record
from .deletion import Deletions, deleting
from .jobs import JobPool
from .ledger import NOUN, Ledger, check_name, group_id
from .records import DatasetGroupRecord, SchemaRecord
from .serving_cache import ServingCache

DOMAINS = ("ECOMMERCE", "VIDEO_ON_DEMAND")


class DatasetGroups:
    def __init__(self, ledger: Ledger, light: JobPool, events: EventLog, cache: ServingCache,
                 deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._events = events
        self._cache = cache
        self._deletions = deletions
        deletions.register("dataset-group", self._finish_delete)

    def create(
        self, name: str, domain: str | None = None, tags: list | None = None,
        role_arn: str | None = None, kms_key_arn: str | None = None, **_: object,
    ) -> str:
        check_name(name, "dataset group")
        arn = self._ledger.arn("dataset-group", name)
        if domain and domain not in DOMAINS:
            raise InvalidInputException("domain must be ECOMMERCE or VIDEO_ON_DEMAND.")
        record = DatasetGroupRecord(name=name, dataset_group_arn=arn, domain=domain or None,
                                    role_arn=role_arn or None, kms_key_arn=kms_key_arn or None)
        self._ledger.new("dataset-group", arn, record, tags)
        self._light.submit(self._ledger.activate, arn)
        return arn

    def delete(self, dataset_group_arn: str) -> None:
        def check(_: Record) -> None:
            for kind in ("dataset", "solution", "recommender", "event-tracker", "filter"):
                children = self._ledger.children(kind, dataset_group_arn)
                if kind == "dataset":
                    # More lenient than AWS, on purpose: the group may go straight after its datasets.
                    children = [c for c in children if not deleting(c)]
                if children:
                    raise ResourceInUseException(
                        f"The dataset group still has {NOUN[kind]}s; delete them first and wait until they are "
                        "gone (recommenders, event trackers, solutions, filters and datasets)."
                    )

        self._deletions.start(dataset_group_arn, "dataset-group", check)

    def _finish_delete(self, group: Record) -> None:
        self._events.remove(group_id(group["datasetGroupArn"]))
        # A new group of the same name must not see this one's item metadata.
        self._cache.items_changed(group["datasetGroupArn"])

    def recent_events(self, dataset_group_arn: str, limit: int = 100) -> list[dict]:
        """The group's newest streamed events (an engine extra, not an AWS operation)."""
        self._ledger.get(dataset_group_arn, "dataset-group")
        return self._events.recent(group_id(dataset_group_arn), limit)


class Schemas:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def create(self, name: str, schema: str, domain: str | None = None) -> str:
        check_name(name, "schema")
        parse_schema(schema)
        arn = self._ledger.arn("schema", name)
        self._ledger.new("schema", arn, SchemaRecord(name=name, schema_arn=arn, schema=schema, domain=domain or None))
        return arn

    def delete(self, schema_arn: str) -> None:
        self._ledger.get(schema_arn, "schema")
        # Schemas have no status: they go at once. Like the group, a schema may go straight after its
        # dataset (more lenient than AWS, on purpose).
        if self._ledger.store.list("dataset", lambda r: r.get("schemaArn") == schema_arn and not deleting(r)):
            raise ResourceInUseException("A dataset uses this schema; delete the dataset first.")
        self._ledger.store.delete(schema_arn)
