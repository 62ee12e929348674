"""services.core.resources on answers the engine never sends but AWS may: optional members absent
(status, name, recipe, creation time, domain), dataset types beyond the three, lower-case types,
recommenders without a name, versions without a creation time. The client here is a dict of List and
Describe answers (one page each), standing in for boto3's client, not for any of our code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.core import resources as r

GROUP = "arn:aws:personalize:us-east-1:1:dataset-group/shop"


class Answers:
    """Just enough of a personalize client: each operation answers its one page."""

    def __init__(self, **answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict]] = []

    def can_paginate(self, operation: str) -> bool:
        return False

    def __getattr__(self, operation: str):
        if operation not in self.answers:
            raise AttributeError(operation)

        def call(**params: Any) -> dict[str, Any]:
            self.calls.append((operation, params))
            return self.answers[operation]
        return call


def test_times_become_aware_utc_and_read_in_words():
    assert r.utc("") is None and r.utc(None) is None
    assert r.utc(86400) == datetime(1970, 1, 2, tzinfo=UTC)
    assert r.utc("86400.5") == datetime(1970, 1, 2, 0, 0, 0, 500000, tzinfo=UTC)
    plus_two = datetime(2026, 3, 29, 14, 5, tzinfo=timezone(timedelta(hours=2)))
    assert r.utc(plus_two) == datetime(2026, 3, 29, 12, 5, tzinfo=UTC) and r.utc(plus_two).tzinfo is UTC
    assert r.when_utc(plus_two) == "2026-03-29 12:05 UTC"
    assert r.when_utc(None) == "unknown"
    assert r.parse_timestamp_utc("2026-03-29T14:05:00+02:00") == datetime(2026, 3, 29, 12, 5, tzinfo=UTC)
    assert r.parse_timestamp_utc("2026-03-29T14:05:00+02:00").tzinfo is UTC
    assert r.parse_timestamp_utc(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_arn_parts():
    assert r.arn_name("arn:aws:personalize:us-east-1:1:solution/shop/abcd") == "abcd"
    assert r.arn_path("arn:aws:personalize:us-east-1:1:solution/shop/abcd") == "solution/shop/abcd"
    assert r.arn_path(None) == "?" and r.arn_name("") == ""


def test_groups_without_optional_members():
    p = Answers(
        list_dataset_groups={"datasetGroups": [
            {"datasetGroupArn": GROUP, "name": "shop"},
            {"datasetGroupArn": GROUP + "2", "name": "b", "status": "ACTIVE", "creationDateTime": 0}]},
        describe_dataset_group={"datasetGroup": {"datasetGroupArn": GROUP, "name": "shop", "domain": ""}})
    bare, full = r.dataset_groups(p)
    assert bare == r.DatasetGroup(GROUP, "shop", "", None)
    assert full == r.DatasetGroup(GROUP + "2", "b", "ACTIVE", datetime(1970, 1, 1, tzinfo=UTC))
    assert r.describe_group(p, GROUP) == r.DatasetGroup(GROUP, "shop", "", None, None)
    assert p.calls[-1] == ("describe_dataset_group", {"datasetGroupArn": GROUP})
    assert r.find_group(p, GROUP + "2") is not None and r.find_group(p, "b").arn == GROUP + "2"
    with pytest.raises(ValueError) as err:
        r.find_group(p, "nope")
    assert str(err.value) == "There is no dataset group 'nope' (there are: b, shop)."
    with pytest.raises(ValueError, match=r"\(there are: none\)"):
        r.find_group(Answers(list_dataset_groups={"datasetGroups": []}), "nope")


def test_a_domain_group_is_described_with_its_domain_and_times():
    p = Answers(describe_dataset_group={"datasetGroup": {
        "datasetGroupArn": GROUP, "name": "shop", "status": "ACTIVE", "creationDateTime": 60,
        "domain": "ECOMMERCE"}})
    assert r.describe_group(p, GROUP) == r.DatasetGroup(
        GROUP, "shop", "ACTIVE", datetime(1970, 1, 1, 0, 1, tzinfo=UTC), "ECOMMERCE")


def test_datasets_by_type_known_types_first_then_the_rest_by_name():
    def ds(kind: str, **more: Any) -> dict:
        return {"datasetArn": f"{GROUP}/{kind}", "datasetType": kind, **more}

    p = Answers(list_datasets={"datasets": [
        ds("Users", name="u", status="ACTIVE", creationDateTime=0), ds("Action_Interactions"), ds("Actions"),
        ds("items"), ds("Interactions"), {"datasetArn": f"{GROUP}/untyped"}]})
    found = r.datasets_by_type(p, GROUP)
    assert list(found) == ["INTERACTIONS", "ITEMS", "USERS", "", "ACTIONS", "ACTION_INTERACTIONS"]
    assert found[""].arn == f"{GROUP}/untyped"  # a summary without its type: kept, after the known types
    assert found["USERS"] == r.Dataset(f"{GROUP}/Users", "u", "USERS", "ACTIVE", datetime(1970, 1, 1, tzinfo=UTC))
    assert found["ITEMS"] == r.Dataset(f"{GROUP}/items", "", "ITEMS", "", None)
    assert p.calls[-1] == ("list_datasets", {"datasetGroupArn": GROUP})
    assert r.dataset_of_type(p, GROUP, "actions") == found["ACTIONS"]
    assert r.dataset_of_type(Answers(list_datasets={"datasets": []}), GROUP, "items") is None


def test_solutions_and_campaigns_without_optional_members():
    sol = f"{GROUP}-solution"
    p = Answers(
        list_solutions={"solutions": [
            {"solutionArn": sol, "name": "shop-sims"},
            {"solutionArn": sol + "2", "name": "a", "status": "ACTIVE", "recipeArn": "arn:r/aws-sims",
             "creationDateTime": 0}]},
        list_campaigns={"campaigns": [{"campaignArn": "c1", "name": "one"},
                                      {"campaignArn": "c2", "name": "two", "status": "ACTIVE"}]})
    bare, full = r.solutions_of(p, GROUP)
    assert bare == r.Solution(sol, "shop-sims", "", "", None)
    assert full == r.Solution(sol + "2", "a", "ACTIVE", "arn:r/aws-sims", datetime(1970, 1, 1, tzinfo=UTC))
    assert ("list_solutions", {"datasetGroupArn": GROUP}) in p.calls
    assert r.find_solution(p, GROUP, sol + "2") == full
    with pytest.raises(ValueError) as err:
        r.find_solution(p, GROUP, "nope")
    assert str(err.value) == "The dataset group has no solution 'nope' (it has: a, shop-sims)."
    with pytest.raises(ValueError, match=r"\(it has: none\)"):
        r.find_solution(Answers(list_solutions={"solutions": []}), GROUP, "nope")
    assert r.campaigns_of_solution(p, sol) == [r.Campaign("c1", "one", "", sol), r.Campaign("c2", "two", "ACTIVE", sol)]
    assert ("list_campaigns", {"solutionArn": sol}) in p.calls
    assert [(c.arn, c.solution_arn) for c in r.campaigns_of(p, GROUP)] == [
        ("c1", sol), ("c2", sol), ("c1", sol + "2"), ("c2", sol + "2")]


def test_versions_without_a_creation_time_sort_last():
    sol = "arn:aws:personalize:us-east-1:1:solution/shop"
    p = Answers(list_solution_versions={"solutionVersions": [
        {"solutionVersionArn": f"{sol}/old"},
        {"solutionVersionArn": f"{sol}/new", "status": "ACTIVE", "creationDateTime": 100},
        {"solutionVersionArn": f"{sol}/mid", "status": "ACTIVE", "creationDateTime": 50}]})
    versions = r.solution_versions(p, sol)
    assert [v.arn.rsplit("/", 1)[1] for v in versions] == ["new", "mid", "old"]
    assert versions[-1] == r.SolutionVersion(f"{sol}/old", sol, "", None)
    assert p.calls[-1] == ("list_solution_versions", {"solutionArn": sol})
    assert [v.arn for v in r.active_versions(p, sol)] == [f"{sol}/new", f"{sol}/mid"]
    assert r.newest_active_version(p, sol) == f"{sol}/new"


def test_recommenders_by_name_with_their_group_and_times():
    rec = "arn:aws:personalize:us-east-1:1:recommender/"
    p = Answers(list_recommenders={"recommenders": [
        {"recommenderArn": rec + "zeta-1", "name": "zeta", "status": "ACTIVE", "recipeArn": "arn:r/aws-ecomm-x",
         "datasetGroupArn": "other-group", "creationDateTime": 0, "lastUpdatedDateTime": 60},
        {"recommenderArn": rec + "alpha"}]})
    alpha, zeta = r.recommenders_of(p, GROUP)
    assert alpha == r.Recommender(rec + "alpha", "alpha", "", "", GROUP, None, None)
    assert zeta == r.Recommender(rec + "zeta-1", "zeta", "ACTIVE", "arn:r/aws-ecomm-x", "other-group",
                                 datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 0, 1, tzinfo=UTC))
    assert p.calls[-1] == ("list_recommenders", {"datasetGroupArn": GROUP})


def test_a_naive_time_is_read_as_utc_whatever_the_machines_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert r.utc(datetime(2026, 1, 1, 9, 0)) == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
