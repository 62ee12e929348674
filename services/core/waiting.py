"""Polling until something is true: Personalize has no waiters, so every client polls Describe*.

`poll_until` is the one loop; `wait_until` is that loop for a Describe* record, turning a failed
or stopped resource into `Failed`. Tests and benchmarks poll with `poll_until` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

TERMINAL = {"ACTIVE", "CREATE FAILED", "CREATE STOPPED", "DELETE FAILED"}
T = TypeVar("T")


class WaitTimeout(TimeoutError):
    pass


class Failed(RuntimeError):
    """A resource ended in CREATE FAILED / STOPPED; the message carries AWS's failureReason."""

    def __init__(self, what: str, status: str, reason: str | None) -> None:
        super().__init__(f"{what} ended {status}: {reason or 'no reason given'}")
        self.status = status
        self.reason = reason


def poll_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float,
    interval: float = 0.5,
    backoff: float = 1.0,
    max_interval: float | None = None,
    on_poll: Callable[[T], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout_message: Callable[[T], str] | None = None,
) -> T:
    """Call `fetch()` until `done(value)` holds and return that value; raise `WaitTimeout` after
    `timeout` seconds. The pause starts at `interval` and grows by `backoff` up to `max_interval`."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = fetch()
        if on_poll is not None:
            on_poll(value)
        if done(value):
            return value
        if time.monotonic() > deadline:
            message = timeout_message(value) if timeout_message else f"not done within {timeout} s; last: {value!r}"
            raise WaitTimeout(message)
        sleep(delay)
        delay = delay * backoff if max_interval is None else min(max_interval, delay * backoff)


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
    record = poll_until(
        describe, done, timeout, interval, backoff=1.5, max_interval=max_interval, on_poll=on_poll, sleep=sleep,
        timeout_message=lambda r: f"{what} did not finish within {timeout:.0f} s (last status {r.get('status')}).",
    )
    status = record.get("status", "")
    if status in ("CREATE FAILED", "CREATE STOPPED", "DELETE FAILED"):
        raise Failed(what, status, record.get("failureReason"))
    return record
