"""Recipe comparison: what Personalize reports (GetSolutionMetrics) for chosen solution versions, and,
on the embedded engine, metrics this dashboard computes itself, kept apart.

The dashboard's own protocol ("forward hold-out"), chosen because it never leaks and never writes
into the dataset group:
- truth: interactions imported (through files this dashboard staged) after the newest compared
  version was created, so none of the compared versions trained on them;
- users: those truth users the versions already know (they appear in earlier staged imports), a
  seeded sample of at most `max_users`; truth items a user already had are dropped, since
  recommendations exclude items a user has seen;
- top-K: one batch inference job per version on exactly those users (related-items recipes are given
  each user's newest earlier item), so every version answers the same questions;
- metrics: services.models.ranking_metrics (recall@K, hit rate@K, novelty, personalization, catalog coverage)
  with popularity counted on the earlier interactions;
- noise: services.models.noise, a seeded bootstrap over those users: a 90% interval per value of the
  metrics that are a mean over users, and a paired interval of the leader's lead.
Personalize's own numbers use a different hold-out (10% of users, their newest 10% of events): the two
sets are not comparable with each other, only within themselves.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.core.resources import active_versions as versions_of
from services.core.resources import arn_name, solutions_of, utc, when_utc
from services.core.waiting import wait_until
from services.data.import_files import group_imports, newest_staged
from services.data.staging import staging_dir
from services.models import noise
from services.models.data_freshness import training_data
from services.models.metric_table import MetricComparison, compare, tidy_metrics
from services.models.ranking_metrics import OFFLINE_METRICS, PER_USER_METRICS, compute, per_user

RELATED_RECIPES = ("aws-sims", "aws-similar-items")
# Personalize's answer holds one number per metric, not the per-user values behind it: no interval can be
# drawn from it, so the page says where the noise is measured instead of quoting a spread from elsewhere.
NOISE_NOTE = ("Personalize reports one number per metric, not the per-user values behind it, so this page cannot "
              "say how much of a difference here is noise. The dashboard's own metrics below are measured per "
              f"user: each value carries a {noise.LEVEL:.0%} bootstrap interval over those users, and a lead is "
              "called within noise when the interval of the difference includes 0.")
EVAL_ROLE_ARN = "arn:aws:iam::000000000000:role/PersonalizeDemo"  # the engine ignores roles
OWN_LABEL = "computed by this dashboard"


def active_versions(personalize: Any, dataset_group_arn: str) -> pd.DataFrame:
    """Every ACTIVE version in the group: solution, recipe, solution_version_arn, created, newest flag."""
    rows = []
    for s in solutions_of(personalize, dataset_group_arn):
        recipe = s.recipe_arn or personalize.describe_solution(solutionArn=s.arn)["solution"].get("recipeArn", "")
        rows.extend({"solution": s.name, "recipe": arn_name(recipe), "solution_version_arn": v.arn,
                     "created": v.created} for v in versions_of(personalize, s.arn))
    frame = pd.DataFrame(rows, columns=["solution", "recipe", "solution_version_arn", "created"])
    frame = frame.sort_values(["solution", "created"], ascending=[True, False], kind="stable")
    frame["newest"] = ~frame.duplicated("solution")
    return frame.reset_index(drop=True)


def version_label(row: pd.Series | dict) -> str:
    """'solution · version id (created, UTC)'; AWS's List answer may leave the time out."""
    created = row["created"]
    when = when_utc(None if created is None or pd.isna(created) else pd.Timestamp(created).to_pydatetime())
    return f"{row['solution']} · {arn_name(str(row['solution_version_arn']))} ({when})"


def reported_metrics(personalize: Any, versions: pd.DataFrame) -> pd.DataFrame:
    """GetSolutionMetrics for each version, tidy (metric_comparison.tidy_metrics)."""
    rows = []
    for _, v in versions.iterrows():
        metrics = personalize.get_solution_metrics(solutionVersionArn=v["solution_version_arn"])["metrics"]
        rows.append({"solution_name": v["solution"], "recipe_name": v["recipe"],
                     "solution_version_arn": v["solution_version_arn"], "created": v["created"],
                     "metrics": metrics})
    return tidy_metrics(rows)


