"""What every resource family shares: the stored records (by ARN and kind), ARNs, names, tags,
status changes and paging.

Records are dicts in AWS's shapes, persisted as JSON by `engine.store`; fields that start with an
underscore are the engine's own and never leave it (the protocol layer projects them away).
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from pathlib import Path
from typing import Any

from ..errors import (
    InvalidInputException,
    InvalidNextTokenException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    TooManyTagsException,
)
from ..store import Record, ResourceStore
from .records import ResourceRecord

ACCOUNT = "000000000000"
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
PENDING = ("CREATE PENDING", "CREATE IN_PROGRESS")
MAX_TAGS = 50  # AWS Personalize's quota of tags per resource (the API shape allows 200 in one request)
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
    "metric-attribution": "datasetGroupArn",
    "recommender": "datasetGroupArn",
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
    "metric-attribution": "metric attribution",
    "recommender": "recommender",
}


def new_id() -> str:
    return uuid.uuid4().hex


def check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not (1 <= len(name) <= 63) or not NAME_RE.match(name):
        raise InvalidInputException(
            f"The {what} name {name!r} is not valid: 1 to 63 letters, digits, hyphens or underscores, "
            "starting with a letter or digit."
        )


def check_tags(existing: dict[str, str], tags: list[dict] | None) -> dict[str, str]:
    merged = dict(existing)
    for tag in tags or []:
        key, value = tag.get("tagKey"), tag.get("tagValue")
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise InvalidInputException("Each tag needs a tagKey and a tagValue.")
        merged[key] = value
    if len(merged) > MAX_TAGS:
        raise TooManyTagsException(f"A resource takes at most {MAX_TAGS} tags.")
    return merged


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


def group_id(group_arn: str) -> str:
    """The dataset group's name: its event log and PutItems/PutUsers files are keyed by it."""
    return group_arn.rsplit("/", 1)[-1]


class Ledger:
    """The resource store seen by kind: look-ups that raise AWS's errors, creation, status changes."""

    def __init__(self, store: ResourceStore, data_dir: Path, region: str) -> None:
        self.store = store
        self.data_dir = data_dir
        self.region = region
        # Set when the engine stops: background jobs check it before they write anything lasting.
        self.stopping = threading.Event()

    def arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:personalize:{self.region}:{ACCOUNT}:{kind}/" + "/".join(parts)

    def get(self, arn: str, kind: str) -> Record:
        rec = self.store.get(arn) if isinstance(arn, str) else None
        if rec is None or self.store.kind_of(arn) != kind:
            raise ResourceNotFoundException(f"Could not find the {NOUN[kind]} {arn}.")
        return rec

    def new(self, kind: str, arn: str, resource: ResourceRecord, tags: list[dict] | None = None) -> None:
        record = resource.to_dict()
        record["_tags"] = check_tags({}, tags)
        with self.store.lock:  # check and write as one step: two same-name creates never both succeed
            if self.store.get(arn) is not None:
                raise ResourceAlreadyExistsException(f"The {NOUN[kind]} {arn} already exists.")
            self.store.put(kind, arn, record)

    def children(self, kind: str, parent_arn: str | None) -> list[Record]:
        """Records of a kind, newest first; with a parent, only those listed under it."""
        field = PARENT.get(kind)
        if parent_arn is None or field is None:
            return self.store.list(kind)
        return self.store.list(kind, lambda r: r.get(field) == parent_arn)

    def begin(self, arn: str) -> Record | None:
        """A background job's record, now CREATE IN_PROGRESS; None when it went before the job started."""
        job = self.store.get(arn)
        if job is not None:
            self.set_status(arn, "CREATE IN_PROGRESS")
        return job

    def set_status(self, arn: str, status: str, reason: str | None = None, **extra: Any) -> None:
        def mutate(rec: Record) -> None:
            rec["status"] = status
            if reason is not None:
                rec["failureReason"] = reason
            rec.update(extra)

        if self.store.get(arn) is not None:
            self.store.update(arn, mutate)

    def activate(self, arn: str) -> None:
        """Light resources: PENDING -> IN_PROGRESS -> ACTIVE, observed by Describe as on AWS."""
        self.set_status(arn, "CREATE IN_PROGRESS")
        self.set_status(arn, "ACTIVE")

    def model_path(self, version_arn: str) -> Path:
        """Where a solution version's trained ModelBundle lives (the file name is part of the data dir)."""
        solution, version = version_arn.rsplit("/", 2)[-2:]
        return self.data_dir / "models" / f"{solution}-{version}.pkl"
