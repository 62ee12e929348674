"""The cold-start story on the demo shop, one step at a time, each step idempotent.

1. start: the demo shop with its first 7/32 of events (~7,000 of the default 32,000); most users
   have little or no history and User-Personalization gives them the popular items (the duplication report is red);
2. add the rest (~25,000 by default): an INCREMENTAL import of the shop's later events; nothing
   changes yet;
3. train a new solution version, without updating the campaign: still nothing changes, and the
   campaign is flagged stale (it serves the old version);
4. update the campaign to the new version: the lists turn personal (the report turns green).

Where the story is comes from the engine (or AWS), not from the browser session: the dataset group,
the additional import job by name, the solution's versions and what the campaign serves. A reload, or
another user, sees the same step. Reports are taken on one fixed panel of users, drawn by cohort of
their history when the story began, so "before" and "after" compare the same people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from services.core import resources
from services.core.clients import Clients
from services.core.config import data_dir
from services.core.jobs import Job, JobRegistry
from services.core.listing import list_all
from services.core.waiting import wait_until
from services.data.schemas import demo_shop_schema
from services.data.staging import stage_frame
from services.demo.shop_setup import ROLE_ARN, DemoPlan, create_demo_shop, find_group
from services.models.campaign_health import CampaignHealth, campaign_health
from services.recommendations.duplication import DuplicationReport, duplication_report
from services.recommendations.side_by_side import fetch_recommendations, sample_users

Progress = Callable[[str, float], None]
STORY_RECIPE = "aws-user-personalization"
PANEL_PER_COHORT = 25
REPORT_K = 10
PENDING = ("CREATE PENDING", "CREATE IN_PROGRESS")
LEVEL_WORDS = {"critical": "red", "warning": "amber", "ok": "green"}
# The panel's cohorts are fixed at the story's start so "before" and "after" follow the same people.
HISTORY_AS_OF = "when the story began"
COLD_COLUMN = "≤2 interactions at the start: same top-10 list"

def _about(n: int) -> str:
    return f"~{round(n, -2) if n >= 1_000 else n:,}"


def steps_for(plan: DemoPlan) -> tuple[tuple[str, str], ...]:
    """The four steps' titles and descriptions, with this plan's event counts (the small shop has fewer)."""
    first = round(plan.n_interactions * 7 / 32)  # story_phases' split, without generating the shop
    rest, total = _about(plan.n_interactions - first), _about(plan.n_interactions)
    first_text = _about(first)
    return (
        (f"Start with {first_text} interactions",
         f"Creates the demo shop with only the first {first_text} of its events, trains popularity-count, "
         "user-personalization and similar-items, and deploys a campaign for each. Most shoppers have one or "
         "two events at this point, or none, so the model has little to personalise on."),
        (f"Add {rest} events",
         "Imports the rest of the shop's events (INCREMENTAL, so the first ones stay). The campaign keeps "
         f"serving the model trained on the first {first_text}: imported data only counts after training."),
        ("Train a new version, without updating the campaign",
         f"Trains a new user-personalization solution version on all {total} events. The campaign still "
         "serves the old version (syncWithLatestSolutionVersion is off by default), so recommendations do not "
         "change — the mistake real teams made. The campaign is flagged stale."),
        ("Update the campaign to the new version",
         "Points the campaign at the newest ACTIVE version. From this moment users get lists from the model "
         "that has seen their history: the lists turn personal."),
    )


STEPS: tuple[tuple[str, str], ...] = steps_for(DemoPlan())


def _noop(message: str, fraction: float) -> None:
    return None


def _polling(clients: Clients) -> dict[str, float]:
    # The engine finishes in seconds: poll it briskly. AWS takes minutes: wait_until's gentle defaults.
    return {"interval": 0.1, "max_interval": 1.0} if clients.backend.is_local else {}


def additional_job_name(plan: DemoPlan) -> str:
    return f"{plan.name}-interactions-additional"


def story_names(plan: DemoPlan) -> tuple[str, str]:
    """(solution name, campaign name) the demo gives user-personalization."""
    base = f"{plan.name}-{STORY_RECIPE.removeprefix('aws-')}"
    return base, base


# --------------------------------------------------------------------------------------------------
# Where the story is


@dataclass
class StoryStatus:
    group_arn: str | None = None
    done: int = 0  # steps completed, 0..4
    busy: str | None = None  # a step still running (started here or elsewhere)
    interactions_dataset_arn: str | None = None
    solution_arn: str | None = None
    campaign_arn: str | None = None
    serving_version: str | None = None
    new_version: str | None = None  # the version trained after the additional import, if any
    additional_import: dict | None = None
    health: CampaignHealth | None = None
    problem: str | None = None  # the group exists but is not the demo's shape

    @property
    def next_step(self) -> int:
        """1-based number of the step to run next (5 = the story is complete)."""
        return self.done + 1


def story_status(clients: Clients, plan: DemoPlan) -> StoryStatus:
    p = clients.personalize
    status = StoryStatus(group_arn=find_group(clients, plan.name))
    if status.group_arn is None:
        return status
    solution_name, campaign_name = story_names(plan)
    datasets = resources.datasets_by_type(p, status.group_arn)
    interactions = datasets.get("INTERACTIONS")
    status.interactions_dataset_arn = interactions.arn if interactions else None
    solution = next((s for s in resources.solutions_of(p, status.group_arn) if s.name == solution_name), None)
    campaign_summary = None
    if solution is not None:
        status.solution_arn = solution.arn
        campaign_summary = next((c for c in resources.campaigns_of_solution(p, solution.arn)
                                 if c.name == campaign_name), None)
    if campaign_summary is None or status.interactions_dataset_arn is None:
        status.busy = "setting up the demo shop"  # create_demo_shop makes these in order
        if campaign_summary is None and solution is None and datasets:
            status.problem = (f"The dataset group {plan.name} has no {solution_name} solution; the story needs "
                              "the demo shop as the dashboard creates it.")
        return status
    campaign = p.describe_campaign(campaignArn=campaign_summary.arn)["campaign"]
    status.campaign_arn = campaign["campaignArn"]
    status.serving_version = campaign.get("solutionVersionArn")
    if campaign.get("status") != "ACTIVE":
        status.busy = "deploying the campaign"
        return status
    status.done = 1

    jobs = list_all(p, "list_dataset_import_jobs", "datasetImportJobs",
                    datasetArn=status.interactions_dataset_arn)
    job = next((j for j in jobs if j.get("jobName") == additional_job_name(plan)), None)
    status.additional_import = job
    health = [h for h in campaign_health(p, status.group_arn, clients.backend.region)
              if h.campaign_arn == status.campaign_arn]
    status.health = health[0] if health else None
    if job is None:
        return status
    if job["status"] in PENDING:
        status.busy = "importing the additional events"
        return status
    if job["status"] != "ACTIVE":
        status.problem = f"The import of the additional events ended {job['status']}; run step 2 again."
        return status
    status.done = 2

    imported_at = job.get("lastUpdatedDateTime") or job["creationDateTime"]
    versions = list_all(p, "list_solution_versions", "solutionVersions", solutionArn=status.solution_arn)
    later = sorted((v for v in versions if v["creationDateTime"] >= imported_at),
                   key=lambda v: v["creationDateTime"], reverse=True)
    if not later:
        return status
    if later[0]["status"] in PENDING:
        status.busy = "training the new version"
        return status
    active = [v for v in later if v["status"] == "ACTIVE"]
    if not active:
        status.problem = f"Training the new version ended {later[0]['status']}; run step 3 again."
        return status
    status.new_version = active[0]["solutionVersionArn"]
    status.done = 3

    update = campaign.get("latestCampaignUpdate") or {}
    if update.get("status") in PENDING:
        status.busy = "updating the campaign"
        return status
    if status.serving_version in {v["solutionVersionArn"] for v in active}:
        status.done = 4
    return status


# --------------------------------------------------------------------------------------------------
# The steps


def _require(status: StoryStatus, step: int) -> None:
    if status.done < step - 1:
        raise ValueError(f"Run step {status.done + 1} first: the story goes one step at a time.")


def step_start(clients: Clients, plan: DemoPlan, progress: Progress = _noop) -> str:
    """Step 1: the demo shop with the story's first phase only. Already there: wait until it is ready."""
    status = story_status(clients, plan)
    if status.group_arn is None:
        if plan.phase != "initial":
            raise ValueError("The story starts from the first phase of the demo shop's events.")
        return create_demo_shop(clients, plan, progress).dataset_group_arn
    if status.problem:
        raise ValueError(status.problem)
    if status.campaign_arn is None:
        raise ValueError("The demo shop is still being set up elsewhere; wait a moment and refresh.")
    progress("The demo shop exists; waiting until its campaign is ready", 0.5)
    _wait_campaign(clients, status.campaign_arn)
    progress("The demo shop is ready", 1.0)
    return status.group_arn


