"""Polling Describe* until a resource settles: Personalize has no waiters, so every client polls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TERMINAL = {"ACTIVE", "CREATE FAILED", "CREATE STOPPED", "DELETE FAILED"}


class WaitTimeout(TimeoutError):
    pass


class Failed(RuntimeError):
    """A resource ended in CREATE FAILED / STOPPED; the message carries AWS's failureReason."""

    def __init__(self, what: str, status: str, reason: str | None) -> None:
        super().__init__(f"{what} ended {status}: {reason or 'no reason given'}")
        self.status = status
        self.reason = reason


def wait_until(
    describe: Callable[[], dict[str, Any]],
    what: str,
    done: Callable[[dict[str, Any]], bool] = lambda r: r.get("status") in TERMINAL,
    timeout: float = 3600,
    interval: float = 0.5,
    max_interval: float = 15,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll with gentle backoff (AWS jobs take minutes; the engine seconds). Raises on failure."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        record = describe()
        if on_poll is not None:
            on_poll(record)
        if done(record):
            status = record.get("status", "")
            if status in ("CREATE FAILED", "CREATE STOPPED", "DELETE FAILED"):
                raise Failed(what, status, record.get("failureReason"))
            return record
        if time.monotonic() > deadline:
            raise WaitTimeout(f"{what} did not finish within {timeout:.0f} s (last status {record.get('status')}).")
        sleep(delay)
        delay = min(max_interval, delay * 1.5)
