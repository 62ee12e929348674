"""Solutions and their versions: what the Training page reads and the buttons it offers.

A solution is a recipe bound to a dataset group (plus an optional eventType and configuration); each
training makes a solution version. `performAutoTraining` is on by default on AWS, which adds a weekly
training bill on top of any nightly retrain, so creating a solution here leaves it off unless chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from services.core.listing import list_all
from services.core.resources import arn_name, utc
from services.models.campaign_health import AUTO_TRAINING_HOURS_PER_RUN, TRAINING_HOUR_PRICE
from services.models.metric_table import metric_name
from services.models.tuning import progress_text, tuned_text

RECIPE_PREFIX = "arn:aws:personalize:::recipe/"
TRAINING_STATUSES = ("CREATE PENDING", "CREATE IN_PROGRESS", "CREATE STOPPING")
TRAINING_MODES = ("FULL", "UPDATE")
DEFAULT_SCHEDULE = "rate(7 days)"
VERSIONS_DESCRIBED = 25  # DescribeSolutionVersion per row (trainingHours); older rows keep the summary


@dataclass(frozen=True)
class RecipeGuide:
    """A recipe in plain words: what it does, when to pick it, what a request needs."""

    name: str
    what: str
    when: str
    asks_for: str  # what GetRecommendations needs: "a user", "an item", "a user and a list of items"


RECIPE_GUIDE: dict[str, RecipeGuide] = {g.name: g for g in [
    RecipeGuide(
        "aws-popularity-count",
        "Shows every user the same list: the items with the most interactions.",
        "Always train it next to your real recipe: it is the floor every recipe must beat, and what "
        "a personalised model quietly falls back to when it has too little data per user.",
        "a user (ignored: everyone gets the same list)",
    ),
    RecipeGuide(
        "aws-trending-now",
        "Shows the items most interacted with recently, lifted when their interactions are growing "
        "(as far as growth has carried on in your data's past).",
        "A 'trending now' shelf on the home page, or for new visitors; it changes as fast as your "
        "shop does.",
        "a user (ignored: everyone gets the same list)",
    ),
    RecipeGuide(
        "aws-user-personalization",
        "Learns from what similar users did and gives each user their own list; reacts to new events "
        "at once and mixes in some new items (exploration).",
        "The default for a personalised 'for you' list, once most users have several interactions.",
        "a user",
    ),
    RecipeGuide(
        "aws-user-personalization-v2",
        "User-Personalization that also reads item metadata, so brand-new items reach users who like "
        "their category.",
        "A 'for you' list in a catalogue that changes often (fashion, news, marketplaces).",
        "a user",
    ),
    RecipeGuide(
        "aws-similar-items",
        "Given an item, the items related to it from co-interactions and shared metadata, so even "
        "new items get related items.",
        "'More like this' on a product page.",
        "an item",
    ),
    RecipeGuide(
        "aws-sims",
        "Given an item, the items the same people also interacted with.",
        "'Customers who viewed this also viewed' widgets, when items have plenty of interactions.",
        "an item",
    ),
    RecipeGuide(
        "aws-personalized-ranking",
        "Reorders a list you give it (search results, a category page) for each user.",
        "Reranking lists your shop already builds, rather than choosing items from the whole catalogue.",
        "a user and a list of items",
    ),
    RecipeGuide(
        "aws-personalized-ranking-v2",
        "Personalized-Ranking that also reads item metadata, so new items in a user's favourite "
        "categories are ranked sensibly.",
        "Reranking lists that include new items.",
        "a user and a list of items",
    ),
]}


@dataclass(frozen=True)
class RecipeInfo:
    name: str
    arn: str
    recipe_type: str
    description: str  # what the backend says (DescribeRecipe)
    guide: RecipeGuide | None  # this dashboard's plain words, when it knows the recipe

    def explanation(self) -> str:
        if self.guide is None:
            return self.description or "No description."
        return f"{self.guide.what} **When to use it:** {self.guide.when} Requests pass {self.guide.asks_for}."


def recipe_arn(name: str) -> str:
    return name if name.startswith("arn:") else f"{RECIPE_PREFIX}{name}"


def recipe_catalogue(personalize: Any) -> list[RecipeInfo]:
    """The backend's recipes (ListRecipes) with their plain-words guide; guided recipes first.

    AWS lists many recipes (domain ones, legacy HRNN); only custom-solution recipes are offered.
    """
    out = []
    for summary in list_all(personalize, "list_recipes", "recipes"):
        name = arn_name(summary["recipeArn"])  # a recipe's name is its ARN's last part (AWS may omit "name")
        if summary.get("domain") or not name.startswith("aws-"):
            continue
        try:
            detail = personalize.describe_recipe(recipeArn=summary["recipeArn"])["recipe"]
        except Exception:  # a recipe that cannot be described is still offered, without its text
            detail = {}
        out.append(RecipeInfo(name, summary["recipeArn"], detail.get("recipeType", ""),
                              detail.get("description", ""), RECIPE_GUIDE.get(name)))
    order = list(RECIPE_GUIDE)
    return sorted(out, key=lambda r: (order.index(r.name) if r.name in order else len(order), r.name))


def weekly_auto_training_cost(schedule: str = DEFAULT_SCHEDULE) -> float:
    """Estimated USD a week that performAutoTraining adds at this schedule (see campaign_health's prices)."""
    try:
        days = max(1.0, float(schedule.removeprefix("rate(").split()[0]))
    except (ValueError, IndexError):
        days = 7.0
    return TRAINING_HOUR_PRICE * AUTO_TRAINING_HOURS_PER_RUN * 7 / days


SOLUTION_COLUMNS = ["name", "recipe", "event type", "configuration", "auto-training", "auto-training $/week",
                    "status", "latest version", "solution_arn"]


def solutions_table(personalize: Any, dataset_group_arn: str) -> pd.DataFrame:
    """One row per solution: name, recipe, eventType, configuration, auto-training, latest version."""
    rows = []
    for summary in list_all(personalize, "list_solutions", "solutions", datasetGroupArn=dataset_group_arn):
        s = personalize.describe_solution(solutionArn=summary["solutionArn"])["solution"]
        config = dict(s.get("solutionConfig") or {})
        schedule = (config.pop("autoTrainingConfig", None) or {}).get("schedulingExpression") or DEFAULT_SCHEDULE
        latest = s.get("latestSolutionVersion") or {}
        auto = bool(s.get("performAutoTraining"))
        rows.append({
            "name": s["name"],
            "recipe": arn_name(s.get("recipeArn")),
            "event type": s.get("eventType") or "all events",
            "configuration": _config_text(config),
            "auto-training": f"on, {schedule}" if auto else "off",
            "auto-training $/week": weekly_auto_training_cost(schedule) if auto else 0.0,
            "status": s.get("status", ""),
            "latest version": latest.get("status", "no version yet"),
            "solution_arn": s["solutionArn"],
        })
    return pd.DataFrame(rows, columns=SOLUTION_COLUMNS)


def _config_text(config: dict[str, Any]) -> str:
    parts = []
    for key, value in sorted(config.items()):
        if key == "hpoConfig" and isinstance(value, dict):
            parts.append(hpo_words(value))
        elif isinstance(value, dict):
            inner = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
            parts.append(f"{key}: {inner}" if inner else "")
        elif value not in (None, "", [], {}):
            parts.append(f"{key}={value}")
    return "; ".join(p for p in parts if p) or "defaults"


def hpo_words(hpo: dict[str, Any]) -> str:
    """An hpoConfig in a few words ("HPO: 4 trials, NDCG@25"). Its nested ranges, printed as they came,
    made one cell wide enough to push the status off a laptop screen; the versions table shows what the
    tuning chose."""
    trials = (hpo.get("hpoResourceConfig") or {}).get("maxNumberOfTrainingJobs")
    objective = (hpo.get("hpoObjective") or {}).get("metricName")
    text = "HPO: " + (f"{trials} trials" if trials else "on")
    return text + (f", {metric_name(objective)}" if objective else "")


def create_solution(
    personalize: Any, dataset_group_arn: str, name: str, recipe: str, event_type: str | None = None,
    auto_training: bool = False, schedule: str = DEFAULT_SCHEDULE,
    hyperparameters: dict[str, str] | None = None, hpo: dict[str, Any] | None = None,
) -> str:
    """CreateSolution with performAutoTraining stated explicitly (AWS's default would be on); `hpo`
    (tuning.hpo_config) turns on performHPO with that hpoConfig."""
    name = name.strip()
    if not name:
        raise ValueError("Give the solution a name.")
    config: dict[str, Any] = {}
    if auto_training:
        config["autoTrainingConfig"] = {"schedulingExpression": schedule}
    if hyperparameters:
        config["algorithmHyperParameters"] = {str(k): str(v) for k, v in hyperparameters.items()}
    if hpo:
        config["hpoConfig"] = hpo
    params: dict[str, Any] = {
        "name": name, "datasetGroupArn": dataset_group_arn, "recipeArn": recipe_arn(recipe),
        "performAutoTraining": bool(auto_training),
    }
    if hpo:
        params["performHPO"] = True
    if event_type and event_type.strip():
        params["eventType"] = event_type.strip()
    if config:
        params["solutionConfig"] = config
    return personalize.create_solution(**params)["solutionArn"]


def train(personalize: Any, solution_arn: str, mode: str = "FULL") -> str:
    """CreateSolutionVersion. UPDATE retrains on new data from the last FULL version (cheaper, faster)."""
    if mode not in TRAINING_MODES:
        raise ValueError(f"The training mode must be FULL or UPDATE, not {mode!r}.")
    created = personalize.create_solution_version(solutionArn=solution_arn, trainingMode=mode)
    return created["solutionVersionArn"]


def stop(personalize: Any, solution_version_arn: str) -> None:
    """StopSolutionVersionCreation: the version ends CREATE STOPPED (AWS bills the hours used so far)."""
    personalize.stop_solution_version_creation(solutionVersionArn=solution_version_arn)


# Human names, as on the other pages (shown as they are); the ARN columns are for the page's own use.
VERSION_COLUMNS = ["version", "status", "mode", "trigger", "created", "duration_s", "training hours",
                   "NDCG@25", "tuned", "HPO progress", "failure reason", "solution_version_arn"]
HEADLINE_METRIC = "normalized_discounted_cumulative_gain_at_25"


def versions_table(personalize: Any, solution_arn: str, now: datetime | None = None) -> pd.DataFrame:
    """Newest first: status, mode, created, duration (so far, while training), trainingHours, failure."""
    now = now or datetime.now(UTC)
    summaries = list_all(personalize, "list_solution_versions", "solutionVersions", solutionArn=solution_arn)
    summaries.sort(key=lambda v: utc(v.get("creationDateTime")) or now, reverse=True)
    rows = []
    for i, summary in enumerate(summaries):
        v = summary
        if i < VERSIONS_DESCRIBED:
            v = {**summary, **personalize.describe_solution_version(
                solutionVersionArn=summary["solutionVersionArn"])["solutionVersion"]}
        created = utc(v.get("creationDateTime"))
        ended = utc(v.get("lastUpdatedDateTime"))
        running = v.get("status") in TRAINING_STATUSES
        end = now if running or ended is None else ended
        rows.append({
            "version": arn_name(v["solutionVersionArn"]),
            "status": v.get("status", ""),
            "mode": v.get("trainingMode", ""),
            "trigger": v.get("trainingType", ""),
            "created": created,
            "duration_s": max(0.0, (end - created).total_seconds()) if created else None,
            "training hours": v.get("trainingHours"),
            "NDCG@25": _headline_metric(personalize, v) if i < VERSIONS_DESCRIBED else None,
            "tuned": tuned_text(v),
            "HPO progress": progress_text(v, now) if running and v.get("performHPO") else "",
            "failure reason": v.get("failureReason", ""),
            "solution_version_arn": v["solutionVersionArn"],
        })
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def _headline_metric(personalize: Any, version: dict[str, Any]) -> float | None:
    """NDCG@25 of an ACTIVE version (GetSolutionMetrics), so tuned values sit beside what they achieved."""
    if version.get("status") != "ACTIVE":
        return None
    try:
        metrics = personalize.get_solution_metrics(solutionVersionArn=version["solutionVersionArn"])["metrics"]
    except ClientError:  # a version without metrics (AWS computes none for some) still gets its row
        return None
    value = metrics.get(HEADLINE_METRIC)
    return None if value is None else float(value)


def is_training(versions: pd.DataFrame) -> bool:
    """Whether any version is still training (the page refreshes itself while so)."""
    return bool(len(versions)) and bool(versions["status"].isin(TRAINING_STATUSES).any())
