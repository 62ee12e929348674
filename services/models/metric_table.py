"""Compare solution-version metrics (GetSolutionMetrics) across recipes, against popularity.

AWS's advice for reading these numbers is relative: a recipe is worth its cost by how much it beats
aws-popularity-count trained on the same data, so every value carries its change against that baseline.
GetSolutionMetrics holds no per-user values, so nothing here can say how much of a lead is noise; the
dashboard's own metrics (services.models.comparison, services.models.noise) carry intervals and do.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from services.core.resources import arn_name

POPULARITY_RECIPE = "aws-popularity-count"
# Recipes answer different questions; their metrics are ranked only against recipes of the same kind.
USER_KIND, RELATED_KIND, RANKING_KIND = "users", "related items", "ranking"
RELATED_RECIPES = frozenset({"aws-sims", "aws-similar-items", "aws-semantic-similarity"})
RANKING_RECIPES = frozenset({"aws-personalized-ranking", "aws-personalized-ranking-v2"})
KIND_WORDS = {
    USER_KIND: "user recipes (a list for a user)",
    RELATED_KIND: "item-to-item recipes (items like a given item)",
    RANKING_KIND: "ranking recipes (a given list reordered for a user)",
}


def recipe_kind(recipe: str) -> str:
    name = arn_name(recipe)
    return RELATED_KIND if name in RELATED_RECIPES else RANKING_KIND if name in RANKING_RECIPES else USER_KIND


@dataclass(frozen=True)
class MetricInfo:
    name: str  # short display name
    description: str  # plain words; every metric here is "higher is better"
    higher_is_better: bool = True


# In the order the page shows them.
METRICS: dict[str, MetricInfo] = {
    "normalized_discounted_cumulative_gain_at_25": MetricInfo(
        "NDCG@25",
        "How high the items users really chose later sit in their top 25, weighting the top ranks more. "
        "The best single summary. 0 to 1, higher is better.",
    ),
    "normalized_discounted_cumulative_gain_at_10": MetricInfo(
        "NDCG@10", "As NDCG@25, for the top 10 only. 0 to 1, higher is better."
    ),
    "normalized_discounted_cumulative_gain_at_5": MetricInfo(
        "NDCG@5", "As NDCG@25, for the top 5 only (what fits a phone screen). 0 to 1, higher is better."
    ),
    "mean_reciprocal_rank_at_25": MetricInfo(
        "MRR@25",
        "How early the first relevant item appears: 1 if first, 1/2 if second, and so on, averaged over "
        "users. Matters when users look at one item. 0 to 1, higher is better.",
    ),
    "precision_at_5": MetricInfo(
        "Precision@5", "Share of the top 5 that users really chose later. 0 to 1, higher is better."
    ),
    "precision_at_10": MetricInfo(
        "Precision@10", "Share of the top 10 that users really chose later. 0 to 1, higher is better."
    ),
    "precision_at_25": MetricInfo(
        "Precision@25", "Share of the top 25 that users really chose later. 0 to 1, higher is better."
    ),
    "coverage": MetricInfo(
        "Coverage",
        "Share of the catalogue's items that the model recommends at all. Higher means fewer items are "
        "never shown. 0 to 1, higher is better.",
    ),
}
DEFAULT_METRIC = "normalized_discounted_cumulative_gain_at_25"

TIDY_COLUMNS = [
    "solution", "recipe", "solution_version_arn", "created", "metric", "metric_name", "value",
    "is_best", "is_baseline", "baseline_value", "change_vs_baseline_pct", "kind",
]


def metric_name(metric: str) -> str:
    info = METRICS.get(metric)
    return info.name if info else metric


def _field(row: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    raise KeyError(f"row lacks {names[0]!r}")


def _utc(value: datetime | str) -> pd.Timestamp:
    # boto3 gives tz-aware datetimes, stored records may hold naive ones: mixing them cannot be sorted.
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def tidy_metrics(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (solution version, metric): solution, recipe, solution_version_arn, created, metric,
    metric_name, value. Input rows carry solution_name, recipe_name (name or ARN), solution_version_arn,
    created (datetime or ISO text) and metrics (the dict GetSolutionMetrics returns under "metrics")."""
    records = []
    for row in rows:
        metrics: Mapping[str, float] = _field(row, "metrics")
        base = {
            "solution": _field(row, "solution_name", "solution"),
            "recipe": arn_name(str(_field(row, "recipe_name", "recipe", "recipe_arn"))),
            "solution_version_arn": _field(row, "solution_version_arn", "solutionVersionArn"),
            "created": _utc(_field(row, "created", "creation_date_time", "creationDateTime")),
        }
        known = [m for m in METRICS if m in metrics]
        extra = sorted(m for m in metrics if m not in METRICS)
        records += [{**base, "metric": m, "value": float(metrics[m])} for m in known + extra]
    frame = pd.DataFrame(records, columns=["solution", "recipe", "solution_version_arn", "created",
                                           "metric", "value"])
    frame.insert(5, "metric_name", frame["metric"].map(metric_name))
    return frame


