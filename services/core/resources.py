"""The reads every page and service shares, as small typed records: dataset groups, datasets by type,
solutions, campaigns, recommenders (a domain group's use cases), the newest ACTIVE solution version,
and the short name of an ARN.

One definition each, so two pages can never disagree (e.g. the stale-campaign warning and the
*Update to newest* button both ask `newest_active_version`). Every datetime returned here is
timezone-aware UTC: botocore hands out datetimes in the machine's local zone (tzlocal), which break
pyarrow and pandas in daylight-saving zones once they reach a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.utils import parse_timestamp

from services.core.listing import list_all

DATASET_TYPE_ORDER = ("INTERACTIONS", "ITEMS", "USERS")
_EPOCH = datetime.fromtimestamp(0, UTC)


def utc(value: Any) -> datetime | None:
    """botocore's datetimes (tzlocal or naive) and epoch seconds, as aware UTC datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def parse_timestamp_utc(value: Any) -> datetime:
    """botocore's timestamp parser, answering aware UTC: the dashboard's clients parse every timestamp
    of every answer with it (services.core.clients), so no tzlocal datetime reaches pandas or Streamlit."""
    parsed = utc(parse_timestamp(value))
    assert parsed is not None  # parse_timestamp never answers None
    return parsed


def when_utc(value: datetime | None) -> str:
    """A time for a sentence, with its zone named: '2024-05-01 13:05 UTC' ('unknown' without one)."""
    moment = utc(value)
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "unknown"


def arn_name(arn: str | None) -> str:
    """The last part of an ARN: a recipe's, dataset group's or solution version's own name or id.

    Names pass through unchanged, so callers need not know which one they hold.
    """
    return arn.rsplit("/", 1)[-1] if arn else ""


def arn_path(arn: str | None) -> str:
    """'solution/name/abcd1234': the resource part of an ARN, for sentences that need the kind too."""
    return arn.split(":")[-1] if arn else "?"


@dataclass(frozen=True)
class DatasetGroup:
    arn: str
    name: str
    status: str
    created: datetime | None
    domain: str | None = None  # ECOMMERCE or VIDEO_ON_DEMAND: a domain group serves recommenders


@dataclass(frozen=True)
class Dataset:
    arn: str
    name: str
    dataset_type: str  # upper case: INTERACTIONS, ITEMS, USERS
    status: str
    created: datetime | None


@dataclass(frozen=True)
class Solution:
    arn: str
    name: str
    status: str
    recipe_arn: str  # empty when the List call does not carry it
    created: datetime | None


@dataclass(frozen=True)
class SolutionVersion:
    arn: str
    solution_arn: str
    status: str
    created: datetime | None


@dataclass(frozen=True)
class Recommender:
    arn: str
    name: str
    status: str  # INACTIVE: stopped, serves nothing
    recipe_arn: str  # the domain use case, e.g. arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you
    dataset_group_arn: str
    created: datetime | None
    updated: datetime | None = None  # lastUpdatedDateTime: moves when it is retrained, stopped or started


@dataclass(frozen=True)
class Campaign:
    arn: str
    name: str
    status: str
    solution_arn: str


def dataset_groups(personalize: Any) -> list[DatasetGroup]:
    """Every dataset group, in the order the backend lists them."""
    return [DatasetGroup(g["datasetGroupArn"], g["name"], g.get("status", ""), utc(g.get("creationDateTime")))
            for g in list_all(personalize, "list_dataset_groups", "datasetGroups")]


def describe_group(personalize: Any, dataset_group_arn: str) -> DatasetGroup:
    g = personalize.describe_dataset_group(datasetGroupArn=dataset_group_arn)["datasetGroup"]
    return DatasetGroup(g["datasetGroupArn"], g["name"], g.get("status", ""), utc(g.get("creationDateTime")),
                        g.get("domain") or None)


def find_group(personalize: Any, name_or_arn: str) -> DatasetGroup:
    """The dataset group with this name or ARN; ValueError naming the choices."""
    groups = dataset_groups(personalize)
    for group in groups:
        if name_or_arn in (group.name, group.arn):
            return group
    names = ", ".join(sorted(g.name for g in groups)) or "none"
    raise ValueError(f"There is no dataset group {name_or_arn!r} (there are: {names}).")


