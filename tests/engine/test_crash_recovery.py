"""SIGKILL the engine in the middle of an import, a training and a campaign update; restart it on the
same data directory: every ACTIVE resource serves as before, nothing stays PENDING/IN_PROGRESS (work
that was cut off settles to CREATE FAILED with a reason) and new work succeeds afterwards."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.engine_process import EngineProcess, wait_for
from tests.support.engine_shop import LiveShop, build_shop, deploy, import_file, train_version

PENDING = ("CREATE PENDING", "CREATE IN_PROGRESS", "UPDATE PENDING", "UPDATE IN_PROGRESS", "CREATE STOPPING")


def recommendations(runtime, shop: LiveShop, users: list[str]) -> dict[str, list[str]]:
    return {u: [it["itemId"] for it in runtime.get_recommendations(campaignArn=shop.campaign, userId=u)["itemList"]]
            for u in users}


def big_interactions(path: Path, shop: LiveShop, rows: int, seed: int) -> Path:
    """A large file of valid interactions over the shop's users and items (slow enough to be caught)."""
    rng = np.random.default_rng(seed)
    pd.DataFrame({
        "USER_ID": np.asarray(shop.users)[rng.integers(0, len(shop.users), rows)],
        "ITEM_ID": np.asarray(shop.items)[rng.integers(0, len(shop.items), rows)],
        "TIMESTAMP": 1_700_000_000 + rng.integers(0, 90 * 86_400, rows),
        "EVENT_TYPE": rng.choice(["view", "click", "purchase"], rows),
    }).to_csv(path, index=False)
    return path


def kill_when(engine: EngineProcess, fetch, in_flight) -> dict:
    """Poll until the work is in flight (or already done), then SIGKILL at once; returns the last state."""
    state = wait_for(fetch, lambda r: r["status"] in ("CREATE IN_PROGRESS", "ACTIVE", "CREATE FAILED")
                     or in_flight(r), timeout=120, interval=0.005)
    engine.stop(signal.SIGKILL)
    return state


def nothing_pending(personalize) -> list[str]:
    """Every resource of every kind: none may be left in a transitional state."""
    stuck = []
    groups = personalize.list_dataset_groups()["datasetGroups"]
    for g in groups:
        arn = g["datasetGroupArn"]
        for d in personalize.list_datasets(datasetGroupArn=arn)["datasets"]:
            for job in personalize.list_dataset_import_jobs(datasetArn=d["datasetArn"])["datasetImportJobs"]:
                if job["status"] in PENDING:
                    stuck.append(job["datasetImportJobArn"])
        for s in personalize.list_solutions(datasetGroupArn=arn)["solutions"]:
            for v in personalize.list_solution_versions(solutionArn=s["solutionArn"])["solutionVersions"]:
                if v["status"] in PENDING:
                    stuck.append(v["solutionVersionArn"])
            for c in personalize.list_campaigns(solutionArn=s["solutionArn"])["campaigns"]:
                campaign = personalize.describe_campaign(campaignArn=c["campaignArn"])["campaign"]
                update = campaign.get("latestCampaignUpdate") or {}
                if campaign["status"] in PENDING or update.get("status") in PENDING:
                    stuck.append(c["campaignArn"])
    return stuck


@pytest.fixture(scope="module")
def crash_site(tmp_path_factory):
    """An engine of its own (it is killed), with a shop big enough that training takes a moment."""
    tmp = tmp_path_factory.mktemp("crash")
    engine = EngineProcess.start(tmp / "engine")
    personalize = engine.client("personalize")
    shop = deploy(personalize, build_shop(personalize, tmp, "crash", n_users=1_500, n_items=600,
                                          n_interactions=40_000, seed=11), "crash")
    runtime = engine.client("personalize-runtime")
    users = shop.users[:10] + shop.users[-5:]
    site = {"tmp": tmp, "engine": engine, "shop": shop, "users": users,
            "before": recommendations(runtime, shop, users)}
    yield site
    site["engine"].stop()


def restart(site: dict) -> tuple:
    site["engine"] = EngineProcess.start(site["engine"].data_dir)
    engine = site["engine"]
    return engine.client("personalize"), engine.client("personalize-runtime")