def data_difference(personalize: Any, dataset_group_arn: str, versions: pd.DataFrame) -> str | None:
    """A warning when the versions were trained on different interactions, naming what each saw and
    when it was created; None when they all saw the same imports (metrics then compare like with like)."""
    if len(versions) < 2:
        return None
    imports = group_imports(personalize, dataset_group_arn, "INTERACTIONS")
    seen = {}
    for _, v in versions.iterrows():
        created = utc(v["created"]) if v["created"] is not None and not pd.isna(v["created"]) else None
        if created is not None:
            seen[str(v["solution_version_arn"])] = (v, created, training_data(imports, created))
    if len({data.imports for _, _, data in seen.values()}) < 2:
        return None
    parts = [f"{v['solution']} · {arn_name(arn)} (created {created:%Y-%m-%d %H:%M} UTC) saw {data.words()}"
             for arn, (v, created, data) in seen.items()]
    return ("These versions were trained on different data, so their metrics come from different hold-outs "
            "and do not compare like with like: " + "; ".join(parts) + ". Retrain them on the same data "
            "(or compare the versions trained together) before choosing.")


def comparison(personalize: Any, versions: pd.DataFrame) -> MetricComparison:
    """Best per metric marked, % change against the popularity-count baseline."""
    return compare(reported_metrics(personalize, versions))


# -- the dashboard's own metrics (embedded engine only) ----------------------------------------------
@dataclass
class OwnMetrics:
    table: pd.DataFrame  # solution, recipe, solution_version_arn, metric, metric_name, value, low, high
    users: int = 0
    truth_events: int = 0
    cutoff: datetime | None = None
    k: int = 25
    notes: list[str] = field(default_factory=list)
    # solution_version_arn -> per-user values (rows: the same users, in the same order, for every version)
    per_user: dict[str, pd.DataFrame] = field(default_factory=dict)
    seed: int = 0

    @property
    def available(self) -> bool:
        return not self.table.empty


@dataclass(frozen=True)
class _Imports:
    seen: pd.DataFrame  # interactions of staged imports finished before the cutoff
    truth: pd.DataFrame  # interactions of staged imports finished after it


def _staged_interactions(personalize: Any, dataset_group_arn: str, cutoff: datetime) -> _Imports | None:
    seen, truth = [], []
    for imported in group_imports(personalize, dataset_group_arn, "INTERACTIONS"):
        if imported.path is None:
            continue
        frame = pd.read_csv(imported.path, usecols=lambda c: c in ("USER_ID", "ITEM_ID", "TIMESTAMP"),
                            dtype={"USER_ID": str, "ITEM_ID": str})
        (truth if imported.finished > cutoff else seen).append(frame)
    if not seen:
        return None
    empty = pd.DataFrame(columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])
    return _Imports(pd.concat(seen, ignore_index=True), pd.concat(truth, ignore_index=True) if truth else empty)


def _catalogue_size(personalize: Any, dataset_group_arn: str) -> int | None:
    """Items in the newest Items file this dashboard staged (recommendations may include items nobody
    interacted with yet, so the interactions alone undercount the catalogue)."""
    path = newest_staged(personalize, dataset_group_arn, "ITEMS")
    return None if path is None else int(pd.read_csv(path, usecols=["ITEM_ID"], dtype=str)["ITEM_ID"].nunique())


def holdout_missing(personalize: Any, dataset_group_arn: str, versions: pd.DataFrame) -> str | None:
    """Why the dashboard's own metrics cannot be computed yet, and what to do (None: they can). Cheap:
    reads the import jobs only, so the page can say it before anyone presses the button."""
    if versions.empty:
        return "Choose solution versions to compare."
    cutoff = max(utc(c) for c in versions["created"])
    staged = [f for f in group_imports(personalize, dataset_group_arn, "INTERACTIONS") if f.path is not None]
    if not staged:
        return ("Nothing to measure against yet: these metrics need interactions files imported from this "
                "dashboard's **Data** page. Import the shop's events there, train, then import newer events.")
    if not any(f.finished > cutoff for f in staged):
        return (f"Nothing to measure against yet: the newest compared version was created "
                f"{cutoff:%Y-%m-%d %H:%M} UTC and no interactions were imported after it. Import newer events "
                "on the **Data** page (INCREMENTAL) and come back: the versions are then scored on what users "
                "did next, which none of them has seen. Or choose older versions above.")
    return None


