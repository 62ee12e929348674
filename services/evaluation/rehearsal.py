"""A simulated day on a dataset group: the shoppers of the demo generator visit the chosen campaigns
through the group's event tracker, and the metric attributions that the group reports on."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from services.core.clients import Clients
from services.core.listing import list_all
from services.demo.shop_setup import DemoPlan
from services.evaluation.simulation import DAY_S, Progress, Shoppers, SimulationResult, simulate_day
from services.recommendations.events import list_trackers


@dataclass(frozen=True)
class AttributionInfo:
    name: str
    arn: str
    status: str
    metrics: list[dict]  # eventType, metricName, expression as AWS returns them
    destination: str  # the S3 (or, on the engine, file://) path of its reports; "" when none


def metric_attributions(personalize, group_arn: str) -> list[AttributionInfo]:
    out = []
    for summary in list_all(personalize, "list_metric_attributions", "metricAttributions",
                            datasetGroupArn=group_arn):
        arn = summary["metricAttributionArn"]
        detail = personalize.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
        metrics = list_all(personalize, "list_metric_attribution_metrics", "metrics", metricAttributionArn=arn)
        path = ((detail.get("metricsOutputConfig") or {}).get("s3DataDestination") or {}).get("path", "")
        out.append(AttributionInfo(detail.get("name", ""), arn, detail.get("status", ""), metrics, path))
    return out


def yesterday(now: float | None = None) -> float:
    """The start (00:00 UTC) of the day before `now`: a simulated day that has fully passed."""
    now = time.time() if now is None else now
    return float(int(now) // DAY_S * DAY_S - DAY_S)


def rehearse_day(clients: Clients, group_arn: str, campaign_arns: Sequence[str], plan: DemoPlan, visits: int,
                 seed: int, start: float | None = None, progress: Progress | None = None) -> SimulationResult:
    trackers = [t for t in list_trackers(clients.personalize, group_arn) if t.status == "ACTIVE"]
    if not trackers:
        raise ValueError("This dataset group has no ACTIVE event tracker: create one on the Events page, "
                         "then the simulated shoppers can send their events.")
    if progress is not None:
        progress("Generating the shoppers and their hidden tastes", 0.0)
    shoppers = Shoppers.from_demo(plan.shop())
    return simulate_day(clients.runtime, clients.events, trackers[0].tracking_id, list(campaign_arns), shoppers,
                        visits, seed, yesterday() if start is None else start, experiment=group_arn,
                        progress=progress)
