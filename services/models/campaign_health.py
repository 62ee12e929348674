"""Is each campaign serving the newest model, and what does it cost? The stale-campaign check.

A campaign serves `solutionVersionArn`; a newer ACTIVE version of the same solution does nothing
until UpdateCampaign swaps it in (`syncWithLatestSolutionVersion` is off by default). This is the
failure real teams met: a retrain finished, and recommendations stayed the same for days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.core.resources import arn_path, campaigns_of_solution, newest_active_version, solutions_of, utc
from services.core.wording import as_sentence
from services.models.data_freshness import DataFreshness, version_freshness

HOURS_PER_MONTH = 730
# USD per TPS-hour of minProvisionedTPS, an estimate the user can edit on the Campaigns page.
DEFAULT_TPS_HOUR_PRICE = {
    "us-east-1": 0.20, "us-east-2": 0.20, "us-west-2": 0.20, "eu-west-1": 0.22, "eu-central-1": 0.24,
    "ap-northeast-1": 0.25, "ap-northeast-2": 0.25, "ap-southeast-1": 0.25, "ap-southeast-2": 0.25,
    "ap-south-1": 0.24, "ca-central-1": 0.22,
}
TRAINING_HOUR_PRICE = 0.24  # USD per training hour (estimate)
AUTO_TRAINING_HOURS_PER_RUN = 1.0  # a conservative guess for one weekly automatic training


@dataclass(frozen=True)
class CampaignHealth:
    name: str
    campaign_arn: str
    solution_arn: str
    status: str
    serving_version: str
    newest_active_version: str | None
    update_status: str | None
    update_failure: str | None
    sync_with_latest: bool
    min_provisioned_tps: int
    monthly_tps_cost: float
    freshness: DataFreshness | None = None  # data imported after the serving version was trained
    updated_at: datetime | None = None  # when the campaign (or its latest update) last changed, UTC

    @property
    def behind_data(self) -> bool:
        """Serves a version that has not seen interactions imported since it was trained."""
        return self.freshness is not None and self.freshness.behind

    @property
    def stale(self) -> bool:
        return self.newest_active_version is not None and self.newest_active_version != self.serving_version

    @property
    def updating(self) -> bool:
        return self.update_status in ("CREATE PENDING", "CREATE IN_PROGRESS")

    @property
    def update_failed(self) -> bool:
        return self.update_status == "CREATE FAILED" or bool(self.update_failure)

    @property
    def update_failure_sentence(self) -> str:
        """Why the last update failed, as one sentence (AWS may give no reason)."""
        return as_sentence(self.update_failure)

    def advice(self, on_campaigns_page: bool = False) -> str:
        """In words; on the Campaigns page itself the update is "the button below", not another page."""
        if not self.stale:
            if self.behind_data and self.freshness is not None:
                return f"Serves the newest ACTIVE solution version, but {self.freshness.sentence()}"
            return "Serves the newest ACTIVE solution version."
        if self.updating:
            return "An update to a newer version is in progress."
        return (
            f"Campaign {self.name} still serves {arn_path(self.serving_version)} although "
            f"{arn_path(self.newest_active_version)} is newer and ACTIVE: recommendations do not "
            "reflect the latest training. Update the campaign to the newest version "
            f"({'Update to newest, below' if on_campaigns_page else 'Campaigns page'}), or turn "
            "on syncWithLatestSolutionVersion."
        )


@dataclass(frozen=True)
class AutoTrainingFlag:
    solution_name: str
    solution_arn: str
    schedule: str
    weekly_cost_estimate: float

    def advice(self) -> str:
        return (
            f"Solution {self.solution_name} has performAutoTraining on ({self.schedule}): AWS trains a new "
            f"version on that schedule, about ${self.weekly_cost_estimate:.2f} a week on top of any nightly "
            "retrain. Turn it off (UpdateSolution) if a pipeline already retrains."
        )


def monthly_cost(tps: int, region: str, price_table: dict[str, float] | None = None) -> float:
    table = price_table or DEFAULT_TPS_HOUR_PRICE
    return tps * table.get(region, DEFAULT_TPS_HOUR_PRICE["us-east-1"]) * HOURS_PER_MONTH


def campaign_health(
    personalize: Any, dataset_group_arn: str, region: str = "us-east-1",
    price_table: dict[str, float] | None = None,
) -> list[CampaignHealth]:
    out: list[CampaignHealth] = []
    for solution in solutions_of(personalize, dataset_group_arn):
        newest_arn = newest_active_version(personalize, solution.arn)
        for summary in campaigns_of_solution(personalize, solution.arn):
            campaign = personalize.describe_campaign(campaignArn=summary.arn)["campaign"]
            update = campaign.get("latestCampaignUpdate") or {}
            config = campaign.get("campaignConfig") or {}
            tps = int(campaign.get("minProvisionedTPS", 1))
            out.append(CampaignHealth(
                name=campaign["name"],
                campaign_arn=campaign["campaignArn"],
                solution_arn=solution.arn,
                status=campaign.get("status", ""),
                serving_version=campaign.get("solutionVersionArn", ""),
                newest_active_version=newest_arn,
                update_status=update.get("status"),
                update_failure=update.get("failureReason"),
                sync_with_latest=bool(config.get("syncWithLatestSolutionVersion")),
                min_provisioned_tps=tps,
                monthly_tps_cost=monthly_cost(tps, region, price_table),
                updated_at=utc(update.get("lastUpdatedDateTime") or campaign.get("lastUpdatedDateTime")),
            ))
    if not out:
        return out
    freshness = version_freshness(personalize, dataset_group_arn, {h.serving_version for h in out})
    return [replace(h, freshness=freshness.get(h.serving_version)) for h in out]


def auto_training_flags(personalize: Any, dataset_group_arn: str) -> list[AutoTrainingFlag]:
    flags = []
    for summary in solutions_of(personalize, dataset_group_arn):
        solution = personalize.describe_solution(solutionArn=summary.arn)["solution"]
        if solution.get("performAutoTraining"):
            schedule = ((solution.get("solutionConfig") or {}).get("autoTrainingConfig") or {}).get(
                "schedulingExpression", "rate(7 days)")
            days = _days(schedule)
            weekly = TRAINING_HOUR_PRICE * AUTO_TRAINING_HOURS_PER_RUN * (7 / days)
            flags.append(AutoTrainingFlag(solution["name"], solution["solutionArn"], schedule, weekly))
    return flags


def _days(schedule: str) -> float:
    """Days between auto-trainings; AWS writes schedules only as rate(N day[s]), anything else is a weekly guess."""
    match = re.fullmatch(r"rate\(\s*(\d+(?:\.\d+)?)\s+days?\s*\)", schedule)
    return max(1.0, float(match.group(1))) if match else 7.0
