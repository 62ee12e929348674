"""Job lifecycle (`engine.resources.jobs`) in process: guarded background jobs and restart recovery.

`test_restart.py` and `test_crash_recovery.py` kill a real engine; these pin each status transition of
recovery on a real store reopened from disk (PENDING and IN_PROGRESS work failed, light resources made
ACTIVE, a campaign's pending update failed while it keeps serving its old version), so mutation testing
can see them.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from engine.resources import jobs
from engine.resources.ledger import Ledger
from engine.store import ResourceStore, StoreClosed

REGION = "us-east-1"


def open_ledger(data_dir: Path) -> Ledger:
    return Ledger(ResourceStore(data_dir / "resources.sqlite"), data_dir, REGION)


def restart(ledger: Ledger) -> Ledger:
    """What the engine does on start: reopen the data dir, then recover."""
    ledger.store.close()
    fresh = open_ledger(ledger.data_dir)
    jobs.recover(fresh)
    return fresh


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path)


def put(ledger: Ledger, kind: str, name: str, **fields) -> str:
    arn = ledger.arn(kind, name)
    ledger.store.put(kind, arn, {"lastUpdatedDateTime": 1.0, **fields})
    return arn


@pytest.mark.parametrize("kind", jobs.LIGHT_KINDS)
@pytest.mark.parametrize("status", ["CREATE PENDING", "CREATE IN_PROGRESS"])
def test_light_resources_left_pending_become_active(ledger, kind, status):
    arn = put(ledger, kind, "x", status=status)
    rec = restart(ledger).store.get(arn)
    assert rec["status"] == "ACTIVE" and "failureReason" not in rec


@pytest.mark.parametrize("kind", ["solution-version", "dataset-import-job", "campaign", "batch-inference-job",
                                  "dataset-export-job", "recommender", "metric-attribution"])
@pytest.mark.parametrize("status", ["CREATE PENDING", "CREATE IN_PROGRESS"])
def test_work_left_pending_or_in_progress_fails_with_the_restart_reason(ledger, kind, status):
    arn = put(ledger, kind, "x", status=status)
    rec = restart(ledger).store.get(arn)
    assert rec["status"] == "CREATE FAILED" and rec["failureReason"] == jobs.RESTART_REASON
    assert rec["lastUpdatedDateTime"] > 1.0


def test_settled_work_is_left_as_it_was(ledger):
    active = put(ledger, "solution-version", "a", status="ACTIVE")
    failed = put(ledger, "dataset-import-job", "f", status="CREATE FAILED", failureReason="bad file")
    stopped = put(ledger, "solution-version", "s", status="CREATE STOPPED")
    group = put(ledger, "dataset-group", "g", status="ACTIVE")
    after = restart(ledger).store
    assert after.get(active) == {"lastUpdatedDateTime": 1.0, "status": "ACTIVE"}
    assert after.get(failed) == {"lastUpdatedDateTime": 1.0, "status": "CREATE FAILED", "failureReason": "bad file"}
    assert after.get(stopped)["status"] == "CREATE STOPPED"
    assert after.get(group) == {"lastUpdatedDateTime": 1.0, "status": "ACTIVE"}


def test_a_version_being_stopped_ends_stopped(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE STOPPING")
    rec = restart(ledger).store.get(arn)
    assert rec["status"] == "CREATE STOPPED" and "failureReason" not in rec


def campaign_with_update(ledger: Ledger, name: str, status: str, update_status: str) -> str:
    return put(ledger, "campaign", name, status=status, solutionVersionArn="old", campaignConfig={"a": 1},
               latestCampaignUpdate={"solutionVersionArn": "new", "status": update_status, "campaignConfig": {},
                                     "lastUpdatedDateTime": 1.0})


@pytest.mark.parametrize("update_status", ["CREATE PENDING", "CREATE IN_PROGRESS"])
@pytest.mark.parametrize("status", ["ACTIVE", "UPDATE PENDING", "UPDATE IN_PROGRESS"])
def test_a_pending_campaign_update_fails_and_the_campaign_serves_its_old_version(ledger, status, update_status):
    arn = campaign_with_update(ledger, "c", status, update_status)
    before = time.time()
    rec = restart(ledger).store.get(arn)
    assert rec["status"] == "ACTIVE" and rec["solutionVersionArn"] == "old" and rec["campaignConfig"] == {"a": 1}
    update = rec["latestCampaignUpdate"]
    assert update["status"] == "CREATE FAILED" and update["failureReason"] == jobs.RESTART_REASON
    assert update["lastUpdatedDateTime"] >= round(before, 3) and update["solutionVersionArn"] == "new"
    assert "failureReason" not in rec


def test_a_finished_or_failed_campaign_update_is_left_alone(ledger):
    done = campaign_with_update(ledger, "done", "ACTIVE", "ACTIVE")
    failed = campaign_with_update(ledger, "failed", "ACTIVE", "CREATE FAILED")
    deleting = campaign_with_update(ledger, "deleting", "DELETE PENDING", "CREATE PENDING")
    no_update = put(ledger, "campaign", "plain", status="ACTIVE", solutionVersionArn="old")
    after = restart(ledger).store
    assert after.get(done)["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert after.get(failed)["latestCampaignUpdate"] == {"solutionVersionArn": "new", "status": "CREATE FAILED",
                                                        "campaignConfig": {}, "lastUpdatedDateTime": 1.0}
    assert after.get(deleting)["status"] == "DELETE PENDING"
    assert after.get(deleting)["latestCampaignUpdate"]["status"] == "CREATE FAILED"
    assert after.get(no_update) == {"lastUpdatedDateTime": 1.0, "status": "ACTIVE", "solutionVersionArn": "old"}


def test_only_campaigns_have_their_updates_recovered(ledger):
    arn = put(ledger, "recommender", "r", status="ACTIVE", latestCampaignUpdate={"status": "CREATE PENDING"})
    assert restart(ledger).store.get(arn)["latestCampaignUpdate"] == {"status": "CREATE PENDING"}


def test_recovery_keeps_only_the_models_of_active_versions(ledger):
    active = put(ledger, "solution-version", "sol/v1", status="ACTIVE", solutionVersionArn="")
    ledger.store.update(active, lambda r: r.update(solutionVersionArn=active), touch=False)
    failed = put(ledger, "solution-version", "sol/v2", status="CREATE IN_PROGRESS")
    ledger.store.update(failed, lambda r: r.update(solutionVersionArn=failed), touch=False)
    keep, lose = ledger.model_path(active), ledger.model_path(failed)
    keep.parent.mkdir(parents=True)
    for path in (keep, lose, keep.parent / "cut-short.pkl.tmp"):
        path.write_bytes(b"model")
    (keep.parent / "a-folder").mkdir()
    restart(ledger)
    assert sorted(p.name for p in keep.parent.iterdir()) == sorted([keep.name, "a-folder"])


def test_recovery_without_a_models_folder_is_fine(ledger):
    arn = put(ledger, "solution-version", "v", status="ACTIVE")
    assert restart(ledger).store.get(arn)["status"] == "ACTIVE"
    assert not (ledger.data_dir / "models").exists()


# -- a job that raises, a job queued before a stop -------------------------------------------------
def run_one(ledger: Ledger, job, arn: str) -> None:
    pool = jobs.JobPool(ledger, 1, "test")
    pool.submit(job, arn)
    pool.shutdown()
    assert pool.wait(time.monotonic() + 10)


def test_a_job_that_raises_settles_its_record_with_the_error(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE IN_PROGRESS")

    def job(a: str) -> None:
        assert a == arn
        raise ValueError("boom")

    run_one(ledger, job, arn)
    rec = ledger.store.get(arn)
    assert rec["status"] == "CREATE FAILED"
    assert rec["failureReason"] == "The job failed unexpectedly: ValueError: boom"


def test_a_job_that_raises_fails_a_campaigns_pending_update_too(ledger):
    arn = campaign_with_update(ledger, "c", "ACTIVE", "CREATE IN_PROGRESS")
    run_one(ledger, lambda a: 1 / 0, arn)
    rec = ledger.store.get(arn)
    assert rec["status"] == "ACTIVE" and rec["solutionVersionArn"] == "old" and "failureReason" not in rec
    update = rec["latestCampaignUpdate"]
    assert update["status"] == "CREATE FAILED" and update["lastUpdatedDateTime"] > 1.0
    assert update["failureReason"] == "The job failed unexpectedly: ZeroDivisionError: division by zero"


def test_a_settled_record_is_not_touched_by_a_failing_job(ledger):
    arn = campaign_with_update(ledger, "c", "ACTIVE", "ACTIVE")
    run_one(ledger, lambda a: 1 / 0, arn)
    rec = ledger.store.get(arn)
    assert rec["status"] == "ACTIVE" and rec["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert "failureReason" not in rec and "failureReason" not in rec["latestCampaignUpdate"]


def test_a_job_queued_before_the_stop_does_not_run(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE PENDING")
    ran = []
    ledger.stopping.set()
    run_one(ledger, ran.append, arn)
    assert ran == [] and ledger.store.get(arn)["status"] == "CREATE PENDING"


def test_a_job_that_outlives_the_store_leaves_its_record_for_recovery(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE IN_PROGRESS")

    def job(a: str) -> None:
        raise StoreClosed("stopped")

    run_one(ledger, job, arn)
    assert ledger.store.get(arn)["status"] == "CREATE IN_PROGRESS"


def test_settling_a_deleted_record_or_after_the_store_closed_does_nothing(ledger):
    jobs.settle_failed(ledger.store, ledger.arn("solution-version", "gone"), "why")
    arn = put(ledger, "solution-version", "v", status="CREATE PENDING")
    ledger.store.close()
    jobs.settle_failed(ledger.store, arn, "why")
    assert ledger.store.get(arn)["status"] == "CREATE PENDING"


def test_wait_reports_whether_the_running_jobs_ended(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE IN_PROGRESS")
    release = threading.Event()
    pool = jobs.JobPool(ledger, 1, "test")
    pool.submit(lambda a: release.wait(10), arn)
    pool.shutdown()
    assert pool.wait(time.monotonic() + 0.2) is False
    started = time.monotonic()
    assert pool.wait(time.monotonic() + 10, hurry=lambda: True) is False
    assert time.monotonic() - started < 5
    release.set()
    assert pool.wait(time.monotonic() + 10) is True
    assert ledger.store.get(arn)["status"] == "CREATE IN_PROGRESS"  # a job that returns settles nothing itself


def test_a_failing_job_is_logged_with_its_traceback(ledger, caplog):
    arn = put(ledger, "solution-version", "v", status="CREATE IN_PROGRESS")

    def exploding_job(a: str) -> None:
        raise ValueError("boom")

    with caplog.at_level("ERROR", logger="personalize-engine"):
        run_one(ledger, exploding_job, arn)
    [record] = [r for r in caplog.records if r.name == "personalize-engine"]
    message = record.getMessage()
    assert message.startswith("background job test_a_failing_job_is_logged_with_its_traceback.<locals>."
                              "exploding_job failed:\nTraceback (most recent call last):")
    assert "ValueError: boom" in message


def test_the_stop_cancels_jobs_still_queued(ledger):
    first = put(ledger, "solution-version", "v1", status="CREATE IN_PROGRESS")
    queued = put(ledger, "solution-version", "v2", status="CREATE PENDING")
    release, ran = threading.Event(), []
    pool = jobs.JobPool(ledger, 1, "test")
    pool.submit(lambda a: release.wait(10), first)
    pool.submit(ran.append, queued)
    pool.shutdown()
    release.set()
    assert pool.wait(time.monotonic() + 10)
    pool._executor.shutdown(wait=True)  # every worker has exited: a job still queued would have run by now
    assert ran == []


def test_pools_run_as_many_jobs_at_once_as_they_have_workers(ledger):
    arns = [put(ledger, "solution-version", f"v{k}", status="CREATE IN_PROGRESS") for k in range(2)]
    barrier = threading.Barrier(3, timeout=10)
    pool = jobs.JobPool(ledger, 2, "test")
    for arn in arns:
        pool.submit(lambda a: barrier.wait(), arn)
    barrier.wait()  # both jobs running at once, or this times out
    pool.shutdown()
    assert pool.wait(time.monotonic() + 10)


def test_a_pools_threads_carry_its_name(ledger):
    arn = put(ledger, "solution-version", "v", status="CREATE IN_PROGRESS")
    names: list[str] = []
    run_one(ledger, lambda a: names.append(threading.current_thread().name), arn)
    assert len(names) == 1 and names[0].startswith("test_")
