"""Recommenders: a domain dataset group's use cases (ECOMMERCE, VIDEO_ON_DEMAND), served as campaigns are.

A recommender bills `minRecommendationRequestsPerSecond` every hour whether used or not, as a campaign bills
its `minProvisionedTPS`, so both are priced with the same table. Stopping one (INACTIVE) ends that bill and
its recommendations; starting it again needs no training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from services.core.listing import list_all
from services.core.resources import arn_name, describe_group, recommenders_of, utc
from services.core.wording import as_sentence
from services.models.campaign_health import monthly_cost
from services.models.metric_table import METRICS
from services.recommendations.runtime_call import call_kind

PENDING = ("CREATE PENDING", "CREATE IN_PROGRESS", "STOP PENDING", "STOP IN_PROGRESS", "START PENDING",
           "START IN_PROGRESS", "DELETE PENDING", "DELETE IN_PROGRESS")
DEFAULT_MIN_RPS = 1  # AWS's default minRecommendationRequestsPerSecond


@dataclass(frozen=True)
class RecommenderHealth:
    name: str
    arn: str
    use_case: str  # the recipe's own name, e.g. aws-ecomm-recommended-for-you
    status: str
    failure_reason: str | None
    min_rps: int
    monthly_cost: float
    update_status: str | None
    update_failure: str | None
    metadata_enabled: bool
    model_metrics: dict[str, float] = field(default_factory=dict)
    updated: datetime | None = None

    @property
    def kind(self) -> str:
        """The runtime call its use case takes (runtime_call.USER, ITEM or POPULAR)."""
        return call_kind(self.use_case)

    @property
    def recipe(self) -> str:  # the test panel names a campaign's recipe; a recommender's is its use case
        return self.use_case

    @property
    def busy(self) -> bool:
        """Moving between states, or applying an UpdateRecommender: worth following until it settles."""
        return self.status in PENDING or self.update_status in ("CREATE PENDING", "CREATE IN_PROGRESS")

    @property
    def failed(self) -> bool:
        return self.status == "CREATE FAILED"

    @property
    def stopped(self) -> bool:
        return self.status == "INACTIVE"

    def advice(self) -> str:
        if self.failed:
            return f"Recommender {self.name} failed: {as_sentence(self.failure_reason)}"
        if self.stopped:
            return f"Recommender {self.name} is stopped: it serves nothing and bills nothing until started."
        if self.status in PENDING:
            return f"Recommender {self.name} is {self.status.lower()}."
        if self.update_failure:
            return f"The last update of recommender {self.name} failed: {as_sentence(self.update_failure)}"
        if self.status == "ACTIVE":
            return f"Recommender {self.name} serves {self.use_case}."
        return f"Recommender {self.name} is {self.status or 'in an unknown state'}."


def recommender_health(
    personalize: Any, dataset_group_arn: str, region: str = "us-east-1",
    price_table: dict[str, float] | None = None,
) -> list[RecommenderHealth]:
    """Every recommender of the group, described, in name order ([] for a group without a domain)."""
    out = []
    for summary in recommenders_of(personalize, dataset_group_arn):
        rec = personalize.describe_recommender(recommenderArn=summary.arn)["recommender"]
        config = rec.get("recommenderConfig") or {}
        update = rec.get("latestRecommenderUpdate") or {}
        rps = int(config.get("minRecommendationRequestsPerSecond") or DEFAULT_MIN_RPS)
        metrics = {k: float(v) for k, v in (rec.get("modelMetrics") or {}).items() if v is not None}
        out.append(RecommenderHealth(
            name=rec.get("name", summary.name), arn=summary.arn, use_case=arn_name(rec.get("recipeArn", "")),
            status=rec.get("status", ""), failure_reason=rec.get("failureReason"), min_rps=rps,
            monthly_cost=monthly_cost(rps, region, price_table), update_status=update.get("status"),
            update_failure=update.get("failureReason"),
            metadata_enabled=bool(config.get("enableMetadataWithRecommendations")), model_metrics=metrics,
            updated=utc(rec.get("lastUpdatedDateTime")),
        ))
    return out


@dataclass(frozen=True)
class UseCase:
    arn: str
    name: str
    description: str


def use_cases(personalize: Any, dataset_group_arn: str) -> list[UseCase]:
    """The use cases a recommender of this group can serve (ListRecipes with the group's domain); [] for a
    group without a domain (only domain groups have recommenders)."""
    domain = describe_group(personalize, dataset_group_arn).domain
    if not domain:
        return []
    found = [UseCase(r["recipeArn"], r.get("name") or arn_name(r["recipeArn"]), "")
             for r in list_all(personalize, "list_recipes", "recipes", domain=domain)]
    return sorted(found, key=lambda u: u.name)


def create_recommender(personalize: Any, name: str, dataset_group_arn: str, use_case_arn: str,
                       min_rps: int = DEFAULT_MIN_RPS) -> str:
    """CreateRecommender; it trains in the background and bills `min_rps` from the moment it is ACTIVE."""
    name = name.strip()
    if not name:
        raise ValueError("Give the recommender a name.")
    if int(min_rps) < 1:
        raise ValueError("The minimum recommendation requests per second must be at least 1.")
    return personalize.create_recommender(
        name=name, datasetGroupArn=dataset_group_arn, recipeArn=use_case_arn,
        recommenderConfig={"minRecommendationRequestsPerSecond": int(min_rps)},
    )["recommenderArn"]


def start_recommender(personalize: Any, recommender_arn: str) -> str:
    return personalize.start_recommender(recommenderArn=recommender_arn)["recommenderArn"]


def stop_recommender(personalize: Any, recommender_arn: str) -> str:
    return personalize.stop_recommender(recommenderArn=recommender_arn)["recommenderArn"]


def delete_recommender(personalize: Any, recommender_arn: str) -> str:
    """DeleteRecommender: AWS moves it through DELETE PENDING before it is gone."""
    personalize.delete_recommender(recommenderArn=recommender_arn)
    return recommender_arn


def metrics_table(health: list[RecommenderHealth]) -> pd.DataFrame:
    """One row per recommender with modelMetrics: name, use case, then each metric under its readable name
    (the names the solution versions' table uses), in the same order."""
    rows = []
    for h in health:
        if not h.model_metrics:
            continue
        row: dict[str, Any] = {"recommender": h.name, "use case": h.use_case}
        for key, info in METRICS.items():
            if key in h.model_metrics:
                row[info.name] = round(h.model_metrics[key], 4)
        rows.append(row)
    return pd.DataFrame(rows)