def step_add_events(clients: Clients, plan: DemoPlan, progress: Progress = _noop) -> str:
    """Step 2: import the additional phase (INCREMENTAL). Already imported or importing: wait for it."""
    status = story_status(clients, plan)
    _require(status, 2)
    p = clients.personalize
    job = status.additional_import
    if job is None or job["status"] not in (*PENDING, "ACTIVE"):
        progress("Regenerating the shop's later events from its seed", 0.1)
        additional = plan.phases()[1]
        columns = [c for c in demo_shop_schema("Interactions").names if c in additional.columns]
        staged = stage_frame(additional[columns], additional_job_name(plan), clients.backend, clients.s3,
                             plan.s3_bucket)
        progress(f"Importing {staged.rows:,} events (INCREMENTAL)", 0.3)
        name = additional_job_name(plan) if job is None else f"{additional_job_name(plan)}-retry-{_stamp()}"
        arn = p.create_dataset_import_job(
            jobName=name, datasetArn=status.interactions_dataset_arn, dataSource={"dataLocation": staged.uri},
            roleArn=ROLE_ARN, importMode="INCREMENTAL",
        )["datasetImportJobArn"]
    else:
        arn = job["datasetImportJobArn"]
        progress("The additional events are already imported or importing; waiting for the import", 0.3)
    wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"],
               "the import of the additional events", **_polling(clients))
    progress("Imported", 1.0)
    return arn


