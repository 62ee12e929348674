"""Nightly Personalize retrain: one task that runs the dashboard's retrain pipeline command.

The command does the whole job (optional import → train → update every campaign → verify) and exits
non-zero naming the failed step, so the task fails loudly and the campaign keeps its old version.
Set the Airflow Variables personalize_dataset_group, personalize_solution and optionally
personalize_import_from, personalize_repo (the checkout to run from) and personalize_python (the
interpreter of the dashboard's environment, default `python` on the worker's PATH: the command needs
the dashboard's requirements, Airflow itself does not). Against the embedded engine the command signs
with the engine's key pair, found in the engine's data dir (PERSONALIZE_DATA_DIR) or in
PERSONALIZE_ENGINE_ACCESS_KEY_ID / PERSONALIZE_ENGINE_SECRET_ACCESS_KEY: give the worker one of them.
CI test-runs this DAG in a real Airflow (tests/services/test_airflow_dag.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3 moved the operator into the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

# The Variables reach the command as environment variables, not pasted into the shell line, so a name
# with a quote or a space stays one argument. Every optional one gets a default in the template:
# Airflow 3's `var.value.get(key)` without a default returns a truthy sentinel instead of None.
ENV = {
    "RETRAIN_REPO": "{{ var.value.get('personalize_repo', '.') }}",
    "RETRAIN_PYTHON": "{{ var.value.get('personalize_python', 'python') }}",
    "RETRAIN_DATASET_GROUP": "{{ var.value.personalize_dataset_group }}",
    "RETRAIN_SOLUTION": "{{ var.value.personalize_solution }}",
    "RETRAIN_IMPORT_FROM": "{{ var.value.get('personalize_import_from', '') }}",
}
COMMAND = (
    'cd "$RETRAIN_REPO" && '
    '"$RETRAIN_PYTHON" -m services.pipeline retrain '
    '--dataset-group "$RETRAIN_DATASET_GROUP" --solution "$RETRAIN_SOLUTION" '
    '${RETRAIN_IMPORT_FROM:+--import-from "$RETRAIN_IMPORT_FROM"}'
)

with DAG(
    dag_id="personalize_retrain",
    description="Import, train, update the campaigns and verify they serve the new version",
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # the pipeline also refuses a second run of the same solution
    default_args={"retries": 0, "execution_timeout": timedelta(hours=8)},
    tags=["personalize"],
) as dag:
    # append_env: the worker's own environment (PATH, the engine's key pair, AWS settings) stays visible.
    BashOperator(task_id="retrain", bash_command=COMMAND, env=ENV, append_env=True)
