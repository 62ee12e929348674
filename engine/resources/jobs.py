"""Background work and its lifecycle: one `JobPool` type (the light, import and training pools are
instances of it) and the recovery that runs when the engine starts on an existing data dir.

A job is a function of one resource ARN. Whatever it raises, its record is settled (CREATE FAILED with a
reason) so nothing stays IN_PROGRESS until the next restart.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..store import Record, ResourceStore
from .ledger import PENDING, Ledger
from .records import now

log = logging.getLogger("personalize-engine")

RESTART_REASON = (
    "The engine stopped while this was in progress; nothing it had made ACTIVE was lost. Start it again."
)
# Kinds whose creation has no work that can fail: after a restart they simply become ACTIVE.
LIGHT_KINDS = ("dataset-group", "dataset", "event-tracker", "filter", "solution")


class JobPool:
    """A fixed number of worker threads running jobs on resources, each job guarded."""

    def __init__(self, ledger: Ledger, workers: int, name: str) -> None:
        self._ledger = ledger
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=name)

    def submit(self, job: Callable[[str], None], arn: str) -> None:
        def guarded() -> None:
            try:
                job(arn)
            except Exception as exc:  # a job must never die silently: it settles its record instead
                log.error("background job %s failed:\n%s", job.__qualname__, traceback.format_exc())
                settle_failed(self._ledger.store, arn, f"The job failed unexpectedly: {type(exc).__name__}: {exc}")

        self._executor.submit(guarded)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def settle_failed(store: ResourceStore, arn: str, reason: str) -> None:
    """What `recover` does after a restart, for one job that raised: nothing stays IN_PROGRESS."""
    def fail(rec: Record) -> None:
        if rec.get("status") in PENDING:
            rec.update(status="CREATE FAILED", failureReason=reason)
        update = rec.get("latestCampaignUpdate") or {}
        if update.get("status") in PENDING:
            update.update(status="CREATE FAILED", failureReason=reason, lastUpdatedDateTime=now())

    with store.lock:
        if store.peek(arn) is not None:
            store.update(arn, fail)


def recover(ledger: Ledger) -> None:
    """After a restart (even SIGKILL) nothing stays IN_PROGRESS: finish or fail each piece of work."""
    store = ledger.store
    for arn, kind in store.kinds():
        rec = store.get(arn) or {}
        status = rec.get("status", "")
        if kind in LIGHT_KINDS and status in PENDING:
            ledger.set_status(arn, "ACTIVE")
        elif status in PENDING:
            ledger.set_status(arn, "CREATE FAILED", RESTART_REASON)
        elif status == "CREATE STOPPING":
            ledger.set_status(arn, "CREATE STOPPED")
        if kind == "campaign" and (rec.get("latestCampaignUpdate") or {}).get("status") in PENDING:
            store.update(arn, _fail_campaign_update)


def _fail_campaign_update(rec: Record) -> None:
    rec["latestCampaignUpdate"].update(status="CREATE FAILED", failureReason=RESTART_REASON, lastUpdatedDateTime=now())
    if rec.get("status") in ("UPDATE PENDING", "UPDATE IN_PROGRESS"):
        rec["status"] = "ACTIVE"
