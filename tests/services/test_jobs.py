"""The background-job primitive: one job per key, progress, result or error, found again by key."""

from __future__ import annotations

import threading

from services.core.jobs import JobRegistry


def test_a_job_reports_progress_and_its_result():
    jobs = JobRegistry()
    gate = threading.Event()

    def work(progress):
        progress("halfway", 0.5)
        gate.wait(10)
        progress("almost", 7.0)  # kept within 0..1
        return "done"

    job = jobs.start("k", work, name="the work")
    again = jobs.start("k", lambda progress: "second")  # a rerun finds the running job, starts nothing
    assert again is job and job.running and job.name == "the work"
    gate.set()
    assert job.wait(10) and job.succeeded and job.result == "done"
    assert job.messages == ["halfway", "almost"] and job.fraction == 1.0
    assert job.progress_since(1) == ["almost"]
    assert jobs.get("k") is job and jobs.get("other") is None


def test_an_error_is_kept_and_a_failed_job_is_replaced():
    jobs = JobRegistry()

    def boom(progress):
        raise RuntimeError("no luck")

    failed = jobs.start("k", boom)
    assert failed.wait(10) and failed.failed and str(failed.error) == "no luck" and failed.result is None
    retried = jobs.start("k", lambda progress: 1)
    assert retried is not failed and retried.wait(10) and retried.result == 1


def test_a_finished_job_is_kept_only_when_asked():
    jobs = JobRegistry()
    first = jobs.start("k", lambda progress: "a", keep_success=True)
    assert first.wait(10)
    assert jobs.start("k", lambda progress: "b", keep_success=True) is first
    second = jobs.start("k", lambda progress: "b")
    assert second is not first and second.wait(10) and second.result == "b"


def test_many_threads_racing_for_one_key_start_one_job():
    jobs = JobRegistry()
    gate, runs, started = threading.Event(), [], []

    def work(progress):
        runs.append(1)
        gate.wait(10)

    threads = [threading.Thread(target=lambda: started.append(jobs.start("k", work))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gate.set()
    assert len({id(j) for j in started}) == 1 and started[0].wait(10) and len(runs) == 1


def test_a_claim_is_once_per_token_until_released():
    jobs = JobRegistry()
    assert jobs.claim("first") and not jobs.claim("first")
    jobs.release("first")
    assert jobs.claim("first")
