"""A restarted engine (clean stop, or SIGKILL) keeps everything ACTIVE and answers the same."""

from __future__ import annotations

import signal

import pytest

from tests.engine.conftest import deploy, make_shop, train
from tests.support.engine_process import EngineProcess


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_serves_the_same_answers(tmp_path, sig):
    data = tmp_path / "data"
    first = EngineProcess.start(data)
    try:
        p, rt = first.client("personalize"), first.client("personalize-runtime")
        shop = make_shop(p, tmp_path, "restart")
        _, version = train(p, shop.group, "restart-up", "aws-user-personalization")
        campaign = deploy(p, "restart-up", version)
        tracker = p.create_event_tracker(name="restart-tracker", datasetGroupArn=shop.group)
        first.client("personalize-events").put_events(
            trackingId=tracker["trackingId"], userId="fresh", sessionId="s",
            eventList=[{"eventType": "click", "itemId": shop.items[3], "sentAt": 1_735_800_000}])
        before = {u: rt.get_recommendations(campaignArn=campaign, userId=u)["itemList"]
                  for u in [*shop.users[:5], "fresh"]}
        groups_before = p.list_dataset_groups()["datasetGroups"]
    finally:
        assert first.stop(sig) in (0, -signal.SIGKILL)

    second = EngineProcess.start(data)
    try:
        p, rt = second.client("personalize"), second.client("personalize-runtime")
        assert p.list_dataset_groups()["datasetGroups"] == groups_before
        assert p.describe_campaign(campaignArn=campaign)["campaign"]["status"] == "ACTIVE"
        assert p.describe_solution_version(solutionVersionArn=version)["solutionVersion"]["status"] == "ACTIVE"
        after = {u: rt.get_recommendations(campaignArn=campaign, userId=u)["itemList"] for u in before}
        assert after == before
    finally:
        second.stop()


def test_one_engine_per_data_dir(tmp_path):
    first = EngineProcess.start(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="did not start"):
            EngineProcess.start(tmp_path)
    finally:
        first.stop()
