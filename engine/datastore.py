"""Where imported rows and streamed events live on disk.

A dataset's rows are one Parquet file, replaced atomically by each successful import, so a failed or
interrupted import leaves the previous file untouched. Events, users and items sent through the
events API are appended to JSON-lines logs (one per dataset group) and merged at training time, as
Personalize adds them to the Interactions, Users and Items datasets.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

IDENTITY = {"INTERACTIONS": None, "ITEMS": "ITEM_ID", "USERS": "USER_ID"}


class DatasetFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def _path(self, dataset_id: str) -> Path:
        return self.root / "datasets" / dataset_id / "data.parquet"

    def read(self, dataset_id: str) -> pa.Table | None:
        path = self._path(dataset_id)
        return pq.read_table(path) if path.exists() else None

    def write(self, dataset_id: str, dataset_type: str, new: pa.Table, mode: str) -> int:
        """FULL replaces; INCREMENTAL appends interactions and upserts items/users by ID."""
        with self._locks[dataset_id]:
            old = self.read(dataset_id) if mode == "INCREMENTAL" else None  # FULL never needs the old rows
            table = _merge(old, new, IDENTITY.get(dataset_type)) if old is not None else new
            path = self._path(dataset_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name("data.parquet.tmp")
            # zstd level 1: smaller than the default snappy and faster to write and read back here.
            pq.write_table(table, tmp, compression="zstd", compression_level=1)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            return table.num_rows

    def remove(self, dataset_id: str) -> None:
        path = self._path(dataset_id)
        if path.exists():
            path.unlink()


def _ends_torn(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) != b"\n"


def _merge(old: pa.Table, new: pa.Table, key: str | None) -> pa.Table:
    combined = pa.concat_tables([old, new], promote_options="permissive")
    if key is None:
        return combined
    frame = combined.to_pandas()
    frame = frame.drop_duplicates(subset=[key], keep="last")
    return pa.Table.from_pandas(frame, preserve_index=False, schema=combined.schema)


class EventLog:
    """Append-only JSON lines per dataset group and kind (events, users, items), mirrored in memory.

    The in-memory mirror gives the runtime each user's recent events in O(1), which is what makes
    PutEvents change recommendations without retraining.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "events"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._events: dict[str, dict[str, list[tuple[str, int, str]]]] = {}
        self._count: dict[str, int] = defaultdict(int)
        self._loaded: set[str] = set()
        self._tails_checked: set[tuple[str, str]] = set()

    def _file(self, group_id: str, kind: str) -> Path:
        return self.root / f"{group_id}.{kind}.jsonl"

    def _ensure(self, group_id: str) -> None:
        if group_id in self._loaded:
            return
        by_user: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for row in self.read(group_id, "events"):
            by_user[row["USER_ID"]].append((row["ITEM_ID"], int(row["TIMESTAMP"]), row.get("EVENT_TYPE", "")))
            self._count[group_id] += 1
        self._events[group_id] = by_user
        self._loaded.add(group_id)

    def append(self, group_id: str, kind: str, rows: list[dict]) -> None:
        with self._lock:
            self._ensure(group_id)
            path = self._file(group_id, kind)
            with path.open("a", encoding="utf-8") as fh:
                if (group_id, kind) not in self._tails_checked:
                    # A crash mid-write leaves a torn last line; end it, or the next row joins it and is lost.
                    if _ends_torn(path):
                        fh.write("\n")
                    self._tails_checked.add((group_id, kind))
                fh.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
                fh.flush()
            if kind == "events":
                for r in rows:
                    self._events[group_id][r["USER_ID"]].append(
                        (r["ITEM_ID"], int(r["TIMESTAMP"]), r.get("EVENT_TYPE", ""))
                    )
                self._count[group_id] += len(rows)

    def read(self, group_id: str, kind: str) -> list[dict]:
        path = self._file(group_id, kind)
        if not path.exists():
            return []
        rows = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line torn by a crash mid-write: everything before it stands
        return rows

    def frame(self, group_id: str, kind: str) -> pd.DataFrame:
        return pd.DataFrame(self.read(group_id, kind))

    def user_events(self, group_id: str, user_id: str) -> list[tuple[str, int, str]]:
        with self._lock:
            self._ensure(group_id)
            return list(self._events[group_id].get(user_id, ()))

    def count(self, group_id: str) -> int:
        with self._lock:
            self._ensure(group_id)
            return self._count[group_id]

    def recent(self, group_id: str, limit: int = 100) -> list[dict]:
        return self.read(group_id, "events")[-limit:]

    def remove(self, group_id: str) -> None:
        with self._lock:
            for kind in ("events", "users", "items"):
                path = self._file(group_id, kind)
                if path.exists():
                    path.unlink()
            self._events.pop(group_id, None)
            self._loaded.discard(group_id)
            self._tails_checked = {t for t in self._tails_checked if t[0] != group_id}
            self._count.pop(group_id, None)
