"""Background work and its lifecycle: one `JobPool` type (the light, import and training pools are
instances of it) and the recovery that runs when the engine starts on an existing data dir.

A job is a function of one resource ARN. Whatever it raises, its record is settled (CREATE FAILED with a
reason) so nothing stays IN_PROGRESS until the next restart.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from ..store import Record, ResourceStore, StoreClosed
from .ledger import PENDING, Ledger
from .records import now

log = logging.getLogger("personalize-engine")

RESTART_REASON = (
    "The engine stopped while this was in progress; nothing it had made ACTIVE was lost. Start it again."
)
STOPPED_REASON = "The engine stopped while this was in progress; nothing was kept. Run it again."
# Kinds whose creation has no work that can fail: after a restart they simply become ACTIVE.
LIGHT_KINDS = ("dataset-group", "dataset", "event-tracker", "filter", "solution")


class JobPool:
    """A fixed number of worker threads running jobs on resources, each job guarded."""

    def __init__(self, ledger: Ledger, workers: int, name: str) -> None:
        self._ledger = ledger
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._running: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, job: Callable[[str], None], arn: str) -> None:
        def guarded() -> None:
            if self._ledger.stopping.is_set():
                return  # queued before the stop: its record stays PENDING and is failed at the next start
            try:
                job(arn)
            except StoreClosed:
                return  # outlived the engine's stop: the next start's recovery settles its record
            except Exception as exc:  # a job must never die silently: it settles its record instead
                log.error("background job %s failed:\n%s", job.__qualname__, traceback.format_exc())
                settle_failed(self._ledger.store, arn, f"The job failed unexpectedly: {type(exc).__name__}: {exc}")

        future = self._executor.submit(guarded)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._running.discard(future)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def wait(self, deadline: float, hurry: Callable[[], bool] = lambda: False) -> bool:
        """Wait until the jobs still running end, `deadline` (time.monotonic) passes or `hurry()`; True
        when none is left. Used only after `shutdown`, so no job starts meanwhile."""
        while time.monotonic() < deadline and not hurry():
            with self._lock:
                if not self._running:
                    return True
            time.sleep(0.05)
        with self._lock:
            return not self._running


def settle_failed(store: ResourceStore, arn: str, reason: str) -> None:
    """What `recover` does after a restart, for one job that raised: nothing stays IN_PROGRESS."""
    def fail(rec: Record) -> None:
        if rec.get("status") in PENDING:
            rec.update(status="CREATE FAILED", failureReason=reason)
        update = rec.get("latestCampaignUpdate") or {}
        if update.get("status") in PENDING:
            update.update(status="CREATE FAILED", failureReason=reason, lastUpdatedDateTime=now())

    with store.lock:
        if store.peek(arn) is not None and not store.closed:
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
    _remove_unowned_models(ledger)


def _remove_unowned_models(ledger: Ledger) -> None:
    """A model file belongs to an ACTIVE version; anything else (a save cut short by a stop, the model
    of a version that ended FAILED or STOPPED) is removed so no data dir keeps models nobody serves."""
    folder = ledger.data_dir / "models"
    if not folder.is_dir():
        return
    kept = {ledger.model_path(v["solutionVersionArn"]).name
            for v in ledger.store.list("solution-version", lambda r: r.get("status") == "ACTIVE")}
    for path in folder.iterdir():
        if path.is_file() and path.name not in kept:
            path.unlink(missing_ok=True)


def _fail_campaign_update(rec: Record) -> None:
    rec["latestCampaignUpdate"].update(status="CREATE FAILED", failureReason=RESTART_REASON, lastUpdatedDateTime=now())
    if rec.get("status") in ("UPDATE PENDING", "UPDATE IN_PROGRESS"):
        rec["status"] = "ACTIVE"
