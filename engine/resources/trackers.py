"""Event trackers and what streams through them: PutEvents (interactions), PutItems and PutUsers."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.utils import parse_to_aware_datetime

from ..avro import REQUIRED_FIELDS, parse_schema
from ..datastore import EventLog
from ..errors import InvalidInputException, ResourceAlreadyExistsException, ResourceNotFoundException
from .deletion import Deletions
from .jobs import JobPool
from .ledger import ACCOUNT, Ledger, check_name, group_id
from .records import EventTrackerRecord
from .serving_cache import ServingCache

MAX_PER_CALL = 10
RECORD_TYPES = {"items": ("ITEMS", "itemId"), "users": ("USERS", "userId")}


def event_time(sent: Any) -> int:
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


def schema_field(key: str) -> str:
    """A PutItems/PutUsers property (camelCase) as its schema field (UPPER_SNAKE)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()


class EventTrackers:
    def __init__(self, ledger: Ledger, light: JobPool, events: EventLog, cache: ServingCache,
                 deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._events = events
        self._cache = cache
        self._deletions = deletions
        deletions.register("event-tracker", lambda tracker: self._groups.pop(tracker["trackingId"], None))
        # trackingId -> dataset group, for PutEvents (event trackers are never modified, only deleted)
        self._groups: dict[str, str] = {}
        # called with (dataset group, events with their recorded time in `_time`) after each PutEvents
        self.on_events: Callable[[str, list[dict]], None] | None = None

    def create(self, name: str, dataset_group_arn: str, tags: list | None = None, **_: object) -> tuple[str, str]:
        check_name(name, "event tracker")
        ledger = self._ledger
        ledger.get(dataset_group_arn, "dataset-group")
        if ledger.children("event-tracker", dataset_group_arn):
            raise ResourceAlreadyExistsException("This dataset group already has an event tracker.")
        arn = ledger.arn("event-tracker", name)
        tracking_id = str(uuid.uuid4())
        record = EventTrackerRecord(name=name, event_tracker_arn=arn, account_id=ACCOUNT, tracking_id=tracking_id,
                                    dataset_group_arn=dataset_group_arn)
        ledger.new("event-tracker", arn, record, tags)
        self._light.submit(ledger.activate, arn)
        return arn, tracking_id

    def delete(self, event_tracker_arn: str) -> None:
        self._deletions.start(event_tracker_arn, "event-tracker")

    def _group_of(self, tracking_id: str) -> str:
        group = self._groups.get(tracking_id)
        if group is not None and self._ledger.store.peek(group) is not None:
            return group
        found = self._ledger.store.list("event-tracker", lambda r: r.get("trackingId") == tracking_id)
        if not found:
            raise ResourceNotFoundException(f"No event tracker has the trackingId {tracking_id}.")
        self._groups[tracking_id] = found[0]["datasetGroupArn"]
        return found[0]["datasetGroupArn"]

    def put_events(
        self, tracking_id: str, session_id: str, event_list: list[dict], user_id: str | None = None, **_: object,
    ) -> None:
        group = self._group_of(tracking_id)
        if not event_list or len(event_list) > MAX_PER_CALL:
            raise InvalidInputException("eventList takes 1 to 10 events.")
        user = user_id or f"anonymous:{session_id}"
        rows = []
        for event in event_list:
            props = _event_properties(event.get("properties"))
            # AWS's developer guide sends the item (and the value) inside `properties` as often as beside it.
            item_id = event.get("itemId") or props.get("itemId")
            if not item_id:
                raise InvalidInputException(
                    "Each event needs an itemId for item recommendations: as the event's itemId or as "
                    'an "itemId" key in its properties.'
                )
            if not event.get("eventType"):
                raise InvalidInputException("Each event needs an eventType.")
            row = {"USER_ID": user, "ITEM_ID": str(item_id), "TIMESTAMP": event_time(event.get("sentAt")),
                   "EVENT_TYPE": event["eventType"], "SESSION_ID": session_id}
            value = event.get("eventValue", props.get("eventValue"))
            if value is not None and value != "":
                try:
                    row["EVENT_VALUE"] = float(value)
                except (TypeError, ValueError) as exc:
                    raise InvalidInputException(f"eventValue {str(value)[:40]!r} is not a number.") from exc
            rows.append(row)
        self._events.append(group_id(group), "events", rows)
        if self.on_events is not None:
            self.on_events(group, [{**e, "_time": r["TIMESTAMP"]} for e, r in zip(event_list, rows, strict=True)])

    def put_items(self, dataset_arn: str, items: list[dict]) -> None:
        self._put_records(dataset_arn, items, "items")

    def put_users(self, dataset_arn: str, users: list[dict]) -> None:
        self._put_records(dataset_arn, users, "users")

    def _put_records(self, dataset_arn: str, records: list[dict], kind: str) -> None:
        dataset = self._ledger.get(dataset_arn, "dataset")
        expected, id_key = RECORD_TYPES[kind]
        if dataset["datasetType"] != expected:
            raise InvalidInputException(f"This dataset is {dataset['datasetType']}, not {expected}.")
        if not records or len(records) > MAX_PER_CALL:
            raise InvalidInputException(f"Send 1 to 10 {kind} per call.")
        schema = parse_schema(self._ledger.get(dataset["schemaArn"], "schema")["schema"])
        id_field = REQUIRED_FIELDS[expected][0]
        rows = []
        for rec in records:
            if not rec.get(id_key):
                raise InvalidInputException(f"Each record needs {id_key}.")
            row: dict[str, Any] = {id_field: str(rec[id_key])}
            for field, value in _properties(rec.get("properties")).items():
                if schema.field(field) is None:
                    raise InvalidInputException(
                        f"The property {value[0]!r} ({field}) is not in the {expected.title()} schema."
                    )
                row[field] = value[1]
            rows.append(row)
        group = dataset["datasetGroupArn"]
        self._events.append(group_id(group), kind, rows)
        self._cache.items_changed(group)


def _properties(text: str | None) -> dict[str, tuple[str, Any]]:
    """A record's `properties` JSON as {schema field: (property name, value)}."""
    if not text:
        return {}
    try:
        props = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputException("properties must be a JSON object string.") from exc
    if not isinstance(props, dict):
        raise InvalidInputException("properties must be a JSON object string.")
    return {schema_field(key): (key, value) for key, value in props.items()}


def _event_properties(text: str | None) -> dict[str, Any]:
    """An event's `properties` JSON (its interaction fields, camelCase) as a dict."""
    if not text:
        return {}
    try:
        props = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputException(f"The event's properties are not a JSON object string: {exc}.") from exc
    if not isinstance(props, dict):
        raise InvalidInputException("The event's properties must be a JSON object string.")
    return props