@dataclass(frozen=True)
class MetricComparison:
    table: pd.DataFrame  # TIDY_COLUMNS
    baseline_arn: str | None
    baseline_note: str  # why this baseline, or that there is none

    def wide(self) -> pd.DataFrame:
        """Versions as rows, metric display names as columns (values only), best first by DEFAULT_METRIC."""
        if self.table.empty:
            return pd.DataFrame()
        wide = self.table.pivot_table(
            index=["solution", "recipe", "solution_version_arn", "created"], columns="metric",
            values="value", aggfunc="first", sort=False,
        )
        order = [m for m in METRICS if m in wide.columns] + [m for m in wide.columns if m not in METRICS]
        wide = wide[order]
        if DEFAULT_METRIC in wide.columns:
            wide = wide.sort_values(DEFAULT_METRIC, ascending=False, kind="stable")
        wide.columns = [metric_name(m) for m in wide.columns]
        return wide.reset_index()

    def to_csv(self) -> bytes:
        return to_csv_bytes(self.table)


def choose_baseline(table: pd.DataFrame, baseline_arn: str | None = None) -> tuple[str | None, str]:
    """The popularity-count version to compare against: the one given, else the newest. With a note."""
    if baseline_arn is not None:
        if not (table["solution_version_arn"] == baseline_arn).any():
            raise ValueError(f"baseline {baseline_arn} is not among the compared versions")
        recipe = table.loc[table["solution_version_arn"] == baseline_arn, "recipe"].iloc[0]
        return baseline_arn, f"Baseline: the chosen version {baseline_arn} ({recipe})."
    popular = table[table["recipe"] == POPULARITY_RECIPE]
    if popular.empty:
        return None, (
            f"No {POPULARITY_RECIPE} version among these, so no change against the baseline is shown. "
            f"Train a solution with {POPULARITY_RECIPE} on the same dataset group to get the floor every "
            "recipe must clear."
        )
    newest = popular.sort_values("created", kind="stable").iloc[-1]
    return str(newest["solution_version_arn"]), (
        f"Baseline: the newest {POPULARITY_RECIPE} version ({newest['solution']}, "
        f"{newest['created']:%Y-%m-%d %H:%M})."
    )


