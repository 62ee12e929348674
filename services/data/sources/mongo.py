"""Export shop events from MongoDB to a Personalize CSV, in bounded memory, with pymongo only.

A `MongoSource` says where the events are and how document fields map to Personalize columns
(dotted paths such as "event.user.id" are fine). `export` streams the matching documents with a
projection in batches of `batch_size`; each batch is converted column by column (BSON dates and
epoch milliseconds to Unix seconds, ObjectIds to text, numbers stored as text to numbers) and
appended to the CSV, so memory stays at one batch whatever the collection size. The last TIMESTAMP
exported, with the ids of the documents exported at that second, is the watermark for the next,
incremental, export: it reads that second again and leaves out only the documents already sent, so an
event stored late for the watermark's own second is not skipped for good.

Pure pymongo: tests pass a `mongomock.MongoClient()` as `client=`; a real server works the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from bson import json_util
from pymongo import MongoClient
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from services.core.uri_secrets import redact_text
from services.data.validation import to_unix_seconds

CORE_COLUMNS = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE")
TEXT_COLUMNS = ("USER_ID", "ITEM_ID", "EVENT_TYPE")
DEFAULT_MAPPING = {
    "USER_ID": "user_id",
    "ITEM_ID": "item_id",
    "TIMESTAMP": "timestamp",
    "EVENT_TYPE": "event_type",
}
TimestampStorage = Literal["auto", "date", "seconds", "milliseconds", "text"]
_AUTH_FAILED = 18  # MongoDB error code for AuthenticationFailed
_UNAUTHORIZED = 13


class MongoSourceError(ValueError):
    """The source configuration or the server refused; the message says what to do."""


@dataclass
class MongoSource:
    """Where the events are, which of them to take, and how fields map to Personalize columns.

    `query` is a filter as a dict or as JSON text (MongoDB extended JSON, so {"$date": ...} works).
    `start` / `end` bound the TIMESTAMP field (start inclusive, end exclusive), as datetimes or Unix
    seconds. `timestamp_storage` says how the collection stores that field so the range can be filtered
    on the server; "auto" looks at one document.
    """

    uri: str = "mongodb://localhost:27017"
    database: str = ""
    collection: str = ""
    query: dict[str, Any] | str | None = None
    mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MAPPING))
    start: datetime | int | None = None
    end: datetime | int | None = None
    timestamp_storage: TimestampStorage = "auto"
    server_selection_timeout_ms: int = 5_000

    def filter(self) -> dict[str, Any]:
        """The query as a dict (JSON text parsed with MongoDB extended JSON)."""
        if self.query is None or self.query == "":
            return {}
        if isinstance(self.query, dict):
            return dict(self.query)
        try:
            parsed = json_util.loads(self.query)
        except (ValueError, TypeError) as exc:
            raise MongoSourceError(
                f'The query filter is not valid JSON: {exc}. Example: {{"event_type": {{"$in": ["view", "purchase"]}}}}'
            ) from exc
        if not isinstance(parsed, dict):
            raise MongoSourceError('The query filter must be a JSON object, e.g. {"country": "DE"}.')
        return parsed

    def columns(self) -> list[str]:
        """Output columns: the core ones that are mapped, in Personalize order, then metadata."""
        core = [c for c in CORE_COLUMNS if c in self.mapping]
        return core + [c for c in self.mapping if c not in CORE_COLUMNS]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("start", "end"):
            if isinstance(out[key], datetime):
                out[key] = _to_seconds(out[key])
        out["kind"] = "mongodb"
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MongoSource:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class ExportResult:
    rows: int
    skipped_rows: int  # documents without a user, item or timestamp: Personalize would reject them
    watermark: int | None  # the largest TIMESTAMP exported (or the one passed in when nothing was new)
    # Ids of the documents exported at the watermark's second (`document_key`); None when not known.
    watermark_ids: list[str] | None = None
    batches: int = 0
    columns: list[str] = field(default_factory=list)
    path: Path | None = None
    frame: pd.DataFrame | None = None  # only when no output path was given


@dataclass
class ConnectionCheck:
    ok: bool
    message: str
    documents: int | None = None


# ----------------------------------------------------------------------------- conversion


def _to_seconds(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # BSON dates are UTC
        return int(aware.timestamp())
    return int(value)


def _extract(docs: list[dict[str, Any]], path: str) -> list[Any]:
    """Values at a dotted path, one level at a time (comprehensions, no call per document)."""
    parts = path.split(".")
    values: list[Any] = [d.get(parts[0]) for d in docs]
    for part in parts[1:]:
        values = [v.get(part) if isinstance(v, dict) else None for v in values]
    return values


def _to_text(values: pd.Series) -> pd.Series:
    """Text from BSON values: ObjectId -> hex, 12.0 -> "12", lists -> "a|b" (Personalize's multi-value)."""
    present = values.notna()
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    if not present.any():
        return out
    sub = values[present]
    if pd.api.types.infer_dtype(sub, skipna=True) == "string":  # the common case, no per-value work
        out[present] = sub.astype(str)
        return out
    kinds = sub.map(type)
    text = sub.astype(str)
    floats = kinds.eq(float)
    if floats.any():
        numbers = sub[floats].astype("float64")
        whole = numbers[np.floor(numbers) == numbers]
        text[whole.index] = whole.astype("int64").astype(str)
    lists = kinds.eq(list)
    if lists.any():
        text[lists] = sub[lists].map(lambda v: "|".join(str(x) for x in v))
    out[present] = text
    return out


def _convert_metadata(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    # A column that is numbers throughout (also when stored as text) stays numeric; anything else is text.
    if values.notna().any() and numbers.notna().sum() == values.notna().sum():
        return numbers
    return _to_text(values)


def documents_to_frame(docs: list[dict[str, Any]], mapping: dict[str, str]) -> pd.DataFrame:
    """Convert one batch of documents into Personalize columns (vectorised per column)."""
    core = [c for c in CORE_COLUMNS if c in mapping]
    ordered = core + [c for c in mapping if c not in CORE_COLUMNS]
    data: dict[str, pd.Series] = {}
    for column in ordered:
        raw = pd.Series(_extract(docs, mapping[column]), dtype=object)
        if column in TEXT_COLUMNS:
            data[column] = _to_text(raw)
        elif column == "TIMESTAMP":
            data[column] = to_unix_seconds(raw)
        elif column == "EVENT_VALUE":
            data[column] = pd.to_numeric(raw, errors="coerce").astype("float64")
        else:
            data[column] = _convert_metadata(raw)
    return pd.DataFrame(data, columns=ordered)


# ----------------------------------------------------------------------------- server side


@contextmanager
def _connect(source: MongoSource, client: Any | None, timeout_ms: int | None = None) -> Iterator[Any]:
    if client is not None:
        yield client  # the caller owns an injected client (tests, a shared app-wide client)
        return
    try:
        own = MongoClient(
            source.uri,
            serverSelectionTimeoutMS=timeout_ms or source.server_selection_timeout_ms,
            connectTimeoutMS=timeout_ms or source.server_selection_timeout_ms,
            tz_aware=True,
            appname="personalize-dashboard",
        )
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise MongoSourceError(f"The MongoDB connection string is not valid: {redact(str(exc))}") from exc
    try:
        yield own
    finally:
        own.close()


def redact(text: str) -> str:
    """Hide the secrets of URIs (passwords, key passphrases, session tokens) in messages."""
    return redact_text(text)


def _storage_of(collection: Any, path: str, base: dict[str, Any]) -> TimestampStorage:
    doc = collection.find_one(
        {"$and": [base, {path: {"$exists": True, "$ne": None}}]} if base else {path: {"$exists": True, "$ne": None}},
        {path: 1},
    )
    value = _extract([doc], path)[0] if doc else None
    if isinstance(value, datetime):
        return "date"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "milliseconds" if abs(value) >= 1e11 else "seconds"
    return "text"


def _bound(seconds: int, storage: TimestampStorage) -> Any:
    if storage == "date":
        return datetime.fromtimestamp(seconds, UTC)
    if storage == "milliseconds":
        return seconds * 1000
    return seconds


def _time_window(
    source: MongoSource, since_watermark: int | None, inclusive: bool = False,
) -> tuple[int | None, int | None]:
    lower = None if source.start is None else _to_seconds(source.start)
    if since_watermark is not None:
        # From the watermark's second when the documents exported at it are known (they are left out
        # by id), else strictly after it: a watermark saved without them cannot tell old from late.
        lower = max(lower or -(2**62), int(since_watermark) + (0 if inclusive else 1))
    upper = None if source.end is None else _to_seconds(source.end)
    return lower, upper


# Ids kept with a watermark at most; a second holding more (dates stored without a time, a bulk load
# stamped once) is not read again, as before ids were kept, so the saved source stays small.
MAX_WATERMARK_IDS = 10_000


def document_key(value: Any) -> str:
    """A document's `_id` as text that keeps its type apart (the ObjectId 'abc…' is not the string)."""
    return f"{type(value).__name__}:{value}"


def build_filter(
    source: MongoSource, collection: Any, since_watermark: int | None = None, inclusive: bool = False,
) -> dict[str, Any]:
    """The server-side filter: the user's query AND the time window on the TIMESTAMP field."""
    base = source.filter()
    lower, upper = _time_window(source, since_watermark, inclusive)
    ts_path = source.mapping.get("TIMESTAMP")
    if ts_path is None or (lower is None and upper is None):
        return base
    storage = source.timestamp_storage
    if storage == "auto":
        storage = _storage_of(collection, ts_path, base)
    if storage == "text":
        return base  # text dates do not compare reliably on the server; the batches are filtered instead
    window: dict[str, Any] = {}
    if lower is not None:
        window["$gte"] = _bound(lower, storage)
    if upper is not None:
        window["$lt"] = _bound(upper, storage)
    return {"$and": [base, {ts_path: window}]} if base else {ts_path: window}


def _projection(mapping: dict[str, str]) -> dict[str, int]:
    paths = sorted(set(mapping.values()))
    # Drop paths nested under another projected path: MongoDB refuses "a" together with "a.b".
    kept = [p for p in paths if not any(p.startswith(q + ".") for q in paths if q != p)]
    return dict.fromkeys(kept, 1)  # _id comes too (MongoDB's default): the watermark keeps ids


def _batches(cursor: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for doc in cursor:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _keep(frame: pd.DataFrame, lower: int | None, upper: int | None) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    for column in ("USER_ID", "ITEM_ID", "TIMESTAMP"):
        if column in frame.columns:
            values = frame[column]
            empty = values.isna()
            if column != "TIMESTAMP":
                empty |= values.fillna("").str.strip() == ""
            keep &= ~empty.to_numpy(dtype=bool)
    if "TIMESTAMP" in frame.columns and (lower is not None or upper is not None):
        ts = frame["TIMESTAMP"].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if lower is not None:
                keep &= ts >= lower
            if upper is not None:
                keep &= ts < upper
    return keep


def _required_rows(frame: pd.DataFrame) -> np.ndarray:
    return _keep(frame, None, None)


@dataclass
class _ExportTally:
    """What an export has written so far, and the newest second it reached with the ids sent at it."""

    rows: int = 0
    skipped: int = 0
    batches: int = 0
    latest: int | None = None
    latest_ids: list[str] = field(default_factory=list)

    def note_newest(self, docs: list[dict[str, Any]], keep: np.ndarray, stamps: np.ndarray | None) -> None:
        if stamps is None:
            return
        kept = np.flatnonzero(keep)
        batch_max = int(stamps[kept].max())
        at_max = [document_key(docs[i].get("_id")) for i in kept[stamps[kept] == batch_max]]
        if self.latest is None or batch_max > self.latest:
            self.latest, self.latest_ids = batch_max, at_max
        elif batch_max == self.latest:
            self.latest_ids.extend(at_max)

    def watermark(
        self, since: int | None, seen: frozenset[str], inclusive: bool,
    ) -> tuple[int | None, list[str] | None]:
        ids: list[str] | None
        if self.latest is None:  # nothing new: the watermark and what is known of its second stay
            watermark, ids = since, (sorted(seen) if inclusive else None)
        elif self.latest == since:  # only late documents of the watermark's own second
            watermark, ids = self.latest, sorted(seen | set(self.latest_ids))
        else:
            watermark, ids = self.latest, sorted(set(self.latest_ids))
        if ids is not None and len(ids) > MAX_WATERMARK_IDS:
            ids = None  # e.g. dates without a time: the next export starts a second later instead
        return watermark, ids


def _select(
    docs: list[dict[str, Any]], source: MongoSource, window: tuple[int | None, int | None],
    since: int | None, seen: frozenset[str], tally: _ExportTally,
) -> pd.DataFrame | None:
    """The batch's rows to export (None when there are none); counts what is skipped and the newest second."""
    frame = documents_to_frame(docs, source.mapping)
    keep = _keep(frame, *window)
    tally.skipped += int((~_required_rows(frame)).sum())
    tally.batches += 1
    stamps = (frame["TIMESTAMP"].to_numpy(dtype="float64", na_value=np.nan)
              if "TIMESTAMP" in frame.columns else None)
    if seen and stamps is not None:
        for i in np.flatnonzero(keep & (stamps == since)):
            keep[i] = document_key(docs[i].get("_id")) not in seen  # sent last time
    if not keep.any():
        return None
    tally.note_newest(docs, keep, stamps)
    return frame[keep]


def export(
    source: MongoSource,
    out_path: str | Path | None = None,
    batch_size: int = 10_000,
    since_watermark: int | None = None,
    client: Any | None = None,
    on_batch: Callable[[int], None] | None = None,
    exported_at_watermark: Iterable[str] | None = None,
) -> ExportResult:
    """Export the mapped events to `out_path` (CSV, written batch by batch) or, without a path, a DataFrame.

    Only events from `since_watermark` (Unix seconds) on are exported when it is given, less the
    documents `exported_at_watermark` names (ids from the previous result's `watermark_ids`); without
    those ids, only events strictly after it. The CSV appears under its final name only when complete
    (written to "<name>.part" first). `on_batch` is called with the rows written so far, for progress.
    """
    if "TIMESTAMP" not in source.mapping and (source.start or source.end or since_watermark is not None):
        raise MongoSourceError("A date range or watermark needs the TIMESTAMP field to be mapped.")
    columns = source.columns()
    inclusive = since_watermark is not None and exported_at_watermark is not None
    seen = frozenset(exported_at_watermark or ()) if inclusive else frozenset()
    window = _time_window(source, since_watermark, inclusive)
    tally = _ExportTally()
    frames: list[pd.DataFrame] = []
    target = Path(out_path) if out_path is not None else None
    partial = target.with_name(target.name + ".part") if target else None
    try:
        with _connect(source, client) as mongo:
            collection = mongo[source.database][source.collection]
            cursor = collection.find(
                build_filter(source, collection, since_watermark, inclusive),
                _projection(source.mapping),
                batch_size=batch_size,
            )
            with partial.open("w", encoding="utf-8", newline="") if partial else contextlib.nullcontext() as fh:
                if fh:
                    fh.write(",".join(columns) + "\n")
                for docs in _batches(cursor, batch_size):
                    frame = _select(docs, source, window, since_watermark, seen, tally)
                    if frame is None:
                        continue
                    if fh:
                        frame.to_csv(fh, header=False, index=False)
                    else:
                        frames.append(frame)
                    tally.rows += len(frame)
                    if on_batch:
                        on_batch(tally.rows)
    except PyMongoError as exc:
        if partial:
            partial.unlink(missing_ok=True)
        raise MongoSourceError(_explain(exc, source)) from exc
    except BaseException:
        if partial:
            partial.unlink(missing_ok=True)
        raise
    if target and partial:
        os.replace(partial, target)
    frame_out = None
    if target is None:
        frame_out = pd.concat(frames, ignore_index=True) if frames else documents_to_frame([], source.mapping)
    watermark, watermark_ids = tally.watermark(since_watermark, seen, inclusive)
    return ExportResult(tally.rows, tally.skipped, watermark, watermark_ids, tally.batches, columns, target,
                        frame_out)


def preview(source: MongoSource, n: int = 20, client: Any | None = None) -> pd.DataFrame:
    """The first `n` matching events, converted exactly as `export` would write them."""
    with _connect(source, client) as mongo:
        collection = mongo[source.database][source.collection]
        try:
            docs = list(collection.find(build_filter(source, collection), _projection(source.mapping)).limit(n))
        except PyMongoError as exc:
            raise MongoSourceError(_explain(exc, source)) from exc
    return documents_to_frame(docs, source.mapping)


def discover_fields(source: MongoSource, n: int = 50, client: Any | None = None) -> list[str]:
    """Dotted paths of the fields found in `n` sample documents, to offer in the mapping form."""

    def walk(doc: dict[str, Any], prefix: str = "") -> Iterator[str]:
        for key, value in doc.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                yield from walk(value, path + ".")
            else:
                yield path

    with _connect(source, client) as mongo:
        docs = list(mongo[source.database][source.collection].find(source.filter()).limit(n))
    seen: dict[str, None] = {}
    for doc in docs:
        seen.update(dict.fromkeys(walk(doc)))
    return list(seen)


def _host(source: MongoSource) -> str:
    match = re.match(r"mongodb(?:\+srv)?://(?:[^@/]*@)?([^/?]+)", source.uri)
    return match.group(1) if match else redact(source.uri)


def _explain(exc: PyMongoError, source: MongoSource) -> str:
    if isinstance(exc, OperationFailure) and exc.code == _AUTH_FAILED:
        return (
            "MongoDB refused the user name or password in the connection string. Check them, and the "
            "authSource (the database the user is defined in, often ?authSource=admin)."
        )
    if isinstance(exc, OperationFailure) and exc.code == _UNAUTHORIZED:
        return (
            f"The MongoDB user may not read {source.database}.{source.collection}. Ask for the 'read' role "
            "on that database."
        )
    if isinstance(exc, ServerSelectionTimeoutError | ConnectionFailure):
        return (
            f"Cannot reach a MongoDB server at {_host(source)}. Check the host and port in the connection "
            "string, that the server is running, and that a firewall or VPN does not block it."
        )
    if isinstance(exc, ConfigurationError):
        return f"The MongoDB connection string is not valid: {redact(str(exc))}"
    if isinstance(exc, OperationFailure):
        detail = exc.details.get("errmsg", str(exc)) if exc.details else str(exc)
        return f"MongoDB refused the query: {redact(str(detail))}"
    return f"MongoDB error: {redact(str(exc))}"


def check_connection(source: MongoSource, client: Any | None = None, timeout_ms: int = 3_000) -> ConnectionCheck:
    """Can we reach the server, log in, and find the database and collection? Never raises."""
    try:
        with _connect(source, client, timeout_ms) as mongo:
            mongo.admin.command("ping")
            if not source.database:
                return ConnectionCheck(False, "Connected, but no database is set. Choose the database to read.")
            try:
                databases = mongo.list_database_names()
            except OperationFailure as exc:
                if exc.code != _UNAUTHORIZED:
                    raise
                databases = None  # users limited to one database may not list them: go on and look inside
            if databases is not None and source.database not in databases:
                shown = ", ".join(sorted(d for d in databases if d not in ("admin", "config", "local"))) or "none"
                return ConnectionCheck(
                    False,
                    f"The server has no database {source.database!r} (databases found: {shown}). Check the spelling.",
                )
            names = mongo[source.database].list_collection_names()
            if source.collection not in names:
                shown = ", ".join(sorted(names)[:20]) or "none"
                return ConnectionCheck(
                    False,
                    f"The database {source.database!r} has no collection "
                    f"{source.collection!r} (collections found: {shown}).",
                )
            count = mongo[source.database][source.collection].estimated_document_count()
            return ConnectionCheck(
                True,
                f"Connected to {_host(source)}: {source.database}.{source.collection} has about {count:,} documents.",
                count,
            )
    except MongoSourceError as exc:
        return ConnectionCheck(False, str(exc))
    except PyMongoError as exc:
        return ConnectionCheck(False, _explain(exc, source))


def to_json(source: MongoSource) -> str:
    """The configuration as JSON text (for a download button or a saved source)."""
    return json.dumps(source.to_dict(), indent=2, default=str)