def step_train(clients: Clients, plan: DemoPlan, progress: Progress = _noop) -> str:
    """Step 3: a new user-personalization version on all events. The campaign is deliberately left alone."""
    status = story_status(clients, plan)
    _require(status, 3)
    p = clients.personalize
    if status.new_version:
        progress("A new version is already trained", 1.0)
        return status.new_version
    if status.busy == "training the new version":
        versions = list_all(p, "list_solution_versions", "solutionVersions", solutionArn=status.solution_arn)
        arn = max(versions, key=lambda v: v["creationDateTime"])["solutionVersionArn"]
        progress("A new version is already training; waiting for it", 0.3)
    else:
        progress("Training user-personalization on all events", 0.2)
        arn = p.create_solution_version(solutionArn=status.solution_arn, trainingMode="FULL")[
            "solutionVersionArn"]
    wait_until(lambda: p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"],
               "training the new version", **_polling(clients))
    progress("Trained. The campaign still serves the old version.", 1.0)
    return arn


def step_update_campaign(clients: Clients, plan: DemoPlan, progress: Progress = _noop) -> str:
    """Step 4: the campaign serves the new version."""
    status = story_status(clients, plan)
    _require(status, 4)
    p = clients.personalize
    assert status.campaign_arn is not None and status.new_version is not None
    if status.done >= 4:
        progress("The campaign already serves the new version", 1.0)
        return status.new_version
    if status.busy != "updating the campaign":
        progress("Updating the campaign to the new version", 0.2)
        p.update_campaign(campaignArn=status.campaign_arn, solutionVersionArn=status.new_version)
    _wait_campaign(clients, status.campaign_arn)
    progress("The campaign serves the new version", 1.0)
    return status.new_version


STEP_ACTIONS: tuple[Callable[[Clients, DemoPlan, Progress], str], ...] = (
    step_start, step_add_events, step_train, step_update_campaign,
)


def step_job_key(plan: DemoPlan, number: int) -> str:
    return f"story:{plan.name}:{number}"


def start_step(jobs: JobRegistry, clients: Clients, plan: DemoPlan, number: int) -> Job:
    """Run step `number` (1-based) as a background job, or return the one already running: a rerun of
    the page mid-step follows it instead of aborting it. The steps are idempotent, so a finished
    step's job is replaced when asked again."""
    action = STEP_ACTIONS[number - 1]
    return jobs.start(step_job_key(plan, number), lambda progress: action(clients, plan, progress),
                      name=f"story step {number}")


def running_step(jobs: JobRegistry, plan: DemoPlan) -> tuple[int, Job] | None:
    """The story step of this plan still running in this process, if any."""
    for number in range(1, len(STEPS) + 1):
        job = jobs.get(step_job_key(plan, number))
        if job is not None and job.running:
            return number, job
    return None


def _wait_campaign(clients: Clients, campaign_arn: str) -> None:
    p = clients.personalize

    def settled(c: dict) -> bool:
        update = c.get("latestCampaignUpdate") or {}
        return c.get("status") not in PENDING and update.get("status") not in PENDING

    campaign = wait_until(lambda: p.describe_campaign(campaignArn=campaign_arn)["campaign"], "the campaign",
                          done=settled, **_polling(clients))
    failure = (campaign.get("latestCampaignUpdate") or {}).get("status")
    if failure in ("CREATE FAILED", "CREATE STOPPED"):
        reason = campaign["latestCampaignUpdate"].get("failureReason") or "no reason given"
        raise RuntimeError(f"The campaign update ended {failure}: {reason}")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


# --------------------------------------------------------------------------------------------------
# The report on the story's panel of users


@dataclass(frozen=True)
class Panel:
    users: pd.DataFrame  # user_id, interactions, cohort (as when the story began)
    history_at_start: pd.Series  # interactions per user in the first phase
    popularity_initial: pd.Series
    popularity_full: pd.Series
    catalogue_size: int


