"""campaign_health's advice in each state and its auto-training cost, on hand-built records: the
Campaigns page's words for a campaign that is behind its data, and stale with the update button on
the same page. Written from the survivors of `python -m bench.mutation --module campaign_health`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.models import campaign_health as ch
from services.models.data_freshness import DataFreshness

NOW = datetime.now(UTC)
BASE = "arn:aws:personalize:us-east-1:1:"


def _health(**overrides) -> ch.CampaignHealth:
    base = dict(name="shop-up", campaign_arn=BASE + "campaign/shop-up", solution_arn=BASE + "solution/shop-up",
                status="ACTIVE", serving_version=BASE + "solution/shop-up/aaaa1111",
                newest_active_version=BASE + "solution/shop-up/aaaa1111", update_status=None, update_failure=None,
                sync_with_latest=False, min_provisioned_tps=1, monthly_tps_cost=146.0)
    return ch.CampaignHealth(**(base | overrides))


def test_a_current_campaign_behind_its_data_says_what_arrived_since_training():
    behind = DataFreshness(trained_at=NOW - timedelta(days=3), newer_imports=2, newer_rows=4000,
                           newest_import_at=NOW - timedelta(hours=2))
    health = _health(freshness=behind)
    assert health.behind_data and not health.stale
    assert health.advice() == f"Serves the newest ACTIVE solution version, but {behind.sentence()}"
    assert "4,000 interactions (2 imports) arrived" in health.advice()
    caught_up = DataFreshness(trained_at=NOW, newer_imports=0, newer_rows=0, newest_import_at=None)
    assert _health(freshness=caught_up).advice() == "Serves the newest ACTIVE solution version."


def test_on_the_campaigns_page_a_stale_campaign_points_at_the_button_below():
    stale = _health(newest_active_version=BASE + "solution/shop-up/bbbb2222")
    assert stale.advice(on_campaigns_page=True) == (
        "Campaign shop-up still serves solution/shop-up/aaaa1111 although solution/shop-up/bbbb2222 is newer and "
        "ACTIVE: recommendations do not reflect the latest training. Update the campaign to the newest version "
        "(Update to newest, below), or turn on syncWithLatestSolutionVersion.")
    assert "(Campaigns page)" in stale.advice()


def test_the_weekly_auto_training_cost_grows_with_the_hours_a_run_takes(monkeypatch):
    # At one hour a run, price * hours and price / hours agree; at two they do not.
    monkeypatch.setattr(ch, "AUTO_TRAINING_HOURS_PER_RUN", 2.0)
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    group, arn = BASE + "dataset-group/shop", BASE + "solution/every2"
    solution = {"name": "every2", "solutionArn": arn, "performAutoTraining": True,
                "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "rate(2 days)"}}}
    with Stubber(client) as stub:
        stub.add_response("list_solutions", {"solutions": [{"name": "every2", "solutionArn": arn}]},
                          {"datasetGroupArn": group})
        stub.add_response("describe_solution", {"solution": solution}, {"solutionArn": arn})
        [flag] = ch.auto_training_flags(client, group)
    assert flag.weekly_cost_estimate == pytest.approx(ch.TRAINING_HOUR_PRICE * 2.0 * 7 / 2)
