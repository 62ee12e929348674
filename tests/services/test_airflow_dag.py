"""The nightly DAG in a real Apache Airflow: parsed by a DagBag and test-run with `airflow dags test`
against the test engine, then checked through boto3.

Airflow is not a dependency of the dashboard: `.ci/run` installs requirements-airflow.txt into a venv
of its own and exports AIRFLOW_PYTHON (that venv's python). Without it these tests skip locally; under
CI (or REQUIRE_AIRFLOW=1) a missing Airflow fails the run, so the DAG cannot rot behind a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.engine_process import REPO
from tests.support.shops import small_shop

DAG_ID = "personalize_retrain"
# Runs inside the Airflow venv: what the DagBag made of dags/ (Airflow 2 and 3 both export DagBag here).
PARSE = """
import json
from airflow.models import DagBag
bag = DagBag(dag_folder={folder!r})
dag = bag.get_dag({dag_id!r})
print(json.dumps({{
    "import_errors": {{str(k): str(v) for k, v in bag.import_errors.items()}},
    "dag_ids": sorted(bag.dag_ids),
    "tasks": [[t.task_id, type(t).__name__] for t in dag.tasks] if dag else [],
    "max_active_runs": dag.max_active_runs if dag else None,
    "catchup": dag.catchup if dag else None,
}}))
"""


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_AIRFLOW"))


@pytest.fixture(scope="module")
def airflow_python() -> str:
    python = os.environ.get("AIRFLOW_PYTHON", "")
    if python and Path(python).is_file() and os.access(python, os.X_OK):
        return os.path.abspath(python)  # absolute but not resolved: the venv's link is what makes it the venv
    reason = (f"AIRFLOW_PYTHON={python!r} is not an executable" if python else "AIRFLOW_PYTHON is not set")
    reason += " (.ci/run makes the Airflow venv from requirements-airflow.txt and sets it)"
    if _required():
        pytest.fail(f"Airflow is required here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def airflow_env(airflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Airflow of its own: a fresh AIRFLOW_HOME with a migrated SQLite database, reading dags/."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    done = airflow(airflow_python, env, "db", "migrate")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return env


def airflow(python: str, env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "airflow", *args], env=env, cwd=env["AIRFLOW_HOME"],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("airflow-shop"), "airflow-shop") as s:
        yield s


def dags_test(airflow_python: str, airflow_env: dict[str, str], shop, solution: str,
              **variables: str) -> subprocess.CompletedProcess:
    """`airflow dags test` with the DAG's Variables given as Airflow reads them from the environment; the
    command runs with the dashboard's interpreter (this one) against the shop's engine."""
    env = {**airflow_env,
           "AIRFLOW_VAR_PERSONALIZE_REPO": str(REPO),
           "AIRFLOW_VAR_PERSONALIZE_PYTHON": sys.executable,
           "AIRFLOW_VAR_PERSONALIZE_DATASET_GROUP": "airflow-shop",
           "AIRFLOW_VAR_PERSONALIZE_SOLUTION": solution,
           **{f"AIRFLOW_VAR_PERSONALIZE_{name.upper()}": value for name, value in variables.items()},
           "PERSONALIZE_BACKEND": "local",
           "PERSONALIZE_ENGINE_URL": shop.clients.backend.endpoint_url,
           "PERSONALIZE_DATA_DIR": str(shop.data_dir)}
    return airflow(airflow_python, env, "dags", "test", DAG_ID)


def test_dag_parses_in_airflow(airflow_python, airflow_env):
    done = subprocess.run([airflow_python, "-c", PARSE.format(folder=str(REPO / "dags"), dag_id=DAG_ID)],
                          env=airflow_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    bag = json.loads(done.stdout.strip().splitlines()[-1])
    assert bag["import_errors"] == {}
    assert bag["dag_ids"] == [DAG_ID]
    assert bag["tasks"] == [["retrain", "BashOperator"]]
    assert bag["max_active_runs"] == 1 and bag["catchup"] is False


def test_dag_run_retrains_and_updates_the_campaign(airflow_python, airflow_env, shop):
    solution = shop.result.solutions["aws-popularity-count"]
    before = {v["solutionVersionArn"] for v in shop.p.list_solution_versions(solutionArn=solution)["solutionVersions"]}
    serving_before = shop.serving("aws-popularity-count")

    done = dags_test(airflow_python, airflow_env, shop, "airflow-shop-popularity-count")

    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    versions = shop.p.list_solution_versions(solutionArn=solution)["solutionVersions"]
    new = [v for v in versions if v["solutionVersionArn"] not in before]
    assert len(new) == 1, versions
    assert new[0]["status"] == "ACTIVE"
    campaign = shop.campaign("aws-popularity-count")
    assert campaign["status"] == "ACTIVE"
    assert campaign["solutionVersionArn"] == new[0]["solutionVersionArn"] != serving_before
    assert "Verify with DescribeCampaign: ok" in log  # the pipeline's own lines reach the task log


def test_failed_retrain_fails_the_dag_run(airflow_python, airflow_env, shop):
    """The optional personalize_import_from reaches the command, and the pipeline's failure fails the run."""
    serving_before = shop.serving("aws-similar-items")
    done = dags_test(airflow_python, airflow_env, shop, "airflow-shop-similar-items", import_from="no-such-source")
    log = done.stdout + done.stderr
    assert done.returncode != 0, log[-5000:]
    assert "failed at step 'Import new interactions'" in log
    assert shop.serving("aws-similar-items") == serving_before


def test_dag_file_is_valid_python_without_airflow():
    source = (REPO / "dags" / "personalize_retrain.py").read_text()
    compile(source, "personalize_retrain.py", "exec")
    assert "services.pipeline retrain" in source
