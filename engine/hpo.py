"""Hyperparameter optimisation for solutions created with `performHPO` (solutionConfig.hpoConfig).

As AWS describes it: up to `maxNumberOfTrainingJobs` trials over the declared ranges, at most
`maxParallelTrainingJobs` at a time, each scored on a hold-out, the best on `hpoObjective` kept; the
version then trains with it and reports it as `tunedHPOParams`.

Honest metrics: the version's reported metrics come from `metrics.evaluate`'s hold-out (10% of users,
seeded). Trials never see those users: they train and score on the rest of the data only, with a
hold-out of their own carved from it (the same protocol, another seed). The first trial is the solution's
own hyperparameters, so tuning can only keep or improve what the tuning hold-out measures.

Candidates are drawn at random (seeded, so a version's tuning is repeatable) from the ranges: integers
and categories uniformly, continuous ranges log-uniformly when they span two orders of magnitude or more.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .errors import InvalidInputException
from .metrics import METRIC_KEYS, evaluate, holdout_split
from .recipes.base import TrainingInput
from .recipes.registry import RecipeSpec

# What each recipe reads from algorithmHyperParameters and may therefore be tuned.
_COLLABORATIVE = ("model", "ease_lambda", "neighbors", "hidden_dimension", "als_regularization", "als_alpha",
                  "als_iterations")
_RELATED = ("neighbors", "min_cointeraction_count", "popularity_discount_factor", "shrinkage")
TUNABLE: dict[str, tuple[str, ...]] = {
    "aws-user-personalization": _COLLABORATIVE,
    "aws-user-personalization-v2": (*_COLLABORATIVE, "cold_item_rank"),
    "aws-personalized-ranking": _COLLABORATIVE,
    "aws-personalized-ranking-v2": (*_COLLABORATIVE, "cold_item_rank"),
    "aws-sims": _RELATED,
    "aws-similar-items": _RELATED,
    "aws-trending-now": ("trend_window_days",),
    "aws-popularity-count": (),
}
# Ranges used when hpoConfig declares none (AWS tunes its own defaults then).
DEFAULT_RANGES: dict[str, dict] = {
    "collaborative": {"continuousHyperParameterRanges": [{"name": "ease_lambda", "minValue": 5.0, "maxValue": 500.0}]},
    "related": {"continuousHyperParameterRanges": [
        {"name": "popularity_discount_factor", "minValue": 0.0, "maxValue": 1.0}]},
    "trending": {"continuousHyperParameterRanges": [{"name": "trend_window_days", "minValue": 1.0, "maxValue": 30.0}]},
}
# AWS does not document a default objective; NDCG@25 is the metric its console and the dashboard lead with.
DEFAULT_OBJECTIVE = "normalized_discounted_cumulative_gain_at_25"
DEFAULT_TRIALS = 8
MAX_TRIALS = 40
TUNING_SEED_OFFSET = 1  # the trials' hold-out: another seed than the reported metrics' one
Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Plan:
    objective: str
    maximize: bool
    trials: int
    parallel: int
    ranges: dict


def _count(value: object, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidInputException(f"hpoResourceConfig.{name} must be a whole number; got {value!r}.") from exc
    if not 1 <= number <= MAX_TRIALS:
        raise InvalidInputException(f"hpoResourceConfig.{name} must be between 1 and {MAX_TRIALS}; got {number}.")
    return number


def default_ranges(recipe: str) -> dict:
    """The ranges tuned when hpoConfig declares none (what DescribeAlgorithm reports as defaults)."""
    if recipe in ("aws-sims", "aws-similar-items"):
        return DEFAULT_RANGES["related"]
    if recipe == "aws-trending-now":
        return DEFAULT_RANGES["trending"]
    return DEFAULT_RANGES["collaborative"] if TUNABLE.get(recipe) else {}


def plan(recipe: str, config: dict | None) -> Plan:
    """The tuning a solution asks for, checked (CreateSolution refuses what cannot run)."""
    hpo = (config or {}).get("hpoConfig") or {}
    objective = hpo.get("hpoObjective") or {}
    metric = objective.get("metricName") or DEFAULT_OBJECTIVE
    if metric not in METRIC_KEYS:
        raise InvalidInputException(
            f"hpoObjective.metricName {metric!r} is not a solution metric; use one of {', '.join(METRIC_KEYS)}."
        )
    kind = objective.get("type") or "Maximize"
    if kind not in ("Maximize", "Minimize"):
        raise InvalidInputException("hpoObjective.type must be Maximize or Minimize.")
    resources = hpo.get("hpoResourceConfig") or {}
    trials = _count(resources.get("maxNumberOfTrainingJobs"), "maxNumberOfTrainingJobs", DEFAULT_TRIALS)
    parallel = _count(resources.get("maxParallelTrainingJobs"), "maxParallelTrainingJobs", 1)
    ranges = hpo.get("algorithmHyperParameterRanges") or default_ranges(recipe)
    tunable = TUNABLE.get(recipe, ())
    for group in ("integerHyperParameterRanges", "continuousHyperParameterRanges", "categoricalHyperParameterRanges"):
        for entry in ranges.get(group) or []:
            name = entry.get("name")
            if name not in tunable:
                raise InvalidInputException(
                    f"The hyperparameter {name!r} cannot be tuned for {recipe}; tunable: "
                    f"{', '.join(tunable) or 'none'}."
                )
            if group != "categoricalHyperParameterRanges" and entry.get("minValue", 0) > entry.get("maxValue", 0):
                raise InvalidInputException(f"The range of {name} has minValue above maxValue.")
            if group == "categoricalHyperParameterRanges" and not entry.get("values"):
                raise InvalidInputException(f"The categorical range of {name} lists no values.")
    return Plan(metric, kind == "Maximize", trials, parallel, ranges)


def _draw(ranges: dict, rng: np.random.Generator) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in ranges.get("integerHyperParameterRanges") or []:
        out[entry["name"]] = str(int(rng.integers(int(entry["minValue"]), int(entry["maxValue"]) + 1)))
    for entry in ranges.get("continuousHyperParameterRanges") or []:
        low, high = float(entry["minValue"]), float(entry["maxValue"])
        if low > 0 and high / low >= 100:
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        out[entry["name"]] = f"{value:.6g}"
    for entry in ranges.get("categoricalHyperParameterRanges") or []:
        out[entry["name"]] = str(entry["values"][int(rng.integers(len(entry["values"])))])
    return out


def tune(spec: RecipeSpec, data: TrainingInput, the_plan: Plan, seed: int,
         progress: Progress | None = None) -> dict[str, str]:
    """The best hyperparameters found (the solution's own ones with the tuned values over them)."""
    if not the_plan.ranges:
        return dict(data.params)
    tuning_data, _, _, _ = holdout_split(data, seed)  # without the reported metrics' hold-out users
    rng = np.random.default_rng(seed)
    candidates = [dict(data.params)]
    candidates += [{**data.params, **_draw(the_plan.ranges, rng)} for _ in range(the_plan.trials - 1)]
    done = [0]

    def trial(params: dict[str, str]) -> float:
        trial_input = dataclasses.replace(tuning_data, params=params)
        score = evaluate(spec, trial_input, seed=seed + TUNING_SEED_OFFSET)[the_plan.objective]
        done[0] += 1
        if progress is not None:
            progress(done[0], len(candidates))
        return score

    # Two cores shared with the dashboard: more parallel trials than that only slow each other down.
    with ThreadPoolExecutor(min(the_plan.parallel, 2), thread_name_prefix="hpo") as pool:
        scores = list(pool.map(trial, candidates))
    pick = int(np.argmax(scores) if the_plan.maximize else np.argmin(scores))  # ties: the earliest trial
    return candidates[pick]
