"""Who pressed what, when, with which parameters, and how it ended: a durable SQLite audit log."""

from __future__ import annotations

import json
import os
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

from .uri_secrets import redact_text

_SECRET_KEYS = re.compile(r"(password|secret|token|credential|key)", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """Never store secrets: keys that name one are masked, passwords inside URIs too."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if key and _SECRET_KEYS.search(key) and not key.lower().endswith(("arn", "keys", "id")):
        return "***"
    if isinstance(value, str):
        return redact_text(value)
    return value


SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"
RUNNING = "running"
OUTCOMES = (SUCCEEDED, FAILED, INTERRUPTED, RUNNING)


@dataclass
class Outcome:
    """Filled in by the caller inside `AuditLog.action`, e.g. with the ARN that was created."""

    result: str = "ok"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process of that id: not ours, so ours is gone
        return False
    return True


class AuditLog:
    """Each action is written when it starts (outcome "running") and updated when it ends, so an action
    whose process died half-way is found afterwards and recorded as interrupted, never as succeeded."""

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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
        if "outcome" not in columns:  # a log written before outcomes were kept: ok says it all
            self._db.execute("ALTER TABLE audit ADD COLUMN outcome TEXT")
            self._db.execute("UPDATE audit SET outcome = CASE ok WHEN 1 THEN 'succeeded' ELSE 'failed' END")
        if "pid" not in columns:
            self._db.execute("ALTER TABLE audit ADD COLUMN pid INTEGER")
        self.settle_orphans()

    def settle_orphans(self) -> int:
        """Mark as interrupted the running actions of processes that no longer exist. Returns how many."""
        with self._lock:
            rows = self._db.execute("SELECT id, pid FROM audit WHERE outcome = ?", (RUNNING,)).fetchall()
            dead = [row_id for row_id, pid in rows if pid != os.getpid() and not (pid and _alive(pid))]
            for row_id in dead:
                self._db.execute(
                    "UPDATE audit SET outcome = ?, ok = 0, result = ? WHERE id = ? AND outcome = ?",
                    (INTERRUPTED, "interrupted: the dashboard process ended before the action did", row_id,
                     RUNNING))
        return len(dead)

    def record(self, who: str, role: str, action: str, params: dict[str, Any], ok: bool, result: str,
               duration_s: float, at: float | None = None, outcome: str | None = None) -> int:
        outcome = outcome or (SUCCEEDED if ok else FAILED)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO audit (at, who, role, action, params, ok, result, duration_s, outcome, pid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (at or time.time(), who, role, action, json.dumps(redact(params), default=str),
                 int(outcome == SUCCEEDED), redact(result)[:2000], round(duration_s, 3), outcome, os.getpid()),
            )
            return int(cursor.lastrowid or 0)

    def begin(self, who: str, role: str, action: str, params: dict[str, Any]) -> int:
        """Write the action as running; `end` records how it ended. Returns the row's id."""
        return self.record(who, role, action, params, False, RUNNING, 0.0, outcome=RUNNING)

    def end(self, row_id: int, outcome: str, result: str) -> None:
        if outcome not in OUTCOMES or outcome == RUNNING:
            raise ValueError(f"An action ends {', '.join(OUTCOMES[:3])}, not {outcome!r}.")
        with self._lock:
            self._db.execute(
                "UPDATE audit SET outcome = ?, ok = ?, result = ?, duration_s = ROUND(? - at, 3)"
                " WHERE id = ? AND outcome = ?",
                (outcome, int(outcome == SUCCEEDED), redact(result)[:2000], time.time(), row_id, RUNNING),
            )

    @contextmanager
    def action(self, who: str, role: str, action: str, params: dict[str, Any]) -> Iterator[Outcome]:
        """Audit the block: succeeded, failed (an exception) or interrupted (the run was stopped, e.g. a
        rerun, a stop or a KeyboardInterrupt: not an error of the action, and not a success)."""
        row_id = self.begin(who, role, action, params)
        outcome = Outcome()
        try:
            yield outcome
        except Exception as exc:
            self.end(row_id, FAILED, f"{type(exc).__name__}: {exc}")
            raise
        except BaseException as exc:
            self.end(row_id, INTERRUPTED, f"interrupted ({type(exc).__name__})")
            raise
        self.end(row_id, SUCCEEDED, outcome.result)

    def query(self, who: str | None = None, action: str | None = None, ok: bool | None = None,
              since: float | None = None, until: float | None = None, limit: int = 5000,
              outcome: str | None = None) -> pd.DataFrame:
        where, args = [], []
        for clause, value in (("who = ?", who), ("action = ?", action), ("at >= ?", since), ("at <= ?", until),
                              ("outcome = ?", outcome)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if ok is not None:
            where.append("ok = ?")
            args.append(int(ok))
        sql = "SELECT at, who, role, action, params, ok, outcome, result, duration_s FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        frame = pd.DataFrame(rows, columns=["at", "who", "role", "action", "params", "ok", "outcome", "result",
                                           "duration_s"])
        frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
        frame["ok"] = frame["ok"].astype(bool)
        return frame

    def actions(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT action FROM audit ORDER BY action")]

    def close(self) -> None:
        with self._lock:
            self._db.close()
