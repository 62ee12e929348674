"""The retrain pipeline step by step, without an engine: a real boto3 client answered by botocore's Stubber,
so every request the pipeline sends and every answer it reads is checked against AWS's shapes, and the
order of the queued answers is the order of the calls. `test_pipeline.py` drives the same pipeline end to
end against the engine (slowly: it trains); these tests pin each step's requests, its edge cases and the
run record, including a solution with two campaigns, which no test shop has."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from services.core.clients import Clients
from services.core.config import AWS, LOCAL, BackendInfo
from services.core.jobs import JobRegistry
from services.pipeline import retrain
from services.pipeline.retrain import RetrainPipeline, RetrainRequest
from services.pipeline.runs import DONE, FAILED, SKIPPED, SUCCEEDED, RunInProgress, RunStore
from tests.support.stubbed_aws import stubbed_personalize

ACCOUNT = "arn:aws:personalize:us-east-1:123456789012"
GROUP = f"{ACCOUNT}:dataset-group/shop"
SOLUTION = f"{ACCOUNT}:solution/for-you"
OLD = f"{SOLUTION}/old00001"
NEW = f"{SOLUTION}/new00002"
CAMPAIGN = f"{ACCOUNT}:campaign/{{}}"


aws = pytest.fixture(stubbed_personalize, name="aws")


def make_pipeline(client, tmp_path, importer=retrain.import_from_saved_source, **kw) -> RetrainPipeline:
    clients = Clients(BackendInfo(AWS, "us-east-1", None, None))
    clients.__dict__["personalize"] = client  # the cached client, answered by the Stubber
    return RetrainPipeline(clients, RunStore(tmp_path / "runs"), importer=importer, poll_interval=0, **kw)


# -- queued answers, in the order the pipeline asks ---------------------------------------------------
def answer_resolve(stub: Stubber, campaigns: dict[str, str]) -> None:
    stub.add_response("list_dataset_groups", {"datasetGroups": [
        {"name": "other", "datasetGroupArn": f"{ACCOUNT}:dataset-group/other"},
        {"name": "shop", "datasetGroupArn": GROUP}]}, {})
    stub.add_response("list_solutions", {"solutions": [
        {"name": "similar", "solutionArn": f"{ACCOUNT}:solution/similar"},
        {"name": "for-you", "solutionArn": SOLUTION}]}, {"datasetGroupArn": GROUP})
    stub.add_response("list_campaigns", {"campaigns": [
        {"name": name, "campaignArn": CAMPAIGN.format(name), "status": status}
        for name, status in campaigns.items()]}, {"solutionArn": SOLUTION})


def campaign(name: str, version: str, status: str = "ACTIVE", update: dict | None = None) -> dict:
    record = {"campaignArn": CAMPAIGN.format(name), "name": name, "solutionVersionArn": version, "status": status}
    if update is not None:
        record["latestCampaignUpdate"] = update
    return record


def answer_campaign(stub: Stubber, name: str, version: str, status: str = "ACTIVE",
                    update: dict | None = None) -> None:
    stub.add_response("describe_campaign", {"campaign": campaign(name, version, status, update)},
                      {"campaignArn": CAMPAIGN.format(name)})


def answer_train(stub: Stubber, names: list[str], mode: str = "FULL") -> None:
    for name in names:  # what each campaign serves before
        answer_campaign(stub, name, OLD)
    stub.add_response("create_solution_version", {"solutionVersionArn": NEW},
                      {"solutionArn": SOLUTION, "trainingMode": mode})


def answer_version(stub: Stubber, status: str, **extra) -> None:
    stub.add_response("describe_solution_version",
                      {"solutionVersion": {"solutionVersionArn": NEW, "status": status, **extra}},
                      {"solutionVersionArn": NEW})


def answer_update(stub: Stubber, name: str) -> None:
    answer_campaign(stub, name, OLD)
    stub.add_response("update_campaign", {"campaignArn": CAMPAIGN.format(name)},
                      {"campaignArn": CAMPAIGN.format(name), "solutionVersionArn": NEW})


def answer_serving(stub: Stubber, name: str) -> None:
    answer_campaign(stub, name, OLD, update={"solutionVersionArn": NEW, "status": "CREATE IN_PROGRESS"})
    answer_campaign(stub, name, NEW)


def answer_to_verify(stub: Stubber, names: list[str]) -> None:
    answer_resolve(stub, dict.fromkeys(names, "ACTIVE"))
    answer_train(stub, names)
    answer_version(stub, "CREATE IN_PROGRESS")
    answer_version(stub, "ACTIVE", trainingHours=1.23456)
    for name in names:
        answer_update(stub, name)
    for name in names:
        answer_serving(stub, name)


def statuses(run) -> dict[str, str]:
    return {s.key: s.status for s in run.steps}


# -- a run that succeeds ------------------------------------------------------------------------------
def test_a_solution_with_two_campaigns_updates_and_verifies_both(aws, tmp_path):
    client, stub = aws
    answer_to_verify(stub, ["home", "email"])
    answer_campaign(stub, "home", NEW)
    answer_campaign(stub, "email", NEW)
    seen = []
    pipeline = make_pipeline(client, tmp_path)
    run = pipeline.run(RetrainRequest("shop", "for-you"), on_progress=lambda r: seen.append(r.summary()),
                       who="ana")
    assert run.status == SUCCEEDED and run.failed_step is None and run.reason is None
    assert (run.origin, run.started_by, run.dataset_group, run.solution) == ("command", "ana", "shop", "for-you")
    assert (run.dataset_group_arn, run.solution_arn, run.new_version_arn) == (GROUP, SOLUTION, NEW)
    assert statuses(run) == {"import": SKIPPED, "train": DONE, "wait_active": DONE, "update": DONE,
                             "wait_serving": DONE, "verify": DONE}
    details = {s.key: s.detail for s in run.steps}
    assert details == {
        "import": "not requested",
        "train": "Started FULL training: new00002.",
        "wait_active": "ACTIVE after 1.2346 training hours.",
        "update": "home updating; email updating.",
        "wait_serving": "Every campaign serves the new version.",
        "verify": "DescribeCampaign: home, email ACTIVE on for-you/new00002.",
    }
    assert run.campaigns == {
        "home": {"arn": CAMPAIGN.format("home"), "before": OLD, "serving": NEW, "verified": True},
        "email": {"arn": CAMPAIGN.format("email"), "before": OLD, "serving": NEW, "verified": True},
    }
    assert all(s.started_at and s.finished_at for s in run.steps if s.status == DONE) and run.finished_at
    stored = pipeline.store.load(run.run_id)
    assert stored.to_dict() == run.to_dict()
    assert seen and seen[-1] == run.summary()
    assert pipeline.store.try_lock(SOLUTION) is not None  # the run let go of the solution's lock


def test_incremental_training_of_one_named_campaign_after_an_import(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE", "email": "ACTIVE"})
    answer_train(stub, ["email"], mode="UPDATE")
    answer_version(stub, "ACTIVE")
    answer_update(stub, "email")
    answer_campaign(stub, "email", NEW)
    answer_campaign(stub, "email", NEW)
    calls = []

    def importer(clients, group_arn, source):
        calls.append((clients.personalize, group_arn, source))
        return "Imported 3 new interactions from orders."

    run = make_pipeline(client, tmp_path, importer).run(
        RetrainRequest("shop", SOLUTION, campaign="email", import_from="orders", training_mode="UPDATE"))
    assert calls == [(client, GROUP, "orders")]
    assert run.status == SUCCEEDED and list(run.campaigns) == ["email"]
    details = {s.key: s.detail for s in run.steps}
    assert details["import"] == "Imported 3 new interactions from orders."
    assert details["train"] == "Started UPDATE training: new00002."
    assert details["wait_active"] == "ACTIVE."  # no training hours reported
    assert details["wait_serving"] == "Every campaign serves the new version."


def test_a_campaign_already_following_the_version_is_not_updated_again(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"synced": "ACTIVE", "pending": "ACTIVE"})
    answer_train(stub, ["synced", "pending"])
    answer_version(stub, "ACTIVE")
    answer_campaign(stub, "synced", NEW)  # syncWithLatestSolutionVersion swapped it already
    answer_campaign(stub, "pending", OLD, update={"solutionVersionArn": NEW, "status": "CREATE PENDING"})
    for _ in range(2):  # serving, then verified
        answer_campaign(stub, "synced", NEW)
        answer_campaign(stub, "pending", NEW)
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert run.status == SUCCEEDED
    assert run.step("update").detail == ("synced already follows it (syncWithLatestSolutionVersion); "
                                         "pending already follows it (syncWithLatestSolutionVersion).")


def test_an_update_refused_because_sync_started_it_counts_as_following(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "ACTIVE")
    answer_campaign(stub, "home", OLD, update={"solutionVersionArn": OLD, "status": "ACTIVE"})
    stub.add_client_error("update_campaign", "ResourceInUseException", "an update is running",
                          expected_params={"campaignArn": CAMPAIGN.format("home"), "solutionVersionArn": NEW})
    answer_campaign(stub, "home", OLD, update={"solutionVersionArn": NEW, "status": "CREATE IN_PROGRESS"})
    answer_campaign(stub, "home", NEW)
    answer_campaign(stub, "home", NEW)
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert run.status == SUCCEEDED
    assert run.step("update").detail == "home already follows it (syncWithLatestSolutionVersion)."


# -- failures, each named by its step ----------------------------------------------------------------
def assert_failed_at(run, step: str, reason: str) -> None:
    assert (run.status, run.failed_step, run.reason) == (FAILED, step, reason)
    keys = [s.key for s in run.steps]
    at = keys.index(step)
    for s in run.steps[at + 1:]:
        assert (s.status, s.detail) == (SKIPPED, "not run: an earlier step failed")
    failed = run.step(step)
    assert (failed.status, failed.detail) == (FAILED, reason) and failed.finished_at
    assert all(s.status in (DONE, SKIPPED) for s in run.steps[:at])


def test_verify_fails_when_the_campaign_shows_the_new_version_but_is_not_active(aws, tmp_path):
    client, stub = aws
    answer_to_verify(stub, ["home", "email"])
    answer_campaign(stub, "home", NEW)
    answer_campaign(stub, "email", NEW, status="CREATE IN_PROGRESS")
    pipeline = make_pipeline(client, tmp_path)
    run = pipeline.run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "verify", "DescribeCampaign shows email serves for-you/new00002 (CREATE IN_PROGRESS)")
    assert run.campaigns["home"]["verified"] is True and run.campaigns["email"]["verified"] is False
    assert pipeline.store.load(run.run_id).failed_step == "verify"


def test_verify_fails_when_a_campaign_went_back_to_the_old_version(aws, tmp_path):
    client, stub = aws
    answer_to_verify(stub, ["home"])
    answer_campaign(stub, "home", OLD)
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "verify", "DescribeCampaign shows home serves for-you/old00001 (ACTIVE)")
    assert run.campaigns["home"]["serving"] == OLD


def test_a_failed_import_fails_the_run_before_training(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})

    def importer(clients, group_arn, source):
        raise ValueError("The dataset group has no Interactions dataset to import into.")

    run = make_pipeline(client, tmp_path, importer).run(RetrainRequest("shop", "for-you", import_from="orders"))
    assert_failed_at(run, "import", "The dataset group has no Interactions dataset to import into.")
    assert run.new_version_arn is None


def test_a_refused_training_names_aws_reason(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_campaign(stub, "home", OLD)
    stub.add_client_error("create_solution_version", "LimitExceededException", "too many versions",
                          expected_params={"solutionArn": SOLUTION, "trainingMode": "FULL"})
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "train", "A service quota is reached: too many versions")
    assert run.campaigns["home"]["before"] == OLD


def test_a_failed_training_names_its_status_and_reason(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "CREATE PENDING")
    answer_version(stub, "CREATE FAILED", failureReason="not enough interactions")
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_active", "the solution version ended CREATE FAILED: not enough interactions")


def test_a_stopped_training_without_a_reason_says_so(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "CREATE STOPPED")
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_active", "the solution version ended CREATE STOPPED: no reason given")


def test_training_past_its_timeout_fails_at_wait_active(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "CREATE IN_PROGRESS")
    run = make_pipeline(client, tmp_path, training_timeout=-1).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_active", "training did not finish within -1 s (last status CREATE IN_PROGRESS).")


def test_waiting_for_training_notes_the_status_seen(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "CREATE IN_PROGRESS")
    answer_version(stub, "CREATE FAILED")
    notes = []

    def progress(run):
        if run.step("wait_active").status == "running":
            notes.append(run.step("wait_active").detail)

    make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"), on_progress=progress)
    assert "CREATE IN_PROGRESS for 0 s" in notes and "CREATE FAILED for 0 s" in notes


def test_a_refused_update_names_the_campaign_and_what_it_still_serves(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE", "email": "ACTIVE"})
    answer_train(stub, ["home", "email"])
    answer_version(stub, "ACTIVE")
    answer_update(stub, "home")
    answer_campaign(stub, "email", OLD)
    stub.add_client_error("update_campaign", "ResourceInUseException", "busy",
                          expected_params={"campaignArn": CAMPAIGN.format("email"), "solutionVersionArn": NEW})
    answer_campaign(stub, "email", OLD)  # not following the new version: a real refusal
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "update", "campaign email refused the update (The resource is busy: busy); "
                                    "it still serves for-you/old00001")


def test_another_refusal_is_not_taken_for_sync_even_when_following(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "ACTIVE")
    answer_campaign(stub, "home", OLD)
    stub.add_client_error("update_campaign", "AccessDeniedException", "no",
                          expected_params={"campaignArn": CAMPAIGN.format("home"), "solutionVersionArn": NEW})
    answer_campaign(stub, "home", NEW)
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert run.failed_step == "update" and run.reason.startswith("campaign home refused the update (Access denied: no)")


def test_a_failed_campaign_update_fails_at_wait_serving(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "ACTIVE")
    answer_update(stub, "home")
    answer_campaign(stub, "home", OLD, update={"solutionVersionArn": NEW, "status": "CREATE FAILED",
                                               "failureReason": "out of capacity"})
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_serving", "the update of campaign home ended CREATE FAILED: out of capacity; "
                                          "it still serves for-you/old00001")
    assert run.campaigns["home"]["serving"] == OLD


def test_an_update_that_settled_on_another_version_fails_without_a_reason(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "ACTIVE")
    answer_update(stub, "home")
    answer_campaign(stub, "home", OLD, update={"solutionVersionArn": NEW, "status": "ACTIVE"})
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_serving", "the update of campaign home ended ACTIVE: no reason given; "
                                          "it still serves for-you/old00001")


def test_an_update_past_its_timeout_fails_at_wait_serving(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "ACTIVE")
    answer_update(stub, "home")
    answer_campaign(stub, "home", OLD, update={"solutionVersionArn": NEW, "status": "CREATE PENDING"})
    run = make_pipeline(client, tmp_path, update_timeout=-1).run(RetrainRequest("shop", "for-you"))
    assert run.failed_step == "wait_serving"
    assert run.reason == "campaign home did not finish within -1 s (last status ACTIVE)."


def test_an_unexpected_error_is_recorded_against_its_step(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    stub.add_client_error("describe_solution_version", "ThrottlingException", "slow down",
                          expected_params={"solutionVersionArn": NEW})
    run = make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert_failed_at(run, "wait_active", "AWS is throttling requests: slow down")


# -- naming what to retrain ----------------------------------------------------------------------------
def test_campaigns_being_deleted_are_left_out(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE", "gone": "DELETE IN_PROGRESS"})
    stub.add_response("list_dataset_groups", {"datasetGroups": [{"name": "shop", "datasetGroupArn": GROUP}]}, {})
    stub.add_response("list_solutions", {"solutions": []}, {"datasetGroupArn": GROUP})
    target = retrain.resolve(client, RetrainRequest("shop", "for-you"))
    assert target == retrain.Target(GROUP, "shop", SOLUTION, "for-you", {"home": CAMPAIGN.format("home")})
    with pytest.raises(ValueError) as missing:
        retrain.resolve(client, RetrainRequest("shop", "nope"))
    assert str(missing.value) == "Dataset group shop has no solution 'nope' (it has: none)."


def test_an_unknown_solution_names_the_ones_there_are(aws, tmp_path):
    client, stub = aws
    stub.add_response("list_dataset_groups", {"datasetGroups": [{"name": "shop", "datasetGroupArn": GROUP}]}, {})
    stub.add_response("list_solutions", {"solutions": [
        {"name": "b", "solutionArn": f"{ACCOUNT}:solution/b"}, {"name": "a", "solutionArn": f"{ACCOUNT}:solution/a"}]},
        {"datasetGroupArn": GROUP})
    with pytest.raises(ValueError) as missing:
        make_pipeline(client, tmp_path).run(RetrainRequest("shop", "for-you"))
    assert str(missing.value) == "Dataset group shop has no solution 'for-you' (it has: a, b)."


def test_an_unknown_campaign_names_the_solutions_campaigns(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE", "email": "ACTIVE"})
    with pytest.raises(ValueError) as missing:
        retrain.resolve(client, RetrainRequest("shop", "for-you", campaign="push"))
    assert str(missing.value) == "Solution for-you has no campaign 'push' (its campaigns: email, home)."
    answer_resolve(stub, {})
    with pytest.raises(ValueError) as none:
        retrain.resolve(client, RetrainRequest("shop", "for-you", campaign="push"))
    assert str(none.value) == "Solution for-you has no campaign 'push' (its campaigns: none)."


def test_a_campaign_named_by_arn_is_the_only_one_updated(aws):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE", "email": "ACTIVE"})
    target = retrain.resolve(client, RetrainRequest(GROUP, "for-you", campaign=CAMPAIGN.format("home")))
    assert target.campaigns == {"home": CAMPAIGN.format("home")}


def test_a_solution_without_campaigns_is_refused_before_anything_starts(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"gone": "DELETE PENDING"})
    pipeline = make_pipeline(client, tmp_path)
    with pytest.raises(ValueError) as refused:
        pipeline.run(RetrainRequest("shop", "for-you"))
    assert str(refused.value) == ("No campaign serves solution for-you, so nothing would serve the new version; "
                                  "create a campaign first (Campaigns page).")
    assert pipeline.store.runs() == []


def test_a_second_run_of_the_same_solution_is_refused(aws, tmp_path):
    client, stub = aws
    pipeline = make_pipeline(client, tmp_path)
    held = pipeline.store.try_lock(SOLUTION)
    answer_resolve(stub, {"home": "ACTIVE"})
    with pytest.raises(RunInProgress):
        pipeline.run(RetrainRequest("shop", "for-you"))
    held.release()
    assert pipeline.store.runs() == []


# -- the background run --------------------------------------------------------------------------------
def test_a_started_run_is_a_job_found_by_its_run_id(aws, tmp_path):
    client, stub = aws
    answer_to_verify(stub, ["home"])
    answer_campaign(stub, "home", NEW)
    jobs = JobRegistry()
    pipeline = make_pipeline(client, tmp_path, jobs=jobs)
    progress = []
    started = pipeline.start(RetrainRequest("shop", "for-you"), on_progress=progress.append, who="ana")
    assert retrain.retrain_job_key(started.run_id) == f"retrain:{started.run_id}"
    job = pipeline.job(started.run_id)
    assert job is not None and job is jobs.get(f"retrain:{started.run_id}")
    assert job.name == "retrain for-you"
    assert job.wait(10)
    run = pipeline.store.load(started.run_id)
    assert (run.status, run.origin, run.started_by) == (SUCCEEDED, "dashboard", "ana")
    assert progress and progress[-1].status == SUCCEEDED
    assert pipeline.job("another") is None


def test_short_names_keep_the_solution_and_the_version():
    assert retrain._short(NEW) == "for-you/new00002"
    assert retrain._short("solution/x") == "solution/x"
    assert retrain._short(None) == "?" and retrain._short("") == "?"


# -- the import step's own protocol ------------------------------------------------------------------------
DATASET = f"{ACCOUNT}:dataset/shop/INTERACTIONS"
IMPORT = f"{ACCOUNT}:dataset-import-job/{{}}"


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A saved file source of three interactions, in this test's own data dir."""
    import pandas as pd

    from services.core.config import sources_dir
    from services.data.sources import saved

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    for name in ("PERSONALIZE_STAGING_BUCKET", "PERSONALIZE_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "orders.csv"
    pd.DataFrame({"USER_ID": ["u1", "u2", "u3"], "ITEM_ID": ["i1", "i2", "i3"],
                  "TIMESTAMP": [100, 200, 300]}).to_csv(path, index=False)
    saved.save_source(sources_dir(), "orders", {"kind": "file", "path": str(path)})
    return saved


def local_clients(client) -> Clients:
    clients = Clients(BackendInfo(LOCAL, "us-east-1", "http://127.0.0.1:1", None))
    clients.__dict__["personalize"] = client
    return clients


def answer_datasets(stub: Stubber, types: list[str]) -> None:
    stub.add_response("list_datasets", {"datasets": [
        {"name": t.lower(), "datasetArn": f"{ACCOUNT}:dataset/shop/{t}", "datasetType": t} for t in types]},
        {"datasetGroupArn": GROUP})


def test_the_import_step_stages_imports_incrementally_and_moves_the_watermark(aws, source):
    from botocore.stub import ANY

    from services.core.config import sources_dir

    client, stub = aws
    answer_datasets(stub, ["ITEMS", "INTERACTIONS"])
    stub.add_response("create_dataset_import_job", {"datasetImportJobArn": IMPORT.format("night")}, {
        "jobName": ANY, "datasetArn": DATASET, "dataSource": {"dataLocation": ANY},
        "roleArn": retrain.LOCAL_ROLE_ARN, "importMode": "INCREMENTAL"})
    job = {"datasetImportJobArn": IMPORT.format("night"), "status": "ACTIVE"}
    stub.add_response("describe_dataset_import_job", {"datasetImportJob": job},
                      {"datasetImportJobArn": IMPORT.format("night")})
    stub.add_response("describe_dataset_import_job", {"datasetImportJob": job},
                      {"datasetImportJobArn": IMPORT.format("night")})
    done = retrain.import_from_saved_source(local_clients(client), GROUP, "orders")
    assert done == "Imported 3 new interactions from orders."
    assert source.watermark(sources_dir(), "orders") == 300
    assert source.pending_imports(sources_dir(), "orders") == {}
    # nothing new since: no import, and the training goes ahead on the current data
    stub.assert_no_pending_responses()
    again = retrain.import_from_saved_source(local_clients(client), GROUP, "orders")
    assert again == "No new interactions in orders since the last export; training on the current data."


def test_the_import_step_names_its_request(aws, source):
    client, stub = aws
    answer_datasets(stub, ["INTERACTIONS"])
    requests = []
    client.meta.events.register("provide-client-params.personalize.CreateDatasetImportJob",
                                lambda params, **kw: requests.append(dict(params)))
    stub.add_client_error("create_dataset_import_job", "LimitExceededException", "too many")
    with pytest.raises(Exception, match="too many"):
        retrain.import_from_saved_source(local_clients(client), GROUP, "orders")
    (sent,) = requests
    assert sent["jobName"].startswith("retrain-orders-2") and " " not in sent["jobName"]
    assert len(sent["jobName"]) <= 63 and sent["dataSource"]["dataLocation"].startswith("file://")


def test_a_group_without_interactions_cannot_import(aws, source):
    client, stub = aws
    answer_datasets(stub, ["ITEMS"])
    with pytest.raises(ValueError, match="no Interactions dataset to import into"):
        retrain.import_from_saved_source(local_clients(client), GROUP, "orders")


def test_a_failed_import_drops_its_record_and_keeps_the_watermark(aws, source):
    from services.core.config import sources_dir

    client, stub = aws
    answer_datasets(stub, ["INTERACTIONS"])
    stub.add_response("create_dataset_import_job", {"datasetImportJobArn": IMPORT.format("night")})
    job = {"datasetImportJobArn": IMPORT.format("night"), "status": "CREATE FAILED", "failureReason": "bad rows"}
    for _ in range(2):
        stub.add_response("describe_dataset_import_job", {"datasetImportJob": job})
    with pytest.raises(Exception, match="the import job ended CREATE FAILED: bad rows"):
        retrain.import_from_saved_source(local_clients(client), GROUP, "orders")
    assert source.watermark(sources_dir(), "orders") is None
    assert source.pending_imports(sources_dir(), "orders") == {}


def test_in_aws_mode_the_import_needs_a_bucket_and_a_role(aws, source, monkeypatch):
    client, stub = aws
    clients = Clients(BackendInfo(AWS, "us-east-1", None, None))
    clients.__dict__["personalize"] = client
    answer_datasets(stub, ["INTERACTIONS"])
    with pytest.raises(ValueError, match="Choose an S3 bucket"):
        retrain.import_from_saved_source(clients, GROUP, "orders")
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    clients.__dict__["s3"] = s3
    monkeypatch.setenv("PERSONALIZE_STAGING_BUCKET", "staging")
    answer_datasets(stub, ["INTERACTIONS"])
    with Stubber(s3) as s3_stub:
        s3_stub.add_response("put_object", {})
        with pytest.raises(ValueError) as refused:
            retrain.import_from_saved_source(clients, GROUP, "orders")
    assert str(refused.value) == ("Set the IAM role Personalize reads S3 with (the source's role_arn, or "
                                  "PERSONALIZE_ROLE_ARN).")


def test_a_run_that_imports_makes_its_s3_client_before_the_worker_thread(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    pipeline = make_pipeline(client, tmp_path)
    run, lock = pipeline.prepare(RetrainRequest("shop", "for-you", import_from="orders"))
    lock.release()
    assert "s3" in pipeline.clients.__dict__
    assert (run.import_from, run.origin, run.campaigns["home"]["before"]) == ("orders", "dashboard", None)


def test_a_stopped_run_is_recorded_as_stopped_and_lets_go_of_its_lock(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})

    def importer(clients, group_arn, source):
        raise KeyboardInterrupt

    pipeline = make_pipeline(client, tmp_path, importer)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(RetrainRequest("shop", "for-you", import_from="orders"))
    (run,) = pipeline.store.runs()
    assert (run.status, run.reason) == (FAILED, "the run was stopped") and run.finished_at
    assert pipeline.store.try_lock(SOLUTION) is not None


def test_a_background_run_reports_its_summary_and_the_share_of_steps_ended(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_train(stub, ["home"])
    answer_version(stub, "CREATE FAILED", failureReason="no data")
    pipeline = make_pipeline(client, tmp_path)
    run, lock = pipeline.prepare(RetrainRequest("shop", "for-you"))
    reported = []
    seen = []
    work = pipeline._work(run, lock, seen.append)
    assert work(lambda message, fraction: reported.append((message, fraction))) is run
    fractions = [f for _, f in reported]
    assert fractions[0] == 0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert (1 / 6) in fractions  # the skipped import ended
    assert reported[-1][0] == run.summary() and len(seen) == len(reported)


def test_a_run_started_by_nobody_in_particular_says_so(aws, tmp_path):
    client, stub = aws
    answer_resolve(stub, {"home": "ACTIVE"})
    answer_campaign(stub, "home", OLD)
    stub.add_client_error("create_solution_version", "LimitExceededException", "too many")
    pipeline = make_pipeline(client, tmp_path, jobs=JobRegistry())
    started = pipeline.start(RetrainRequest("shop", "for-you"))
    assert pipeline.job(started.run_id).wait(10)
    run = pipeline.store.load(started.run_id)
    assert (run.started_by, run.origin, run.failed_step) == ("", "dashboard", "train")