def compare(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, baseline_arn: str | None = None
            ) -> MetricComparison:
    """Tidy table with the best value per metric marked and each value's % change vs the baseline.

    Change = (value - baseline) / baseline * 100; undefined (NaN) when the baseline value is 0, unless
    the value is 0 too (then 0). Ties for best are all marked.
    """
    table = rows.copy() if isinstance(rows, pd.DataFrame) else tidy_metrics(rows)
    if table.empty:
        return MetricComparison(pd.DataFrame(columns=TIDY_COLUMNS), None, "No solution versions chosen.")
    base_arn, note = choose_baseline(table, baseline_arn)
    table["kind"] = table["recipe"].map(recipe_kind)
    best = table.groupby(["metric", "kind"])["value"].transform("max")
    table["is_best"] = np.isclose(table["value"], best, rtol=0, atol=1e-12) & table["value"].notna()
    table["is_baseline"] = table["solution_version_arn"] == base_arn
    if base_arn is None:
        table["baseline_value"] = np.nan
    else:
        base_values = table[table["is_baseline"]].groupby("metric")["value"].first()
        table["baseline_value"] = table["metric"].map(base_values)
    value, base = table["value"].to_numpy(float), table["baseline_value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (value - base) / base * 100.0
    change[(base == 0) & (value == 0)] = 0.0
    change[(base == 0) & (value != 0)] = np.nan
    # Popularity recommends for users: a change against it means nothing for another kind of recipe.
    change[(table["kind"] != USER_KIND).to_numpy()] = np.nan
    table["change_vs_baseline_pct"] = change
    return MetricComparison(table[TIDY_COLUMNS].reset_index(drop=True), base_arn, note)


def winner_summaries(comparison: MetricComparison, metric: str = DEFAULT_METRIC) -> list[str]:
    """One sentence per kind of recipe present, user recipes first: kinds are never ranked together."""
    table = comparison.table
    kinds = set(table["kind"]) if "kind" in table.columns else {USER_KIND}
    return [winner_summary(comparison, metric, kind) for kind in KIND_WORDS if kind in kinds]


def winner_summary(comparison: MetricComparison, metric: str = DEFAULT_METRIC, kind: str = USER_KIND) -> str:
    """Plain words: which recipe of `kind` wins on `metric`, and (user recipes) by how much over
    popularity-count.

    e.g. "aws-user-personalization leads on NDCG@25: 0.214, +85% over popularity-count".
    """
    table = comparison.table
    rows = table[(table["metric"] == metric) & table["value"].notna() & (table["kind"] == kind)]
    label = metric_name(metric)
    if rows.empty:
        return f"No {KIND_WORDS[kind].split(' (')[0].removesuffix('s')} version reports {label}."
    if kind != USER_KIND:
        return _other_kind_summary(rows, label, kind)
    rows = rows.sort_values(["value", "created"], ascending=[False, False], kind="stable")
    top = rows.iloc[0]
    who = top["recipe"] if rows["recipe"].eq(top["recipe"]).sum() == 1 else (
        f"{top['recipe']} ({top['solution']})"
    )
    text = f"{who} leads on {label}: {top['value']:.3f}"
    if comparison.baseline_arn is None:
        text += f" (no {POPULARITY_RECIPE} version to compare with)"
    elif top["is_baseline"]:
        text += f" — no recipe beats the {POPULARITY_RECIPE} baseline"
    elif np.isnan(top["change_vs_baseline_pct"]):
        text += f", popularity-count scores {top['baseline_value']:.3f}"
    else:
        text += f", {top['change_vs_baseline_pct']:+.0f}% over popularity-count"
    # No "within noise" here: one number per version gives no interval, and a fixed margin would be a
    # guess. The page points to the dashboard's own metrics, which are measured per user.
    return text + "."


def _other_kind_summary(rows: pd.DataFrame, label: str, kind: str) -> str:
    rows = rows.sort_values(["value", "created"], ascending=[False, False], kind="stable")
    top = rows.iloc[0]
    apart = (f"Ranked apart from user recipes and {POPULARITY_RECIPE}: {KIND_WORDS[kind]} answer another "
             "question.")
    if len(rows) == 1:
        return f"{top['recipe']} ({top['solution']}) scores {label} {top['value']:.3f}. {apart}"
    return (f"Among {KIND_WORDS[kind]}, {top['recipe']} ({top['solution']}) leads on {label}: "
            f"{top['value']:.3f}. {apart}")


def metric_history(comparison_or_rows: MetricComparison | pd.DataFrame | Iterable[Mapping[str, Any]],
                   solution: str) -> pd.DataFrame:
    """One solution's metrics across its versions, oldest first: created, version, metric, value."""
    if isinstance(comparison_or_rows, MetricComparison):
        table = comparison_or_rows.table
    elif isinstance(comparison_or_rows, pd.DataFrame):
        table = comparison_or_rows
    else:
        table = tidy_metrics(comparison_or_rows)
    history = table[table["solution"] == solution]
    columns = ["created", "solution_version_arn", "recipe", "metric", "metric_name", "value"]
    order = {m: i for i, m in enumerate(METRICS)}
    rank = history["metric"].map(order).fillna(len(order))
    history = history.assign(_rank=rank).sort_values(["created", "_rank", "metric"], kind="stable")
    return history[columns].reset_index(drop=True)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a table, ISO timestamps, for st.download_button."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    return buffer.getvalue().encode("utf-8")
