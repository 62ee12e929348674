"""Nightly Personalize retrain: one task that runs the dashboard's retrain pipeline command.

The command does the whole job (optional import → train → update every campaign → verify) and exits
non-zero naming the failed step, so the task fails loudly and the campaign keeps its old version.
Set the Airflow Variables personalize_dataset_group, personalize_solution and optionally
personalize_import_from and personalize_repo (the checkout to run from). Against the embedded engine
the command signs with the engine's key pair, found in the engine's data dir (PERSONALIZE_DATA_DIR) or in
PERSONALIZE_ENGINE_ACCESS_KEY_ID / PERSONALIZE_ENGINE_SECRET_ACCESS_KEY: give the worker one of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3 moved the operator into the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

COMMAND = (
    "cd {{ var.value.get('personalize_repo', '.') }} && "
    "python -m services.pipeline retrain "
    "--dataset-group '{{ var.value.personalize_dataset_group }}' "
    "--solution '{{ var.value.personalize_solution }}' "
    "{% if var.value.get('personalize_import_from') %}"
    "--import-from '{{ var.value.personalize_import_from }}'{% endif %}"
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
    BashOperator(task_id="retrain", bash_command=COMMAND)
