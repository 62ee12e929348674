"""The Airflow DAG parses (only where Airflow is installed; it is not a dependency of the dashboard)."""

from __future__ import annotations

import pytest

from tests.support.engine_process import REPO


def test_retrain_dag_parses():
    pytest.importorskip("airflow")
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("personalize_retrain")
    assert [t.task_id for t in dag.tasks] == ["retrain"]
    assert "python -m services.pipeline retrain" in dag.tasks[0].bash_command


def test_dag_file_is_valid_python_without_airflow():
    source = (REPO / "dags" / "personalize_retrain.py").read_text()
    compile(source, "personalize_retrain.py", "exec")
    assert "services.pipeline retrain" in source
