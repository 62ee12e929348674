"""Durable resource records: an in-memory mirror over SQLite (write-through, WAL).

Every resource is one JSON record keyed by ARN. Reads come from memory (the runtime path must be
fast); each write is a SQLite transaction first, so a SIGKILL at any point leaves either the old or
the new record, never half of one.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class StoreClosed(RuntimeError):
    """A write after the engine closed its store (a background job that outlived the stop)."""


class ResourceStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS resources ("
            " arn TEXT PRIMARY KEY, kind TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL)"
        )
        self._records: dict[str, Record] = {}
        self._kinds: dict[str, str] = {}
        self._seq: dict[str, int] = {}
        for arn, kind, seq, body in self._db.execute("SELECT arn, kind, seq, body FROM resources"):
            self._records[arn] = json.loads(body)
            self._kinds[arn] = kind
            self._seq[arn] = seq
        self._next_seq = max(self._seq.values(), default=0) + 1
        self.closed = False

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()

    def _check_open(self) -> None:
        if self.closed:
            raise StoreClosed("The engine has stopped; nothing more is written.")

    # -- reads ----------------------------------------------------------------------------
    def get(self, arn: str) -> Record | None:
        with self._lock:
            rec = self._records.get(arn)
            return copy.deepcopy(rec) if rec is not None else None

    def peek(self, arn: str) -> Record | None:
        """The stored record itself, for hot read-only paths (the runtime): no copy. Safe because
        writes never mutate a stored record in place, they replace it; callers must not mutate it."""
        return self._records.get(arn)

    def kind_of(self, arn: str) -> str | None:
        return self._kinds.get(arn)

    def list(self, kind: str, where: Callable[[Record], bool] | None = None) -> list[Record]:
        """Records of one kind, newest first (the order AWS list calls return)."""
        with self._lock:
            arns = [a for a, k in self._kinds.items() if k == kind]
            arns.sort(key=lambda a: self._seq[a], reverse=True)
            out = [copy.deepcopy(self._records[a]) for a in arns]
        return [r for r in out if where is None or where(r)]

    def kinds(self) -> Iterator[tuple[str, str]]:
        with self._lock:
            return iter(list(self._kinds.items()))

    # -- writes ---------------------------------------------------------------------------
    def put(self, kind: str, arn: str, record: Record) -> None:
        with self._lock:
            self._check_open()
            seq = self._seq.get(arn) or self._next_seq
            if arn not in self._seq:
                self._next_seq += 1
            self._db.execute(
                "INSERT OR REPLACE INTO resources (arn, kind, seq, body) VALUES (?, ?, ?, ?)",
                (arn, kind, seq, json.dumps(record)),
            )
            self._records[arn] = copy.deepcopy(record)
            self._kinds[arn] = kind
            self._seq[arn] = seq

    def update(self, arn: str, mutate: Callable[[Record], None], touch: bool = True) -> Record:
        """Apply `mutate` to a copy of the record and persist it atomically; returns the new record."""
        with self._lock:
            rec = copy.deepcopy(self._records[arn])
            mutate(rec)
            if touch and "lastUpdatedDateTime" in rec:
                rec["lastUpdatedDateTime"] = time.time()
            self.put(self._kinds[arn], arn, rec)
            return copy.deepcopy(rec)

    def delete(self, arn: str) -> None:
        with self._lock:
            self._check_open()
            self._db.execute("DELETE FROM resources WHERE arn = ?", (arn,))
            self._records.pop(arn, None)
            self._kinds.pop(arn, None)
            self._seq.pop(arn, None)

    @property
    def lock(self) -> threading.RLock:
        return self._lock
