"""services.core.resources: the shared read layer, against the engine and (for the version rule) a fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from dateutil.tz import tzlocal

from services.core import resources
from services.models import campaign_health, campaigns
from tests.support.shops import small_shop


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("resources"), "res-shop") as s:
        yield s


class _Versions:
    """Just enough of a personalize client for ListSolutionVersions (one page)."""

    def __init__(self, versions: list[dict]) -> None:
        self.versions = versions

    def can_paginate(self, operation: str) -> bool:
        return False

    def list_solution_versions(self, solutionArn: str) -> dict:
        return {"solutionVersions": self.versions}


def _version(n: int, status: str, created: datetime) -> dict:
    return {"solutionVersionArn": f"arn:aws:personalize:us-east-1:0:solution/s/v{n}", "status": status,
            "creationDateTime": created}


def test_newest_active_ignores_newer_failed_and_training_versions():
    t0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    fake = _Versions([
        _version(1, "ACTIVE", t0),
        _version(2, "ACTIVE", t0 + timedelta(hours=1)),
        _version(3, "CREATE FAILED", t0 + timedelta(hours=2)),
        _version(4, "CREATE IN_PROGRESS", t0 + timedelta(hours=3)),
        _version(5, "CREATE STOPPED", t0 + timedelta(hours=4)),
    ])
    assert resources.newest_active_version(fake, "s") == "arn:aws:personalize:us-east-1:0:solution/s/v2"
    assert [v.arn[-2:] for v in resources.active_versions(fake, "s")] == ["v2", "v1"]
    assert resources.newest_active_version(_Versions([_version(1, "CREATE FAILED", t0)]), "s") is None


def test_newest_is_by_time_whatever_the_zone_or_list_order():
    later_in_utc = datetime(2026, 3, 29, 10, 0, tzinfo=timezone(timedelta(hours=9)))  # 01:00 UTC
    earlier_in_utc = datetime(2026, 3, 29, 2, 0, tzinfo=timezone(timedelta(hours=2)))  # 00:00 UTC
    fake = _Versions([_version(1, "ACTIVE", later_in_utc), _version(2, "ACTIVE", earlier_in_utc)])
    assert resources.newest_active_version(fake, "s").endswith("/v1")
    versions = resources.solution_versions(fake, "s")
    assert all(v.created.tzinfo is UTC for v in versions)


def test_every_datetime_is_aware_utc():
    local = datetime(2026, 10, 25, 2, 30, tzinfo=tzlocal())
    assert resources.utc(local).tzinfo is UTC and resources.utc(local) == local
    assert resources.utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert resources.utc(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert resources.utc(None) is None


def test_arn_names():
    assert resources.arn_name("arn:aws:personalize:::recipe/aws-sims") == "aws-sims"
    assert resources.arn_name("aws-sims") == "aws-sims"
    assert resources.arn_name(None) == ""
    assert resources.arn_path("arn:aws:personalize:us-east-1:0:solution/s/abcd") == "solution/s/abcd"
    assert resources.arn_path("") == "?"


def test_groups_datasets_solutions_and_campaigns_from_the_engine(shop):
    group_arn = shop.result.dataset_group_arn
    group = resources.find_group(shop.p, "res-shop")
    assert group.arn == group_arn and resources.find_group(shop.p, group_arn) == group
    assert resources.describe_group(shop.p, group_arn).name == "res-shop"
    assert group.created is not None and group.created.tzinfo is UTC
    with pytest.raises(ValueError, match="res-shop"):
        resources.find_group(shop.p, "no-such-group")

    by_type = resources.datasets_by_type(shop.p, group_arn)
    assert next(iter(by_type)) == "INTERACTIONS" and set(by_type) <= set(resources.DATASET_TYPE_ORDER)
    assert by_type["INTERACTIONS"].arn == shop.result.datasets["Interactions"]
    assert resources.dataset_of_type(shop.p, group_arn, "interactions") == by_type["INTERACTIONS"]

    solutions = {s.arn: s for s in resources.solutions_of(shop.p, group_arn)}
    assert set(solutions) == set(shop.result.solutions.values())
    assert {resources.arn_name(s.recipe_arn) for s in solutions.values()} == set(shop.result.solutions)
    assert {c.arn for c in resources.campaigns_of(shop.p, group_arn)} == set(shop.result.campaigns.values())
    with pytest.raises(ValueError, match="res-shop-popularity-count"):
        resources.find_solution(shop.p, group_arn, "nope")


def test_stale_warning_and_update_button_agree(shop):
    """Campaign health and *Update to newest* ask the same question, so they name the same version."""
    solution_arn = shop.result.solutions["aws-popularity-count"]
    newest = resources.newest_active_version(shop.p, solution_arn)
    assert newest == shop.result.versions["aws-popularity-count"]
    health = {h.solution_arn: h for h in campaign_health.campaign_health(shop.p, shop.result.dataset_group_arn)}
    assert health[solution_arn].newest_active_version == newest
    with pytest.raises(ValueError, match="already serves the newest"):
        campaigns.update_to_newest(shop.p, health[solution_arn].campaign_arn)