def own_metrics(
    personalize: Any, dataset_group_arn: str, versions: pd.DataFrame, k: int = 25, max_users: int = 300,
    seed: int = 0, timeout: float = 600,
) -> OwnMetrics:
    """The forward hold-out described in the module docstring. Runs batch inference jobs (local files)."""
    empty = pd.DataFrame(columns=["solution", "recipe", "solution_version_arn", "metric", "metric_name", "value",
                                  "low", "high"])
    if versions.empty:
        return OwnMetrics(empty, notes=["Choose solution versions to compare."])
    cutoff = max(utc(c) for c in versions["created"])
    imports = _staged_interactions(personalize, dataset_group_arn, cutoff)
    if imports is None:
        return OwnMetrics(empty, cutoff=cutoff, k=k, notes=[
            "No interactions file staged by this dashboard was found for this dataset group, so there is "
            "nothing to hold out."])
    known = set(imports.seen["USER_ID"])
    truth = imports.truth[imports.truth["USER_ID"].isin(known)]
    seen_pairs = set(zip(imports.seen["USER_ID"], imports.seen["ITEM_ID"], strict=True))
    truth = truth[[(u, i) not in seen_pairs for u, i in zip(truth["USER_ID"], truth["ITEM_ID"], strict=True)]]
    if truth.empty:
        return OwnMetrics(empty, cutoff=cutoff, k=k, notes=[
            f"No interactions were imported after {cutoff:%Y-%m-%d %H:%M} UTC (when the newest compared "
            "version was created) for users the versions know, so every compared version has already "
            "trained on all the data. Import newer interactions, or compare older versions, to measure "
            "how well they predict what came next."])
    users = np.array(sorted(truth["USER_ID"].unique()), dtype=object)
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    truth = truth[truth["USER_ID"].isin(set(users))]
    truth_sets = truth.groupby("USER_ID")["ITEM_ID"].agg(set).to_dict()
    ordered = imports.seen.sort_values("TIMESTAMP", kind="stable")
    newest_item = ordered.groupby("USER_ID")["ITEM_ID"].last().to_dict()
    popularity = imports.seen["ITEM_ID"].value_counts()
    catalogue = _catalogue_size(personalize, dataset_group_arn) or \
        len(set(imports.seen["ITEM_ID"]) | set(imports.truth["ITEM_ID"]))

    rows, per_user_values = [], {}
    for _, v in versions.iterrows():
        related = v["recipe"] in RELATED_RECIPES
        arn = v["solution_version_arn"]
        topk = _batch_topk(personalize, arn, users, newest_item if related else None, k, timeout)
        values = compute(topk, truth_sets, popularity, catalogue, k)
        per_user_values[arn] = per_user(topk, truth_sets, popularity, catalogue, k).reindex(users)
        for metric, (label, _desc) in OFFLINE_METRICS.items():
            # The same seed for every version: the same users are drawn for each (a paired bootstrap).
            interval = (noise.bootstrap_mean(per_user_values[arn][metric].to_numpy(float), seed)
                        if metric in PER_USER_METRICS else None)
            rows.append({"solution": v["solution"], "recipe": v["recipe"], "solution_version_arn": arn,
                         "metric": metric, "metric_name": label.replace("@K", f"@{k}"), "value": values[metric],
                         "low": interval.low if interval else np.nan, "high": interval.high if interval else np.nan})
    return OwnMetrics(pd.DataFrame(rows), users=len(users), truth_events=len(truth), cutoff=cutoff, k=k,
                      per_user=per_user_values, seed=seed)


