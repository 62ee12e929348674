"""A delete that a stop interrupts (DELETE PENDING or DELETE IN_PROGRESS) finishes after the restart."""

from __future__ import annotations

import signal

from tests.engine.conftest import active
from tests.support.engine_process import EngineProcess, wait_for


def test_an_interrupted_delete_finishes_after_a_restart(tmp_path):
    data = tmp_path / "data"
    first = EngineProcess.start(data)
    try:
        p = first.client("personalize")
        group = p.create_dataset_group(name="del-restart")["datasetGroupArn"]
        active(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
        arn = p.create_filter(name="del-restart-filter", datasetGroupArn=group,
                              filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")')["filterArn"]
        active(lambda: p.describe_filter(filterArn=arn), "filter")
        p.delete_filter(filterArn=arn)
        assert p.describe_filter(filterArn=arn)["filter"]["status"] in ("DELETE PENDING", "DELETE IN_PROGRESS")
    finally:
        assert first.stop(signal.SIGKILL) in (0, -signal.SIGKILL)

    second = EngineProcess.start(data)
    try:
        p = second.client("personalize")

        def state() -> str:
            try:
                return p.describe_filter(filterArn=arn)["filter"]["status"]
            except p.exceptions.ResourceNotFoundException:
                return "GONE"

        assert wait_for(state, lambda s: s == "GONE", timeout=30, interval=0.05) == "GONE"
        assert p.list_filters(datasetGroupArn=group)["Filters"] == []
        p.delete_dataset_group(datasetGroupArn=group)
    finally:
        second.stop()
