"""The audit log records how an action really ended: interrupted is not succeeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from services.core.audit import AuditLog
from tests.support.engine_process import REPO


def test_succeeded_failed_and_interrupted(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    with log.action("ana", "operator", "train", {}) as outcome:
        outcome.result = "arn:x"
    with pytest.raises(ValueError), log.action("ana", "operator", "import", {}):
        raise ValueError("bad file")
    with pytest.raises(KeyboardInterrupt), log.action("ana", "operator", "retrain", {}):
        raise KeyboardInterrupt
    rows = log.query().set_index("action")
    assert rows.loc["train", "outcome"] == "succeeded" and rows.loc["train", "ok"]
    assert rows.loc["import", "outcome"] == "failed" and "bad file" in rows.loc["import", "result"]
    assert rows.loc["retrain", "outcome"] == "interrupted" and not rows.loc["retrain", "ok"]
    assert list(log.query(outcome="interrupted")["action"]) == ["retrain"]


def test_an_action_whose_process_was_killed_is_recorded_as_interrupted(tmp_path):
    path = tmp_path / "audit.sqlite3"
    script = textwrap.dedent(f"""
        import signal
        from pathlib import Path
        from services.core.audit import AuditLog
        log = AuditLog(Path({str(path)!r}))
        with log.action("ana", "operator", "retrain", {{"solution": "shop"}}):
            print("started", flush=True)
            signal.pause()  # hold the action open until the test kills this process
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "started"
        log = AuditLog(path)  # the process still runs: its action is running, not interrupted
        assert list(log.query()["outcome"]) == ["running"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    reopened = AuditLog(path)
    row = reopened.query().iloc[0]
    assert row["outcome"] == "interrupted" and not row["ok"]
    assert "ended before the action did" in row["result"]


def test_a_log_written_before_outcomes_were_kept_still_reads(tmp_path):
    import sqlite3

    path = tmp_path / "audit.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, who TEXT NOT NULL,"
               " role TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL, ok INTEGER NOT NULL,"
               " result TEXT NOT NULL, duration_s REAL NOT NULL)")
    db.execute("INSERT INTO audit (at, who, role, action, params, ok, result, duration_s)"
               " VALUES (1, 'bo', 'operator', 'train', '{}', 0, 'x', 1)")
    db.commit()
    db.close()
    assert list(AuditLog(path).query()["outcome"]) == ["failed"]
