"""`python -m services.pipeline retrain` as cron runs it: a subprocess, progress lines, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.pipeline import RetrainPipeline, RetrainRequest, RunStore
from tests.support.engine_process import REPO
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("cli"), "cli-shop") as s:
        yield s


def retrain(shop, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERSONALIZE_DATA_DIR": str(shop.data_dir)}
    env.pop("PERSONALIZE_ENGINE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "services.pipeline", "retrain", "--dataset-group", "cli-shop",
         "--endpoint-url", shop.clients.backend.endpoint_url, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def test_exit_0_when_every_campaign_serves_the_new_version(shop):
    before = shop.serving("aws-popularity-count")
    done = retrain(shop, "--solution", "cli-shop-popularity-count")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("[2/6] Create a solution version: ok" in line for line in lines)
    assert any("[6/6] Verify with DescribeCampaign: ok" in line for line in lines)
    assert "now serves" in lines[-1]
    assert shop.serving("aws-popularity-count") != before


def test_exit_1_names_the_failing_step(shop):
    done = retrain(shop, "--solution", "cli-shop-popularity-count", "--import-from", "missing")
    assert done.returncode == 1
    assert "failed at step 'Import new interactions'" in done.stderr
    assert "FAILED" in done.stdout


def test_exit_2_for_unknown_names(shop):
    done = retrain(shop, "--solution", "nope")
    assert done.returncode == 2
    assert "no solution 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


def test_exit_3_while_another_process_runs_the_same_solution(shop, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
    run, lock = RetrainPipeline(shop.clients, RunStore()).prepare(
        RetrainRequest("cli-shop", "cli-shop-similar-items"))
    try:
        done = retrain(shop, "--solution", "cli-shop-similar-items")
    finally:
        lock.release()
    assert done.returncode == 3
    assert "already running" in done.stderr and run.run_id in done.stderr
