"""A simulated day on a dataset group: the shoppers of the demo generator visit the chosen campaigns
through the group's event tracker, and the metric attributions that the group reports on."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from services.core.clients import Clients
from services.core.config import data_dir
from services.core.listing import list_all
from services.demo.shop_setup import DemoPlan
from services.evaluation.experiment import Experiment, ExperimentStore
from services.evaluation.simulation import DAY_S, ClickModel, Progress, Shoppers, SimulationResult, simulate_day
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
    result = simulate_day(clients.runtime, clients.events, trackers[0].tracking_id, list(campaign_arns), shoppers,
                          visits, seed, yesterday() if start is None else start, experiment=group_arn,
                          progress=progress)
    DayStore().save(group_arn, result)
    return result


def run_experiment(clients: Clients, experiment: Experiment, plan: DemoPlan, visits: int, seed: int,
                   store: ExperimentStore | None = None, progress: Progress | None = None) -> pd.DataFrame:
    """One more simulated day of the experiment: `visits` visits split by the experiment's own hash, the
    log appended to the experiment's saved log (and returned). Day k of an experiment starts k days after
    its first, and draws with `seed + k`, so every day is new and a rerun of the same day is the same."""
    store = store or ExperimentStore()
    before = store.log(experiment.name)
    day = 0 if before is None or before.empty else int((before["time"].max() - experiment.start) // DAY_S) + 1
    trackers = [t for t in list_trackers(clients.personalize, experiment.dataset_group) if t.status == "ACTIVE"]
    if not trackers:
        raise ValueError("This dataset group has no ACTIVE event tracker: create one on the Events page, "
                         "then the simulated shoppers can send their events.")
    shoppers = Shoppers.from_demo(plan.shop())
    result = simulate_day(clients.runtime, clients.events, trackers[0].tracking_id, list(experiment.arms), shoppers,
                          visits, seed + day, experiment.start + day * DAY_S, experiment=experiment.name,
                          model=ClickModel(list_length=experiment.list_length), progress=progress)
    return store.append_log(experiment.name, result.log)


class DayStore:
    """The last simulated day of each dataset group, kept in the data directory so a reload shows it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root

    def _path(self, group_arn: str) -> Path:
        folder = self.root or data_dir() / "impact"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{hashlib.sha256(group_arn.encode()).hexdigest()[:24]}.parquet"

    def save(self, group_arn: str, result: SimulationResult) -> None:
        path = self._path(group_arn)
        tmp = path.with_suffix(".tmp")
        result.log.assign(events_sent=result.events_sent, calls=result.calls).to_parquet(tmp, index=False)
        tmp.replace(path)

    def load(self, group_arn: str) -> SimulationResult | None:
        path = self._path(group_arn)
        if not path.exists():
            return None
        frame = pd.read_parquet(path)
        sent = int(frame["events_sent"].iloc[0]) if len(frame) else 0
        calls = int(frame["calls"].iloc[0]) if len(frame) else 0
        return SimulationResult(frame.drop(columns=["events_sent", "calls"]), sent, calls)