def test_kill_during_import(crash_site) -> None:
    site, shop = crash_site, crash_site["shop"]
    personalize = site["engine"].client("personalize")
    path = big_interactions(site["tmp"] / "big.csv", shop, 300_000, seed=1)
    job = personalize.create_dataset_import_job(
        jobName="killed-import", datasetArn=shop.datasets["Interactions"], dataSource={"dataLocation": path.as_uri()},
        roleArn="arn:aws:iam::000000000000:role/test")["datasetImportJobArn"]
    state = kill_when(site["engine"], lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job)
                      ["datasetImportJob"], lambda r: False)
    print(f"import killed while {state['status']}")
    personalize, runtime = restart(site)
    record = personalize.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]
    assert record["status"] in ("ACTIVE", "CREATE FAILED")
    if record["status"] == "CREATE FAILED":
        assert "stopped while this was in progress" in record["failureReason"]
    assert nothing_pending(personalize) == []
    assert recommendations(runtime, shop, site["users"]) == site["before"]
    # New work succeeds: the original file imports again.
    again = import_file(personalize, shop.datasets["Interactions"], shop.files["Interactions"], "after-import-kill")
    assert again["status"] == "ACTIVE", again.get("failureReason")


def test_kill_during_training(crash_site) -> None:
    site, shop = crash_site, crash_site["shop"]
    personalize = site["engine"].client("personalize")
    version = personalize.create_solution_version(solutionArn=shop.solution)["solutionVersionArn"]
    state = kill_when(site["engine"], lambda: personalize.describe_solution_version(
        solutionVersionArn=version)["solutionVersion"], lambda r: False)
    print(f"training killed while {state['status']}")
    personalize, runtime = restart(site)
    record = personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    if state["status"] == "CREATE IN_PROGRESS":
        assert record["status"] == "CREATE FAILED"
        assert "stopped while this was in progress" in record["failureReason"]
    assert nothing_pending(personalize) == []
    assert recommendations(runtime, shop, site["users"]) == site["before"]
    campaign = personalize.describe_campaign(campaignArn=shop.campaign)["campaign"]
    assert campaign["status"] == "ACTIVE" and campaign["solutionVersionArn"] == shop.version
    retrained = train_version(personalize, shop.solution)
    assert retrained["status"] == "ACTIVE", retrained.get("failureReason")
    site["new_version"] = retrained["solutionVersionArn"]


def test_kill_during_campaign_update(crash_site) -> None:
    site, shop = crash_site, crash_site["shop"]
    personalize = site["engine"].client("personalize")
    new_version = site.get("new_version") or train_version(personalize, shop.solution)["solutionVersionArn"]
    personalize.update_campaign(campaignArn=shop.campaign, solutionVersionArn=new_version)
    site["engine"].stop(signal.SIGKILL)  # at once: the swap runs in the background
    personalize, runtime = restart(site)
    campaign = personalize.describe_campaign(campaignArn=shop.campaign)["campaign"]
    update = campaign["latestCampaignUpdate"]
    print(f"campaign update after the kill: {update['status']}")
    assert campaign["status"] == "ACTIVE"
    assert update["status"] in ("ACTIVE", "CREATE FAILED")
    if update["status"] == "ACTIVE":
        assert campaign["solutionVersionArn"] == new_version
    else:
        assert "stopped while this was in progress" in update["failureReason"]
        assert campaign["solutionVersionArn"] == shop.version
        assert recommendations(runtime, shop, site["users"]) == site["before"]
    assert nothing_pending(personalize) == []
    # New work succeeds: the update again, then the campaign serves the new version.
    personalize.update_campaign(campaignArn=shop.campaign, solutionVersionArn=new_version)
    done = wait_for(lambda: personalize.describe_campaign(campaignArn=shop.campaign)["campaign"],
                    lambda c: c["latestCampaignUpdate"]["status"] in ("ACTIVE", "CREATE FAILED"))
    assert done["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert done["solutionVersionArn"] == new_version
    assert runtime.get_recommendations(campaignArn=shop.campaign, userId=site["users"][0])["itemList"]