def _batch_topk(
    personalize: Any, version_arn: str, users: Iterable[str], newest_item: dict[str, str] | None, k: int,
    timeout: float,
) -> dict[str, list[str]]:
    """One batch inference job: users in, their top-k out (a related-items version gets their newest item)."""
    users = list(users)
    job_id = f"{version_arn.rsplit('/', 1)[-1]}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:4]}"
    folder = staging_dir() / "evaluation" / job_id
    folder.mkdir(parents=True, exist_ok=True)
    queries = [({"itemId": newest_item[u]} if newest_item is not None else {"userId": u}) for u in users]
    src = folder / "input.jsonl"
    src.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    out_dir = folder / "output"
    out_dir.mkdir(exist_ok=True)
    arn = personalize.create_batch_inference_job(
        jobName=f"dashboard-eval-{job_id}"[:63], solutionVersionArn=version_arn, numResults=k,
        jobInput={"s3DataSource": {"path": src.resolve().as_uri()}},
        jobOutput={"s3DataDestination": {"path": out_dir.resolve().as_uri() + "/"}}, roleArn=EVAL_ROLE_ARN,
    )["batchInferenceJobArn"]
    wait_until(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"],
               "the evaluation batch job", timeout=timeout)
    return _read_batch_output(out_dir / f"{src.name}.out", users)


def _read_batch_output(path: Path, users: list[str]) -> dict[str, list[str]]:
    """Output lines follow the input lines; a line with an error counts as an empty list."""
    out: dict[str, list[str]] = {}
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for user, line in zip(users, lines, strict=False):
        out[user] = list((line.get("output") or {}).get("recommendedItems") or [])
    for user in users[len(lines):]:
        out[user] = []
    return out


def own_cells(own: OwnMetrics) -> pd.DataFrame:
    """Solution and recipe as rows, metric names as columns, each cell 'value (low–high)' (the interval
    only where the metric is a mean over users)."""
    table = own.table.assign(cell=[
        noise.Interval(r.value, r.low, r.high, own.users).cell() for r in own.table.itertuples()])
    order = list(dict.fromkeys(table["metric_name"]))
    wide = table.pivot_table(index=["solution", "recipe"], columns="metric_name", values="cell", aggfunc="first")
    return wide[order].reset_index()


def winner_by_metric(own: OwnMetrics, metric: str = "recall_at_k") -> str:
    """Plain words for the dashboard's own numbers: who leads, with its interval, by how much over
    popularity-count, and whether the lead over the runner-up is beyond noise (services.models.noise)."""
    rows = own.table[own.table["metric"] == metric].dropna(subset=["value"])
    if rows.empty:
        return ""
    rows = rows.sort_values("value", ascending=False, kind="stable")
    top = rows.iloc[0]
    twice = rows["recipe"].duplicated(keep=False)
    names = {r.solution_version_arn: f"{r.recipe} ({r.solution})" if dup else r.recipe
             for r, dup in zip(rows.itertuples(), twice, strict=True)}
    shown = noise.Interval(float(top["value"]), float(top["low"]), float(top["high"]), own.users)
    text = f"{names[top['solution_version_arn']]} leads on {top['metric_name']}: {shown.words()}"
    base = rows[rows["recipe"] == "aws-popularity-count"]
    if not base.empty and top["recipe"] != "aws-popularity-count":
        b = float(base["value"].max())
        text += f", {(top['value'] - b) / b * 100:+.0f}% over popularity-count" if b > 0 else \
            f" (popularity-count scores {b:.3f})"
    values = {names[arn]: own.per_user[arn][metric].to_numpy(float) for arn in rows["solution_version_arn"]
              if arn in own.per_user}
    ahead = noise.lead(values, own.seed) if len(values) == len(rows) else None
    if ahead is not None:
        text += f"; {ahead.words()}"
    return text + (f" ({OWN_LABEL}, {own.users} users; {noise.LEVEL:.0%} bootstrap intervals over them, "
                   f"{noise.RESAMPLES:,} resamples, seed {own.seed}).")
