"""AWS's delete lifecycle: a deleted resource shows `DELETE PENDING`, then `DELETE IN_PROGRESS`, and only then
is it gone (Describe raises ResourceNotFoundException). Cleanup code, AWS's samples among it, polls
Describe/List on that lifecycle, so the engine walks it too, briefly, on its own worker threads: the steps
sleep, and a sleeping job must not hold up the light pool that activates new resources.

Each family registers what must happen when one of its resources is finally gone (files, caches, the
records that go with it); the record itself is removed here, last.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..errors import ResourceInUseException
from ..store import Record
from .ledger import NOUN, Ledger

log = logging.getLogger("personalize-engine")
DELETING = ("DELETE PENDING", "DELETE IN_PROGRESS")
# Seconds spent in each of the two states: long enough for a poller to see them, short enough that the
# dashboard's delete flows and the tests that clean up after themselves do not wait noticeably.
STEP_SECONDS = 0.1

Finisher = Callable[[Record], None]


def deleting(record: Record | None) -> bool:
    return record is not None and record.get("status") in DELETING


class Deletions:
    def __init__(self, ledger: Ledger, workers: int = 2, step: float = STEP_SECONDS) -> None:
        self._ledger = ledger
        self._step = step
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="delete")
        self._finishers: dict[str, Finisher] = {}

    def register(self, kind: str, finish: Finisher) -> None:
        self._finishers[kind] = finish

    def start(self, arn: str, kind: str, check: Callable[[Record], None] | None = None) -> None:
        """Mark the resource DELETE PENDING (after `check`, which raises to refuse) and finish in the background.
        One step under the store's lock: two deletes of the same resource never both start."""
        store = self._ledger.store
        with store.lock:
            record = self._ledger.get(arn, kind)
            if deleting(record):
                raise ResourceInUseException(f"The {NOUN[kind]} {arn} is already being deleted ({record['status']}).")
            if check is not None:
                check(record)
            self._ledger.set_status(arn, "DELETE PENDING")
        self._executor.submit(self._run, arn)

    def resume(self) -> None:
        """After a restart: deletes that were under way finish."""
        for arn, _ in self._ledger.store.kinds():
            if deleting(self._ledger.store.peek(arn)):
                self._executor.submit(self._run, arn, 0.0)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, arn: str, step: float | None = None) -> None:
        pause = self._step if step is None else step
        store = self._ledger.store
        try:
            time.sleep(pause)
            self._ledger.set_status(arn, "DELETE IN_PROGRESS")
            time.sleep(pause)
            record, kind = store.get(arn), store.kind_of(arn)
            if record is None or kind is None:
                return
            finish = self._finishers.get(kind)
            if finish is not None:
                finish(record)
        except Exception:  # the resource still goes: a file that cannot be removed must not keep it alive
            log.error("finishing the delete of %s failed:\n%s", arn, traceback.format_exc())
        with contextlib.suppress(sqlite3.Error):  # the engine stopped meanwhile: resume() finishes it
            store.delete(arn)
