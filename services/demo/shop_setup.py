"""The demo shop, end to end: generate seeded data, create schemas, a dataset group and datasets,
import, train popularity-count, user-personalization and similar-items, and deploy campaigns.

By default it imports only the story's first phase (~7,000 interactions: most users have one or
two), which is exactly where real teams saw every user get the same items. The rest of the events
(~25,000) are regenerated from the same seed when the story adds them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from services.core import resources
from services.core.audit import AuditLog
from services.core.clients import Clients
from services.core.config import BackendInfo, data_dir
from services.core.jobs import Job, JobRegistry
from services.core.listing import list_all
from services.core.waiting import wait_until
from services.data.schemas import demo_shop_schema
from services.data.staging import stage_frame
from services.demo.shop_data import DemoShop, generate_shop, story_phases

Progress = Callable[[str, float], None]
DEMO_RECIPES = ("aws-popularity-count", "aws-user-personalization", "aws-similar-items")
ROLE_ARN = "arn:aws:iam::000000000000:role/PersonalizeDemo"


@dataclass(frozen=True)
class DemoPlan:
    name: str = "demo-shop"
    n_users: int = 1_500
    n_items: int = 600
    n_interactions: int = 32_000
    seed: int = 7
    phase: str = "initial"  # "initial" (the cold-start story's start) or "full"
    recipes: tuple[str, ...] = DEMO_RECIPES
    s3_bucket: str | None = None  # AWS mode stages files in S3

    @classmethod
    def small(cls, name: str = "demo-shop") -> DemoPlan:
        """A size for tests: trains in about a second."""
        return cls(name=name, n_users=300, n_items=150, n_interactions=6_000)

    def shop(self) -> DemoShop:
        return generate_shop(self.n_users, self.n_items, self.n_interactions, seed=self.seed)

    def phases(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return story_phases(self.shop())


@dataclass
class DemoResult:
    dataset_group_arn: str
    datasets: dict[str, str] = field(default_factory=dict)
    solutions: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    campaigns: dict[str, str] = field(default_factory=dict)


def _noop(message: str, fraction: float) -> None:
    return None


def find_group(clients: Clients, name: str) -> str | None:
    """The ARN of the dataset group with this name, or None."""
    return next((g.arn for g in resources.dataset_groups(clients.personalize) if g.name == name), None)


def create_demo_shop(clients: Clients, plan: DemoPlan | None = None, progress: Progress = _noop) -> DemoResult:
    plan = plan or DemoPlan()
    p = clients.personalize
    if find_group(clients, plan.name):
        raise ValueError(f"A dataset group named {plan.name!r} already exists; delete it or choose another name.")
    progress("Generating the demo shop's data", 0.02)
    shop = plan.shop()
    interactions = story_phases(shop)[0] if plan.phase == "initial" else shop.interactions
    frames = {"Interactions": interactions, "Items": shop.items, "Users": shop.users}

    progress("Creating the dataset group and schemas", 0.08)
    group = p.create_dataset_group(name=plan.name, domain="ECOMMERCE")["datasetGroupArn"]
    result = DemoResult(group)
    wait_until(lambda: p.describe_dataset_group(datasetGroupArn=group)["datasetGroup"], "dataset group")
    existing = {s["name"]: s["schemaArn"] for s in list_all(p, "list_schemas", "schemas")}
    for dtype in frames:
        schema_name = f"{plan.name}-{dtype.lower()}"
        schema_arn = existing.get(schema_name) or p.create_schema(
            name=schema_name, schema=demo_shop_schema(dtype).to_json(indent=None), domain="ECOMMERCE"
        )["schemaArn"]
        result.datasets[dtype] = p.create_dataset(
            name=schema_name, schemaArn=schema_arn, datasetGroupArn=group, datasetType=dtype
        )["datasetArn"]
    for dtype, arn in result.datasets.items():
        wait_until(lambda arn=arn: p.describe_dataset(datasetArn=arn)["dataset"], f"{dtype} dataset")

    jobs = {}
    for i, (dtype, frame) in enumerate(frames.items()):
        progress(f"Importing {len(frame):,} {dtype.lower()} rows", 0.12 + 0.06 * i)
        columns = demo_shop_schema(dtype).names
        staged = stage_frame(frame[[c for c in columns if c in frame.columns]], f"{plan.name}-{dtype.lower()}",
                             clients.backend, clients.s3, plan.s3_bucket)
        jobs[dtype] = p.create_dataset_import_job(
            jobName=f"{plan.name}-{dtype.lower()}-initial", datasetArn=result.datasets[dtype],
            dataSource={"dataLocation": staged.uri}, roleArn=ROLE_ARN, importMode="FULL",
        )["datasetImportJobArn"]
    for dtype, arn in jobs.items():
        wait_until(lambda arn=arn: p.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"],
                   f"the {dtype} import")

    for recipe in plan.recipes:
        result.solutions[recipe] = p.create_solution(
            name=f"{plan.name}-{recipe.removeprefix('aws-')}", datasetGroupArn=group,
            recipeArn=f"arn:aws:personalize:::recipe/{recipe}", performAutoTraining=False,
        )["solutionArn"]
    for i, (recipe, arn) in enumerate(result.solutions.items()):
        wait_until(lambda arn=arn: p.describe_solution(solutionArn=arn)["solution"], f"solution {recipe}")
        progress(f"Training {recipe}", 0.35 + 0.15 * i)
        result.versions[recipe] = p.create_solution_version(solutionArn=arn, trainingMode="FULL")[
            "solutionVersionArn"]
    for recipe, arn in result.versions.items():
        wait_until(lambda arn=arn: p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"],
                   f"training {recipe}")

    progress("Deploying campaigns", 0.85)
    for recipe, version in result.versions.items():
        result.campaigns[recipe] = p.create_campaign(
            name=f"{plan.name}-{recipe.removeprefix('aws-')}", solutionVersionArn=version, minProvisionedTPS=1,
        )["campaignArn"]
    for recipe, arn in result.campaigns.items():
        wait_until(lambda arn=arn: p.describe_campaign(campaignArn=arn)["campaign"], f"campaign {recipe}")
    progress("The demo shop is ready", 1.0)
    return result


# -- the demo shop as a background job (the sidebar's button and the first start) ----------------------
DEMO_NAME = "demo-shop"
FIRST_START_MARKER = "demo-first-start.json"  # in the data dir: made once, never again automatically
_FIRST_START = "demo-first-start"  # the once-per-process claim of the automatic first start


def demo_job_key(name: str) -> str:
    return f"demo-shop:{name}"


def demo_job(jobs: JobRegistry, name: str) -> Job | None:
    return jobs.get(demo_job_key(name))


def start_demo_shop(jobs: JobRegistry, clients: Clients, plan: DemoPlan) -> Job:
    """Build `plan` in the background unless a build of that name runs or has succeeded; the job's result
    is the dataset group's ARN. A page rerun aborting the script does not abort the build."""

    def build(progress: Progress) -> str:
        return create_demo_shop(clients, plan, progress).dataset_group_arn

    return jobs.start(demo_job_key(plan.name), build, name=plan.name, keep_success=True)


