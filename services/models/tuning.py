"""Hyperparameter optimisation (performHPO) in words: what a recipe lets you tune, the hpoConfig a form
asks for, what a tuned version reports, and what can honestly be said while tuning runs.

Each HPO trial is a full training, billed as one: `maxNumberOfTrainingJobs` trials cost roughly that many
times the training hours of one version, plus the final training on the winner. AWS reports no progress
inside a tuning job (no trial counter, no percentage), so the page shows only the status, the time
elapsed and the number of trials asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from services.core.resources import arn_name, utc
from services.models.metric_table import METRICS

MAX_TRIALS = 40  # the embedded engine's limit; small numbers keep the bill small anyway
DEFAULT_TRIALS = 4
OBJECTIVES = tuple(METRICS)  # GetSolutionMetrics keys the tuning can maximise
RUNNING = ("CREATE PENDING", "CREATE IN_PROGRESS", "CREATE STOPPING")  # as solutions.TRAINING_STATUSES


@dataclass(frozen=True)
class TunableRange:
    """One hyperparameter a recipe reads and lets HPO search, with the range allowed here."""

    name: str
    kind: str  # "integer" or "continuous"
    low: float
    high: float
    what: str  # plain words, including whether AWS itself accepts the name


_HIDDEN = TunableRange("hidden_dimension", "integer", 32, 256,
                       "Size of the learned user and item representations (AWS's name; on the embedded "
                       "engine it sizes the ALS model, which the automatic model choice may not pick).")
_EASE = TunableRange("ease_lambda", "continuous", 5.0, 500.0,
                     "Regularisation of the embedded engine's item-to-item model: higher smooths towards "
                     "popular items. The engine's own name: AWS refuses it.")
_DISCOUNT = TunableRange("popularity_discount_factor", "continuous", 0.0, 1.0,
                         "How much popular items are discounted: 0 ranks raw co-occurrence (popular items "
                         "first), 1 favours rarer pairs (AWS's name).")
_COCOUNT = TunableRange("min_cointeraction_count", "integer", 0, 10,
                        "Fewest users two items must share before they count as related (AWS's name).")
_WINDOW = TunableRange("trend_window_days", "continuous", 1.0, 30.0,
                       "Days of recent interactions a trend is measured over. The embedded engine's name: "
                       "AWS's Trending-Now has no tunable hyperparameters.")
# What the engine's hpo.TUNABLE accepts, restricted to what a form can explain; recipes absent here
# (aws-popularity-count) have nothing to tune.
TUNABLE: dict[str, tuple[TunableRange, ...]] = {
    "aws-user-personalization": (_EASE, _HIDDEN),
    "aws-user-personalization-v2": (_EASE, _HIDDEN),
    "aws-personalized-ranking": (_EASE, _HIDDEN),
    "aws-personalized-ranking-v2": (_EASE, _HIDDEN),
    "aws-sims": (_DISCOUNT, _COCOUNT),
    "aws-similar-items": (_DISCOUNT, _COCOUNT),
    "aws-trending-now": (_WINDOW,),
}


def tunable(recipe: str) -> tuple[TunableRange, ...]:
    return TUNABLE.get(arn_name(recipe), ())


def cost_text(trials: int | None = None) -> str:
    """The bill of a tuning, in words (each trial is a training); without `trials`, per trial asked for."""
    many = "the number of trials asked for" if trials is None else f"{trials}"
    times = "that number plus one" if trials is None else f"{trials + 1}"
    return (f"Each trial is a full training, billed as one: up to {many} trial trainings plus the final "
            f"training on the winner, so roughly {times} times the training hours of one version. "
            "Tuning runs on FULL trainings only; UPDATE trainings keep the tuned values.")


def hpo_config(recipe: str, objective: str, trials: int, parallel: int,
               ranges: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """The solutionConfig.hpoConfig for these choices; ValueError in words for what cannot run."""
    allowed = {r.name: r for r in tunable(recipe)}
    if not allowed:
        raise ValueError(f"{arn_name(recipe)} has no hyperparameters to tune.")
    if objective not in METRICS:
        raise ValueError(f"The objective must be one of the solution metrics, not {objective!r}.")
    if not 1 <= int(trials) <= MAX_TRIALS:
        raise ValueError(f"The number of trials must be between 1 and {MAX_TRIALS}; got {trials}.")
    if not 1 <= int(parallel) <= int(trials):
        raise ValueError(f"Trials at a time must be between 1 and the number of trials ({trials}); got {parallel}.")
    if not ranges:
        raise ValueError("Choose at least one hyperparameter to tune.")
    integer, continuous = [], []
    for name, (low, high) in ranges.items():
        spec = allowed.get(name)
        if spec is None:
            raise ValueError(f"{name} cannot be tuned for {arn_name(recipe)}; tunable: {', '.join(allowed)}.")
        if not spec.low <= low <= high <= spec.high:
            raise ValueError(f"The range of {name} must lie within {spec.low:g} to {spec.high:g} with its "
                             f"minimum not above its maximum; got {low:g} to {high:g}.")
        if spec.kind == "integer":
            integer.append({"name": name, "minValue": int(low), "maxValue": int(high)})
        else:
            continuous.append({"name": name, "minValue": float(low), "maxValue": float(high)})
    declared: dict[str, Any] = {}
    if integer:
        declared["integerHyperParameterRanges"] = integer
    if continuous:
        declared["continuousHyperParameterRanges"] = continuous
    return {
        "hpoObjective": {"type": "Maximize", "metricName": objective},
        "hpoResourceConfig": {"maxNumberOfTrainingJobs": str(int(trials)),
                              "maxParallelTrainingJobs": str(int(parallel))},
        "algorithmHyperParameterRanges": declared,
    }


def tuned_text(version: dict[str, Any]) -> str:
    """tunedHPOParams in words: '' without HPO, the values when tuning changed them, else the own setting."""
    if not version.get("performHPO"):
        return ""
    if version.get("tunedHPOParams") is None:
        if version.get("status") in RUNNING:
            return "tuning…"
        return "not tuned (HPO runs on FULL trainings only)" if version.get("trainingMode") == "UPDATE" \
            else "not tuned (the training did not finish)"
    tuned = (version.get("tunedHPOParams") or {}).get("algorithmHyperParameters") or {}
    if not tuned:
        return "tuned: the solution's own setting won"
    return "tuned: " + ", ".join(f"{k} = {v}" for k, v in sorted(tuned.items()))


def _trials(config: dict[str, Any]) -> str:
    resources = ((config.get("hpoConfig") or {}).get("hpoResourceConfig") or {})
    return str(resources.get("maxNumberOfTrainingJobs") or "the default number of")


def progress_text(version: dict[str, Any], now: datetime | None = None) -> str:
    """What is known while a version tunes: status, time elapsed, trials asked for. No percentage: AWS
    reports none, and a guess would mislead."""
    now = now or datetime.now(UTC)
    started = utc(version.get("creationDateTime"))
    elapsed = "" if started is None else f", running for {_minutes(max(0.0, (now - started).total_seconds()))}"
    return (f"{arn_name(version['solutionVersionArn'])} is tuning ({version.get('status', '')}{elapsed}): "
            f"{_trials(version.get('solutionConfig') or {})} trials asked for, each a full training, then a "
            "final training on the best. AWS reports no progress within a tuning, so none is shown.")


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def tuned_values(personalize: Any, version_arns: list[str]) -> pd.DataFrame:
    """For Compare: each version's tuning in words (DescribeSolutionVersion), '' for versions without HPO."""
    rows = []
    for arn in version_arns:
        v = personalize.describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
        rows.append({"version": arn_name(arn), "tuned_hyperparameters": tuned_text(v) or "no HPO"})
    return pd.DataFrame(rows, columns=["version", "tuned_hyperparameters"])


def tuned_column(personalize: Any, version_arns: list[str]) -> pd.Series | None:
    """Compare's "tuned (HPO)" column indexed by version id; None when no version was tuned (no column)."""
    table = tuned_values(personalize, version_arns)
    if not (table["tuned_hyperparameters"] != "no HPO").any():
        return None
    return table.set_index("version")["tuned_hyperparameters"].rename("tuned (HPO)")