def story_panel(plan: DemoPlan, per_cohort: int = PANEL_PER_COHORT) -> Panel:
    """The fixed panel: regenerated from the plan's seed, so it is the same after any reload."""
    shop = plan.shop()
    initial, additional = plan.phases()
    lengths = initial["USER_ID"].value_counts()
    users = sample_users(lengths, shop.users["USER_ID"], per_cohort=per_cohort, seed=plan.seed)
    full = pd.concat([initial["ITEM_ID"], additional["ITEM_ID"]], ignore_index=True)
    return Panel(users, lengths, initial["ITEM_ID"].value_counts(), full.value_counts(), len(shop.items))


def story_report(clients: Clients, status: StoryStatus, panel: Panel) -> DuplicationReport:
    """The duplication report of the story campaign, on the panel, cohorts as at the story's start."""
    if status.campaign_arn is None:
        raise ValueError("The story has not started: there is no campaign yet.")
    fetched = fetch_recommendations(clients.runtime, {"story": status.campaign_arn},
                                    panel.users["user_id"].tolist(), num_results=REPORT_K)
    if fetched.errors:
        raise next(iter(fetched.errors.values()))
    # The fallback list is the popularity of the data the served model was trained on.
    popularity = panel.popularity_full if status.done >= 4 else panel.popularity_initial
    return duplication_report(fetched.frame[["user_id", "item_id", "rank"]], campaign="user-personalization",
                              k=REPORT_K, history_lengths=panel.history_at_start, item_popularity=popularity,
                              catalogue_size=panel.catalogue_size, history_as_of=HISTORY_AS_OF)


@dataclass
class Snapshot:
    step: int
    taken_at: str
    level: str
    verdict: str
    figures: list[dict] = field(default_factory=list)  # per group: users, n, same list, Jaccard, ...


def snapshot_of(report: DuplicationReport, step: int) -> Snapshot:
    frame = report.to_frame()
    figures = [
        {"users": r.group, "n": int(r.n_users), "same top-10 list": float(r.same_list_share),
         "mean Jaccard": float(r.mean_jaccard), "personalization": float(r.personalization),
         "level": r.level}
        for r in frame.itertuples()
    ]
    return Snapshot(step, datetime.now(UTC).isoformat(timespec="seconds"), report.level, report.verdict, figures)


class SnapshotStore:
    """The report after each step, kept on disk: "before" must survive a reload."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir() / "story"

    def _path(self, group_arn: str) -> Path:
        return self.root / (re.sub(r"[^A-Za-z0-9._-]+", "-", group_arn).strip("-") + ".json")

    def load(self, group_arn: str) -> dict[int, Snapshot]:
        path = self._path(group_arn)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {int(k): Snapshot(**v) for k, v in raw.items() if isinstance(v, dict)}

    def save(self, group_arn: str, snapshot: Snapshot) -> None:
        snapshots = self.load(group_arn)
        snapshots[snapshot.step] = snapshot
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(group_arn)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({str(k): vars(v) for k, v in sorted(snapshots.items())}, indent=1),
                       encoding="utf-8")
        tmp.replace(path)


def record_snapshot(store: SnapshotStore, status: StoryStatus, report: DuplicationReport) -> Snapshot | None:
    """Keep the report for the step the story is at, once per step (the first look is the 'after')."""
    if status.group_arn is None or status.busy or status.done < 1:
        return None
    existing = store.load(status.group_arn)
    if status.done in existing:
        return existing[status.done]
    snap = snapshot_of(report, status.done)
    store.save(status.group_arn, snap)
    return snap


def snapshots_frame(snapshots: dict[int, Snapshot], plan: DemoPlan | None = None) -> pd.DataFrame:
    """One row per step: the headline figures of all users and of the cold-start users (≤2)."""
    steps = steps_for(plan or DemoPlan())
    rows = []
    for step, snap in sorted(snapshots.items()):
        by_group = {f["users"]: f for f in snap.figures}
        everyone, cold = by_group.get("all", {}), by_group.get("≤2", {})
        rows.append({
            "after step": f"{step}. {steps[step - 1][0]}",
            "report": LEVEL_WORDS.get(snap.level, snap.level),
            COLD_COLUMN: cold.get("same top-10 list"),
            "all: mean Jaccard": everyone.get("mean Jaccard"),
            "all: personalization": everyone.get("personalization"),
            "verdict": snap.verdict,
        })
    return pd.DataFrame(rows)


def unchanged_since_start(snapshots: dict[int, Snapshot], step: int) -> bool:
    """True when the report after `step` has the same figures as after step 1 ("nothing changed")."""
    first, now = snapshots.get(1), snapshots.get(step)
    return step > 1 and first is not None and now is not None and first.figures == now.figures