def datasets_by_type(personalize: Any, dataset_group_arn: str) -> dict[str, Dataset]:
    """The group's datasets keyed by upper-case type (a group has one of each at most), known types first."""
    found = {}
    for d in list_all(personalize, "list_datasets", "datasets", datasetGroupArn=dataset_group_arn):
        dtype = str(d.get("datasetType", "")).upper()
        found[dtype] = Dataset(d["datasetArn"], d.get("name", ""), dtype, d.get("status", ""),
                               utc(d.get("creationDateTime")))
    order = {t: i for i, t in enumerate(DATASET_TYPE_ORDER)}
    return {t: found[t] for t in sorted(found, key=lambda t: (order.get(t, len(order)), t))}


def dataset_of_type(personalize: Any, dataset_group_arn: str, dataset_type: str) -> Dataset | None:
    return datasets_by_type(personalize, dataset_group_arn).get(dataset_type.upper())


def solutions_of(personalize: Any, dataset_group_arn: str) -> list[Solution]:
    return [Solution(s["solutionArn"], s["name"], s.get("status", ""), s.get("recipeArn", ""),
                     utc(s.get("creationDateTime")))
            for s in list_all(personalize, "list_solutions", "solutions", datasetGroupArn=dataset_group_arn)]


def find_solution(personalize: Any, dataset_group_arn: str, name_or_arn: str) -> Solution:
    """The solution by name (or ARN) within a dataset group; ValueError naming the choices."""
    solutions = solutions_of(personalize, dataset_group_arn)
    for s in solutions:
        if name_or_arn in (s.name, s.arn):
            return s
    names = ", ".join(sorted(s.name for s in solutions)) or "none"
    raise ValueError(f"The dataset group has no solution {name_or_arn!r} (it has: {names}).")


def solution_versions(personalize: Any, solution_arn: str) -> list[SolutionVersion]:
    """The solution's versions, newest first by creation time."""
    versions = [SolutionVersion(v["solutionVersionArn"], solution_arn, v.get("status", ""),
                                utc(v.get("creationDateTime")))
                for v in list_all(personalize, "list_solution_versions", "solutionVersions",
                                  solutionArn=solution_arn)]
    return sorted(versions, key=lambda v: v.created or _EPOCH, reverse=True)


def active_versions(personalize: Any, solution_arn: str) -> list[SolutionVersion]:
    """ACTIVE versions only, newest first: a newer version still training or CREATE FAILED is not one."""
    return [v for v in solution_versions(personalize, solution_arn) if v.status == "ACTIVE"]


def newest_active_version(personalize: Any, solution_arn: str) -> str | None:
    """The ARN of the solution's newest ACTIVE version (by creation time), or None."""
    active = active_versions(personalize, solution_arn)
    return active[0].arn if active else None


def campaigns_of_solution(personalize: Any, solution_arn: str) -> list[Campaign]:
    return [Campaign(c["campaignArn"], c["name"], c.get("status", ""), solution_arn)
            for c in list_all(personalize, "list_campaigns", "campaigns", solutionArn=solution_arn)]


def campaigns_of(personalize: Any, dataset_group_arn: str) -> list[Campaign]:
    """Every campaign of the group's solutions (ListCampaigns filters by solution only)."""
    return [c for s in solutions_of(personalize, dataset_group_arn) for c in campaigns_of_solution(personalize, s.arn)]


def recommenders_of(personalize: Any, dataset_group_arn: str) -> list[Recommender]:
    """The group's recommenders (only domain groups have any), in name order."""
    found = [Recommender(r["recommenderArn"], r.get("name", arn_name(r["recommenderArn"])), r.get("status", ""),
                         r.get("recipeArn", ""), r.get("datasetGroupArn") or dataset_group_arn,
                         utc(r.get("creationDateTime")), utc(r.get("lastUpdatedDateTime")))
             for r in list_all(personalize, "list_recommenders", "recommenders", datasetGroupArn=dataset_group_arn)]
    return sorted(found, key=lambda r: r.name)
