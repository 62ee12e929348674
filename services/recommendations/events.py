"""Live events: an event tracker per dataset group, test events with PutEvents, and their log.

PutEvents is how a new user stops getting the popular list: User-Personalization uses the events at
once, without retraining. AWS offers no way to read events back, so every event this dashboard sends is
kept in a local JSON-lines log; the embedded engine also shows its own recent events (an engine extra).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from services.core.clients import engine_get
from services.core.config import BackendInfo, data_dir
from services.core.listing import list_all
from services.core.waiting import wait_until
from services.recommendations.runtime_call import USER, recommend

EVENT_LOG_NAME = "sent-events.jsonl"
MAX_EVENT_TYPE = 256  # PutEvents' eventType limit
MAX_ID = 256


@dataclass(frozen=True)
class Tracker:
    name: str
    arn: str
    tracking_id: str
    status: str


def list_trackers(personalize: Any, dataset_group_arn: str) -> list[Tracker]:
    summaries = list_all(personalize, "list_event_trackers", "eventTrackers", datasetGroupArn=dataset_group_arn)
    out = []
    for s in summaries:
        detail = personalize.describe_event_tracker(eventTrackerArn=s["eventTrackerArn"])["eventTracker"]
        out.append(Tracker(detail["name"], detail["eventTrackerArn"], detail.get("trackingId", ""),
                           detail.get("status", "")))
    return out


TRACKER_SETTLED = ("ACTIVE", "CREATE FAILED")


def start_tracker(personalize: Any, dataset_group_arn: str, name: str) -> Tracker:
    """The group's event tracker, created if it has none, as it is now (often still CREATE PENDING).

    Returns at once so a page can follow the tracker to ACTIVE instead of blocking a click for minutes;
    an existing tracker is returned whatever its name, since Personalize allows one per dataset group.
    """
    existing = list_trackers(personalize, dataset_group_arn)
    if existing:
        return existing[0]
    arn = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group_arn)["eventTrackerArn"]
    detail = personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"]
    return Tracker(detail["name"], arn, detail.get("trackingId", ""), detail.get("status", ""))


def ensure_tracker(personalize: Any, dataset_group_arn: str, name: str, timeout: float = 600) -> Tracker:
    """The group's event tracker, created (and waited for) if it has none.

    Personalize allows one tracker per dataset group, so an existing one is returned whatever its name:
    pressing "create" twice, or on a group that already has one, is harmless.
    """
    existing = list_trackers(personalize, dataset_group_arn)
    if existing:
        arn = existing[0].arn
    else:
        arn = personalize.create_event_tracker(name=name, datasetGroupArn=dataset_group_arn)["eventTrackerArn"]
    detail = wait_until(lambda: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"],
                        f"event tracker {name}", timeout=timeout)
    return Tracker(detail["name"], arn, detail.get("trackingId", ""), detail.get("status", ""))


@dataclass(frozen=True)
class OutgoingEvent:
    user_id: str
    item_id: str
    event_type: str
    event_value: float | None = None
    session_id: str = ""


def check_event(event: OutgoingEvent) -> OutgoingEvent:
    """Trimmed and checked before any call: a clear message instead of an AWS validation error."""
    user, item, etype = event.user_id.strip(), event.item_id.strip(), event.event_type.strip()
    problems = []
    if not user:
        problems.append("a user id")
    if not item:
        problems.append("an item id")
    if not etype:
        problems.append("an event type (e.g. click or purchase)")
    if problems:
        raise ValueError("The event needs " + ", ".join(problems) + ".")
    if len(user) > MAX_ID or len(item) > MAX_ID or len(etype) > MAX_EVENT_TYPE:
        raise ValueError("User id, item id and event type must each be at most 256 characters.")
    value = event.event_value
    if value is not None and not pd.notna(value):
        value = None
    return OutgoingEvent(user, item, etype, None if value is None else float(value),
                     event.session_id.strip() or f"dashboard-{user}")


@dataclass(frozen=True)
class SentEvent:
    sent_at: str  # ISO 8601, UTC
    dataset_group_arn: str
    tracking_id: str
    user_id: str
    session_id: str
    item_id: str
    event_type: str
    event_value: float | None
    event_id: str


class EventLog:
    """Events sent from this dashboard, one JSON object a line (append-only, safe across threads)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / EVENT_LOG_NAME
        self._lock = threading.Lock()

    def append(self, event: SentEvent) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(event), ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)

    def recent(self, dataset_group_arn: str | None = None, limit: int = 50) -> pd.DataFrame:
        """Newest first; a damaged line (e.g. a crash mid-write) is skipped, never fatal."""
        columns = list(SentEvent.__dataclass_fields__)
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        rows = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(row, dict):
                continue
            if dataset_group_arn is None or row.get("dataset_group_arn") == dataset_group_arn:
                rows.append(row)
        frame = pd.DataFrame(rows[::-1][:limit], columns=columns)
        return frame