def next_demo_name(existing: set[str], base: str = DEMO_NAME) -> str:
    """demo-shop, then demo-shop-2, demo-shop-3, ..."""
    if base not in existing:
        return base
    n = 2
    while f"{base}-{n}" in existing:
        n += 1
    return f"{base}-{n}"


def is_fresh_install(info: BackendInfo) -> bool:
    # Only the dashboard's own engine (data_dir set): an engine started separately may be shared.
    return info.is_local and info.data_dir is not None and not (data_dir() / FIRST_START_MARKER).exists()


def start_first_demo(jobs: JobRegistry, clients: Clients, audit: AuditLog) -> Job | None:
    """The first start's demo shop, claimed once per process: later callers (other runs, tabs) get the
    same job. None when a demo shop already exists (e.g. made by an earlier dashboard on this engine)."""
    if not jobs.claim(_FIRST_START):
        return demo_job(jobs, DEMO_NAME)
    try:
        exists = find_group(clients, DEMO_NAME)
    except Exception:  # the backend hiccuped: the next run tries again
        jobs.release(_FIRST_START)
        raise
    if exists:
        jobs.release(_FIRST_START)
        return None
    audit.record("dashboard", "system", "create demo shop (first start)", {"name": DEMO_NAME}, True, "started", 0)
    job = start_demo_shop(jobs, clients, DemoPlan(name=DEMO_NAME))
    (data_dir() / FIRST_START_MARKER).write_text(json.dumps({"name": DEMO_NAME, "started_at": time.time()}))
    return job
