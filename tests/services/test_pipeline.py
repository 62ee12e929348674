"""The retrain pipeline against the real engine: success, a failure at each step, refusal, stored runs."""

from __future__ import annotations

import json

import pytest

from services.core.config import sources_dir
from services.core.jobs import JobRegistry
from services.data.sources import saved
from services.pipeline import (
    FAILED,
    INTERRUPTED,
    SUCCEEDED,
    RetrainPipeline,
    RetrainRequest,
    Run,
    RunInProgress,
    RunStore,
)
from services.pipeline.runs import DONE, SKIPPED
from tests.support.engine_process import wait_for
from tests.support.shops import small_shop

UP = "aws-user-personalization"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("pipeline"), "pipe-shop") as s:
        yield s


@pytest.fixture
def data_dir(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
    return shop.data_dir


def pipeline(shop) -> RetrainPipeline:
    return RetrainPipeline(shop.clients, RunStore(shop.data_dir / "runs"), poll_interval=0.1)


def request(**kw) -> RetrainRequest:
    return RetrainRequest("pipe-shop", "pipe-shop-user-personalization", **kw)


def test_success_updates_the_campaign_and_verifies(shop, data_dir):
    before = shop.serving(UP)
    run = pipeline(shop).run(request())
    assert run.status == SUCCEEDED, run.summary()
    assert [s.status for s in run.steps] == [SKIPPED, DONE, DONE, DONE, DONE, DONE]
    assert run.new_version_arn and run.new_version_arn != before
    assert shop.serving(UP) == run.new_version_arn
    info = run.campaigns["pipe-shop-user-personalization"]
    assert info["before"] == before and info["verified"]
    # stored durably: another store (another process) reads the same run
    stored = RunStore(data_dir / "runs").load(run.run_id)
    assert stored.status == SUCCEEDED and stored.new_version_arn == run.new_version_arn
    assert "now serves" in stored.summary()


def test_import_from_a_saved_source_then_retrain(shop, data_dir):
    _, later = shop.plan.phases()
    path = data_dir / "later.csv"
    later.head(1500).to_csv(path, index=False)
    saved.save_source(sources_dir(), "nightly", {"kind": "file", "path": str(path)})
    run = pipeline(shop).run(request(import_from="nightly"))
    assert run.status == SUCCEEDED, run.summary()
    assert "Imported 1,500 new interactions" in run.step("import").detail
    assert saved.watermark(sources_dir(), "nightly") == int(later.head(1500)["TIMESTAMP"].max())
    assert saved.load_source(sources_dir(), "nightly")["state"]["pending_imports"] == {}  # settled
    # the watermark means the next night imports nothing new and still retrains
    again = pipeline(shop).run(request(import_from="nightly"))
    assert again.status == SUCCEEDED
    assert "No new interactions" in again.step("import").detail


def test_import_failure_names_the_step_and_trains_nothing(shop, data_dir):
    before = shop.serving(UP)
    versions = len(shop.p.list_solution_versions(solutionArn=shop.result.solutions[UP])["solutionVersions"])
    run = pipeline(shop).run(request(import_from="no-such-source"))
    assert run.status == FAILED and run.failed_step == "import"
    assert "no saved source" in run.reason.lower()
    assert "Import new interactions" in run.summary()
    assert all(s.status == SKIPPED for s in run.steps[1:])
    assert shop.serving(UP) == before
    after = len(shop.p.list_solution_versions(solutionArn=shop.result.solutions[UP])["solutionVersions"])
    assert after == versions


def test_import_job_failure_carries_the_engines_reason(shop, data_dir):
    bad = data_dir / "bad.csv"
    bad.write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,not-a-time\n")
    saved.save_source(sources_dir(), "broken", {"kind": "file", "path": str(bad)})
    before = shop.serving(UP)
    run = pipeline(shop).run(request(import_from="broken"))
    assert run.status == FAILED and run.failed_step == "import"
    assert "import job" in run.reason
    assert shop.serving(UP) == before
    state = saved.load_source(sources_dir(), "broken")["state"]
    assert state.get("watermark") is None and state["pending_imports"] == {}  # the next night retries it all


def test_a_pending_import_left_by_a_crash_is_settled_by_the_next_run(shop, data_dir):
    _, later = shop.plan.phases()
    path = data_dir / "after-crash.csv"
    later.iloc[1500:1600].to_csv(path, index=False)
    saved.save_source(sources_dir(), "crashed", {"kind": "file", "path": str(path)})
    # A pipeline died while this job ran, and the job is gone since: its events were never recorded.
    ghost = "arn:aws:personalize:us-east-1:000000000000:dataset-import-job/lost-in-a-crash"
    saved.add_pending_import(sources_dir(), "crashed", ghost, 4_000_000_000, 100)  # (recorded, it would hide all)
    run = pipeline(shop).run(request(import_from="crashed"))
    assert run.status == SUCCEEDED, run.summary()
    assert "Imported 100 new interactions" in run.step("import").detail
    state = saved.load_source(sources_dir(), "crashed")["state"]
    assert state["pending_imports"] == {}
    assert state["watermark"] == int(later.iloc[1500:1600]["TIMESTAMP"].max())  # this run's, not the ghost's


def test_campaign_update_failure_keeps_the_old_version(shop, data_dir, engine):
    before = shop.serving(UP)

    def break_model(run: Run) -> None:
        # The new version's model file disappears between training and the update (a disk problem):
        # the engine's update then fails, as an AWS update can, and the campaign must keep its version.
        if run.step("wait_active").status == DONE and run.step("update").status == "pending":
            version = run.new_version_arn.rsplit("/", 1)[-1]
            for path in (engine.data_dir / "models").glob(f"*-{version}.pkl"):
                path.unlink()

    run = pipeline(shop).run(request(), on_progress=break_model)
    assert run.status == FAILED and run.failed_step == "wait_serving", run.summary()
    assert "still serves" in run.reason
    assert shop.serving(UP) == before
    assert shop.campaign(UP)["latestCampaignUpdate"]["status"] == "CREATE FAILED"


def test_training_failure_too_little_data(engine, tmp_path):
    with small_shop(engine, tmp_path, "thin-shop") as thin:
        before = thin.serving(UP)
        interactions, _ = thin.plan.phases()
        assert thin.import_frame(interactions.head(300), "thin-full", mode="FULL") == "ACTIVE"
        run = RetrainPipeline(thin.clients, RunStore(tmp_path / "runs"), poll_interval=0.1).run(
            RetrainRequest("thin-shop", "thin-shop-user-personalization"))
        assert run.status == FAILED and run.failed_step == "wait_active"
        assert "Not enough data" in run.reason
        assert thin.serving(UP) == before


def test_a_second_run_on_the_same_solution_is_refused(shop, data_dir):
    first, lock = pipeline(shop).prepare(request())
    try:
        with pytest.raises(RunInProgress, match="already running"):
            pipeline(shop).run(request())
        assert RunStore(data_dir / "runs").active(first.solution_arn).run_id == first.run_id
    finally:
        lock.release()
    # the lock is gone and the run never finished: it reads as interrupted, and a new run may start
    assert RunStore(data_dir / "runs").load(first.run_id).status == INTERRUPTED
    assert pipeline(shop).run(request()).status == SUCCEEDED


def test_background_run_lives_in_the_store(shop, data_dir):
    store = RunStore(data_dir / "runs")
    jobs = JobRegistry()
    retrain = RetrainPipeline(shop.clients, store, poll_interval=0.1, jobs=jobs)
    started = retrain.start(request())
    finished = wait_for(lambda: store.load(started.run_id), lambda r: r.finished, timeout=60)
    assert finished.status == SUCCEEDED
    job = retrain.job(started.run_id)  # the in-process runner, found again by the run
    assert job is not None and job.wait(30) and job.succeeded and job.result.run_id == started.run_id
    assert job.messages[-1] == finished.summary() and job.fraction == 1.0
    assert shop.serving(UP) == finished.new_version_arn
    assert store.latest(started.solution_arn).run_id == started.run_id


def test_unknown_names_are_explained_before_anything_starts(shop, data_dir):
    with pytest.raises(ValueError, match="no solution 'nope'"):
        pipeline(shop).run(RetrainRequest("pipe-shop", "nope"))
    with pytest.raises(ValueError, match="no campaign 'other'"):
        pipeline(shop).run(request(campaign="other"))
    with pytest.raises(ValueError, match="no dataset group"):
        pipeline(shop).run(RetrainRequest("missing-group", "x"))


def test_run_files_are_whole_json(shop, data_dir):
    run = pipeline(shop).run(request(campaign="pipe-shop-user-personalization"))
    path = data_dir / "runs" / f"{run.run_id}.json"
    assert json.loads(path.read_text())["status"] == SUCCEEDED
    assert not list((data_dir / "runs").glob(".*.tmp"))


def test_a_run_finishing_while_it_is_read_keeps_its_outcome(tmp_path):
    # A reader loads the run while it still runs; the worker then saves SUCCEEDED and releases its
    # lock; the reader's lock check now finds the lock free. The stored outcome must stay SUCCEEDED.
    store = RunStore(tmp_path / "runs")
    run = Run(run_id=store.new_run_id(), dataset_group="g", solution="s", solution_arn="arn:solution/s")
    store.save(run)
    read_while_running = Run.from_dict(run.to_dict())
    run.status = SUCCEEDED
    store.save(run)
    assert store._settle(read_while_running).status == SUCCEEDED
    assert json.loads((tmp_path / "runs" / f"{run.run_id}.json").read_text())["status"] == SUCCEEDED
    # a run whose process really died is still settled as interrupted
    dead = Run(run_id=store.new_run_id(), dataset_group="g", solution="s", solution_arn="arn:solution/s")
    store.save(dead)
    assert store.latest("arn:solution/s").status == INTERRUPTED


def test_an_import_that_ended_unwatched_is_settled_before_the_next_export(shop, data_dir):
    """The Data page exported these rows and closed before its import ended ACTIVE: the next run records
    that import first, so it does not send the same rows again."""
    _, later = shop.plan.phases()
    rows = later.iloc[1600:1650]
    path = data_dir / "unwatched.csv"
    rows.to_csv(path, index=False)
    saved.save_source(sources_dir(), "unwatched", {"kind": "file", "path": str(path)})
    group = shop.result.dataset_group_arn
    dataset = next(d for d in shop.p.list_datasets(datasetGroupArn=group)["datasets"]
                   if d["datasetType"].upper() == "INTERACTIONS")
    job = next(j for j in shop.p.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"]
               if j["status"] == "ACTIVE")
    saved.add_pending_import(sources_dir(), "unwatched", job["datasetImportJobArn"], int(rows["TIMESTAMP"].max()),
                             len(rows))
    run = pipeline(shop).run(request(import_from="unwatched"))
    assert run.status == SUCCEEDED, run.summary()
    assert "No new interactions" in run.step("import").detail
    assert saved.watermark(sources_dir(), "unwatched") == int(rows["TIMESTAMP"].max())
