"""Compare's GetSolutionMetrics table, metrics as rows and one column per compared version.

Versions as rows put eight metric columns (plus solution, recipe, version and tuning) side by side, which
is wider than a 1,400 px screen: the precision columns were cut. Metrics as rows grow the table downwards
instead, and leave room for a short help beside each metric's name.
"""

from __future__ import annotations

import pandas as pd

from services.core.resources import arn_name
from services.models.metric_table import METRICS, MetricComparison, metric_name

# A few words per metric, short enough for a table cell; the page's expander holds the full text.
SHORT_HELP: dict[str, str] = {
    "normalized_discounted_cumulative_gain_at_25": "top-25 ranking (summary)",
    "normalized_discounted_cumulative_gain_at_10": "top-10 ranking",
    "normalized_discounted_cumulative_gain_at_5": "top-5 ranking",
    "mean_reciprocal_rank_at_25": "how early the first hit is",
    "precision_at_5": "top-5 share chosen later",
    "precision_at_10": "top-10 share chosen later",
    "precision_at_25": "top-25 share chosen later",
    "coverage": "share of catalogue shown",
}
METRIC, HELP = "Metric", "What it measures"


def cell(row: pd.Series) -> str:
    """'★ 0.5674 (+155%)': the value, a star when best of its kind, its change against the baseline."""
    if pd.isna(row["value"]):
        return ""
    text = f"{row['value']:.4f}"
    if row["is_best"]:
        text = f"★ {text}"
    if not row["is_baseline"] and pd.notna(row["change_vs_baseline_pct"]):
        text += f" ({row['change_vs_baseline_pct']:+.0f}%)"
    return text


def _shared_prefix(names: list[str]) -> str:
    """The part every name starts with, cut after its last '-' or '_' (a dataset group's name, usually)."""
    if len(set(names)) < 2:
        return ""
    first, last = min(names), max(names)  # the sorted extremes share what every name shares
    common = first[: next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b),
                           len(first))]
    cut = max(common.rfind("-"), common.rfind("_"))
    return common[: cut + 1] if cut > 0 else ""


def version_headers(versions: pd.DataFrame) -> dict[str, str]:
    """Column header per solution_version_arn: the solution's name without the prefix all compared
    solutions share; with the version id when a solution is compared with itself."""
    names = versions["solution"].astype(str).tolist()
    prefix = _shared_prefix(names)
    repeated = versions["solution"].duplicated(keep=False).tolist()
    headers = {}
    for (_, v), twice in zip(versions.iterrows(), repeated, strict=True):
        header = str(v["solution"])[len(prefix):] or str(v["solution"])
        if twice:
            header += f" · {arn_name(str(v['solution_version_arn']))}"
        headers[str(v["solution_version_arn"])] = header
    return headers


def _created(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return f"{stamp:%Y-%m-%d %H:%M}"


def metrics_by_version(comparison: MetricComparison, tuned: pd.Series | None = None) -> tuple[pd.DataFrame, str]:
    """The table (rows: recipe, version, created, each metric, then tuning when any version was tuned;
    columns: Metric, What it measures, one per version) and the prefix the column headers leave out ("" when
    none). `tuned` is tuning.tuned_column: indexed by version id."""
    table = comparison.table
    versions = table.drop_duplicates("solution_version_arn")[["solution", "recipe", "solution_version_arn",
                                                              "created"]]
    headers = version_headers(versions)
    columns: dict[str, list[str]] = {METRIC: ["Recipe", "Version", "Created (UTC)"],
                                     HELP: ["the algorithm", "the version's id", "when training started"]}
    for _, v in versions.iterrows():
        columns[headers[str(v["solution_version_arn"])]] = [
            str(v["recipe"]), arn_name(str(v["solution_version_arn"])), _created(v["created"])]
    metrics = [m for m in METRICS if m in set(table["metric"])]
    metrics += sorted(set(table["metric"]) - set(METRICS))
    cells = table.assign(cell=table.apply(cell, axis=1)).set_index(["metric", "solution_version_arn"])["cell"]
    for metric in metrics:
        columns[METRIC].append(metric_name(metric))
        columns[HELP].append(SHORT_HELP.get(metric, ""))
        for arn, header in headers.items():
            columns[header].append(cells.get((metric, arn), ""))
    if tuned is not None:
        columns[METRIC].append("Tuned (HPO)")
        columns[HELP].append("what tuning chose")
        for arn, header in headers.items():  # the row's name already says "tuned"
            columns[header].append(str(tuned.get(arn_name(arn), "")).removeprefix("tuned: "))
    return pd.DataFrame(columns), _shared_prefix(versions["solution"].astype(str).tolist())
