"""Who pressed what, when, with which parameters, and how it ended: a durable SQLite audit log."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

_SECRET_KEYS = re.compile(r"(password|secret|token|credential|key)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


def redact(value: Any, key: str = "") -> Any:
    """Never store secrets: keys that name one are masked, passwords inside URIs too."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if key and _SECRET_KEYS.search(key) and not key.lower().endswith(("arn", "keys", "id")):
        return "***"
    if isinstance(value, str):
        return _URI_PASSWORD.sub(r"\1***@", value)
    return value


@dataclass
class Outcome:
    """Filled in by the caller inside `AuditLog.action`, e.g. with the ARN that was created."""

    result: str = "ok"


class AuditLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,"
            " who TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL,"
            " ok INTEGER NOT NULL, result TEXT NOT NULL, duration_s REAL NOT NULL)"
        )

    def record(self, who: str, role: str, action: str, params: dict[str, Any], ok: bool, result: str,
               duration_s: float, at: float | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (at, who, role, action, params, ok, result, duration_s)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (at or time.time(), who, role, action, json.dumps(redact(params), default=str), int(ok),
                 result[:2000], round(duration_s, 3)),
            )

    @contextmanager
    def action(self, who: str, role: str, action: str, params: dict[str, Any]) -> Iterator[Outcome]:
        started = time.monotonic()
        outcome = Outcome()
        try:
            yield outcome
        except BaseException as exc:
            self.record(who, role, action, params, False, f"{type(exc).__name__}: {exc}",
                        time.monotonic() - started)
            raise
        self.record(who, role, action, params, True, outcome.result, time.monotonic() - started)

    def query(self, who: str | None = None, action: str | None = None, ok: bool | None = None,
              since: float | None = None, until: float | None = None, limit: int = 5000) -> pd.DataFrame:
        where, args = [], []
        for clause, value in (("who = ?", who), ("action = ?", action), ("at >= ?", since), ("at <= ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if ok is not None:
            where.append("ok = ?")
            args.append(int(ok))
        sql = "SELECT at, who, role, action, params, ok, result, duration_s FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        frame = pd.DataFrame(rows, columns=["at", "who", "role", "action", "params", "ok", "result", "duration_s"])
        frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
        frame["ok"] = frame["ok"].astype(bool)
        return frame

    def actions(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT action FROM audit ORDER BY action")]

    def close(self) -> None:
        with self._lock:
            self._db.close()