def send_event(events_client: Any, tracking_id: str, dataset_group_arn: str, event: OutgoingEvent,
               log: EventLog | None = None) -> SentEvent:
    """PutEvents one event for a user, then log it. The event is logged only once AWS accepted it."""
    event = check_event(event)
    now = datetime.now(UTC)
    event_id = uuid.uuid4().hex
    payload: dict[str, Any] = {"eventId": event_id, "eventType": event.event_type, "itemId": event.item_id,
                               "sentAt": now}
    if event.event_value is not None:
        payload["eventValue"] = event.event_value
    events_client.put_events(trackingId=tracking_id, userId=event.user_id, sessionId=event.session_id,
                             eventList=[payload])
    sent = SentEvent(now.isoformat(timespec="seconds"), dataset_group_arn, tracking_id, event.user_id,
                     event.session_id, event.item_id, event.event_type, event.event_value, event_id)
    (log or EventLog()).append(sent)
    return sent


def engine_recent_events(backend: BackendInfo, dataset_group_arn: str, limit: int = 50,
                         timeout: float = 5) -> pd.DataFrame | None:
    """The engine's own recent events (newest first); None when the backend is AWS (no such read-back)."""
    if not backend.is_local or not backend.endpoint_url:
        return None
    query = urllib.parse.urlencode({"datasetGroupArn": dataset_group_arn, "limit": int(limit)})
    events = json.loads(engine_get(backend, f"/_engine/events?{query}", timeout)).get("events", [])
    frame = pd.DataFrame(events)
    if frame.empty:
        return pd.DataFrame(columns=["when", "USER_ID", "ITEM_ID", "EVENT_TYPE"])
    if "TIMESTAMP" in frame.columns:
        frame.insert(0, "when", pd.to_datetime(frame["TIMESTAMP"], unit="s", utc=True).dt.strftime(
            "%Y-%m-%d %H:%M:%S"))
    return frame.iloc[::-1].reset_index(drop=True)


def recommendations_for(runtime: Any, campaign_arn: str, user_id: str, n: int = 10, kind: str = USER,
                        candidates: Sequence[str] | None = None) -> list[str]:
    """The user's list with the call the campaign's recipe takes (runtime_call.recommend)."""
    return [r.id for r in recommend(runtime, campaign_arn, kind, user_id=user_id, candidates=candidates,
                                    num_results=n)]


@dataclass(frozen=True)
class BeforeAfter:
    sent: SentEvent
    before: list[str]
    after: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def frame(self) -> pd.DataFrame:
        """Rank by rank; 'new' marks items that were not in the list before."""
        n = max(len(self.before), len(self.after))
        before = self.before + [""] * (n - len(self.before))
        after = self.after + [""] * (n - len(self.after))
        was = set(self.before)
        return pd.DataFrame({"#": range(1, n + 1), "before": before, "after": after,
                             "new": ["new" if a and a not in was else "" for a in after]})


def send_and_compare(runtime: Any, events_client: Any, campaign_arn: str, tracking_id: str,
                     dataset_group_arn: str, event: OutgoingEvent, n: int = 10, log: EventLog | None = None,
                     settle_timeout: float = 5.0, kind: str = USER,
                     candidates: Sequence[str] | None = None) -> BeforeAfter:
    """The user's list, the event, the list again. On AWS an event takes a moment to count, so the
    second read is polled briefly until it differs (or the timeout passes: then it is shown as is).

    `kind` is the runtime call the campaign's recipe takes; a ranking campaign reorders `candidates`
    (the same list before and after, so the two are comparable)."""
    event = check_event(event)

    def read() -> list[str]:
        return recommendations_for(runtime, campaign_arn, event.user_id, n, kind, candidates)

    before = read()
    sent = send_event(events_client, tracking_id, dataset_group_arn, event, log)
    deadline = time.monotonic() + settle_timeout
    after = read()
    while after == before and time.monotonic() < deadline:
        time.sleep(0.25)  # poll: AWS applies events within a second or so; the engine at once
        after = read()
    return BeforeAfter(sent, before, after)
