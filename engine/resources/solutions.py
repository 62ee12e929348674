"""Solutions: a recipe and its configuration on a dataset group (training lives in solution_versions)."""

from __future__ import annotations

import re

from .. import hpo
from ..errors import InvalidInputException, ResourceInUseException
from ..recipes.registry import recipe_for_arn
from ..runtime import ModelCache
from ..store import Record
from .deletion import Deletions, deleting
from .jobs import JobPool
from .ledger import PENDING, Ledger, check_name
from .recipes import is_domain_recipe
from .records import SolutionRecord, now

# What DescribeSolution shows of the newest version.
VERSION_SUMMARY = ("solutionVersionArn", "status", "trainingMode", "trainingType", "creationDateTime",
                   "lastUpdatedDateTime", "failureReason")


# AWS takes auto-training schedules only in whole days, 1 to 30 (botocore's pattern, the API's range).
_SCHEDULE = re.compile(r"rate\((\d+) days?\)")


def _check_schedule(auto_training: object) -> None:
    if not auto_training:
        return
    schedule = auto_training.get("schedulingExpression") if isinstance(auto_training, dict) else None
    if schedule is None:
        return
    match = _SCHEDULE.fullmatch(schedule) if isinstance(schedule, str) else None
    if match is None or not 1 <= int(match.group(1)) <= 30:
        raise InvalidInputException(
            f"schedulingExpression {schedule!r} is not valid: use rate(N days) with N from 1 to 30, "
            "e.g. rate(7 days).")


def _check_config(config: dict) -> None:
    _check_schedule(config.get("autoTrainingConfig"))
    threshold = config.get("eventValueThreshold")
    if threshold not in (None, ""):
        try:
            float(threshold)
        except ValueError as exc:
            raise InvalidInputException("eventValueThreshold must be a number.") from exc


class Solutions:
    def __init__(self, ledger: Ledger, light: JobPool, models: ModelCache, deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._models = models
        self._deletions = deletions
        deletions.register("solution", self._finish_delete)

    def create(
        self, name: str, dataset_group_arn: str, recipe_arn: str | None = None, event_type: str | None = None,
        solution_config: dict | None = None, perform_hpo: bool = False, perform_auto_ml: bool = False,
        perform_auto_training: bool | None = None, perform_incremental_update: bool | None = None,
        tags: list | None = None, **_: object,
    ) -> str:
        check_name(name, "solution")
        self._ledger.get(dataset_group_arn, "dataset-group")
        if perform_auto_ml:
            raise InvalidInputException("performAutoML is not supported; choose a recipeArn.")
        if not recipe_arn:
            raise InvalidInputException("recipeArn is required.")
        if is_domain_recipe(recipe_arn):
            raise InvalidInputException(
                f"{recipe_arn} is a domain use case: it serves recommenders, not solutions. Choose a custom "
                "recipe (ListRecipes without a domain), e.g. arn:aws:personalize:::recipe/aws-user-personalization."
            )
        if recipe_for_arn(recipe_arn) is None:
            raise InvalidInputException(
                f"Unknown recipe {recipe_arn}. Use ListRecipes; e.g. arn:aws:personalize:::recipe/"
                "aws-user-personalization."
            )
        config = dict(solution_config or {})
        _check_config(config)
        if perform_hpo:
            hpo.plan(recipe_arn.rsplit("/", 1)[-1], config)  # refuses what could not run
        auto = True if perform_auto_training is None else bool(perform_auto_training)  # AWS's default
        if auto:
            config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
        arn = self._ledger.arn("solution", name)
        record = SolutionRecord(
            name=name, solution_arn=arn, perform_hpo=bool(perform_hpo), perform_auto_training=auto,
            perform_incremental_update=bool(perform_incremental_update), recipe_arn=recipe_arn,
            dataset_group_arn=dataset_group_arn, solution_config=config, event_type=event_type or None,
        )
        self._ledger.new("solution", arn, record, tags)
        self._light.submit(self._ledger.activate, arn)
        return arn

    def update(
        self, solution_arn: str, perform_auto_training: bool | None = None,
        perform_incremental_update: bool | None = None, solution_update_config: dict | None = None,
    ) -> str:
        solution = self._ledger.get(solution_arn, "solution")
        _check_schedule((solution_update_config or {}).get("autoTrainingConfig"))
        if solution["status"] != "ACTIVE":
            raise ResourceInUseException("The solution is not ACTIVE yet.")
        updated = now()

        def mutate(rec: Record) -> None:
            summary: Record = {"status": "ACTIVE", "creationDateTime": updated, "lastUpdatedDateTime": updated}
            if perform_auto_training is not None:
                rec["performAutoTraining"] = bool(perform_auto_training)
                summary["performAutoTraining"] = bool(perform_auto_training)
            if perform_incremental_update is not None:
                rec["performIncrementalUpdate"] = bool(perform_incremental_update)
                summary["performIncrementalUpdate"] = bool(perform_incremental_update)
            if solution_update_config:
                auto = solution_update_config.get("autoTrainingConfig")
                if auto:
                    rec.setdefault("solutionConfig", {})["autoTrainingConfig"] = auto
                summary["solutionUpdateConfig"] = solution_update_config
            rec["latestSolutionUpdate"] = summary

        self._ledger.store.update(solution_arn, mutate)
        return solution_arn

    def delete(self, solution_arn: str) -> None:
        ledger = self._ledger

        def check(_: Record) -> None:
            campaigns = ledger.children("campaign", solution_arn)
            if campaigns:
                being = " (it is still being deleted: wait until it is gone)" if deleting(campaigns[0]) else ""
                raise ResourceInUseException(f"A campaign uses this solution{being}; delete the campaign first.")
            versions = ledger.children("solution-version", solution_arn)
            if any(v["status"] in PENDING for v in versions):
                raise ResourceInUseException("A version of this solution is still training; stop it or wait.")

        self._deletions.start(solution_arn, "solution", check)

    def _finish_delete(self, solution: Record) -> None:
        ledger = self._ledger
        for v in ledger.children("solution-version", solution["solutionArn"]):
            ledger.store.delete(v["solutionVersionArn"])
            path = ledger.model_path(v["solutionVersionArn"])
            self._models.drop(path)
            path.unlink(missing_ok=True)

    def describe(self, solution_arn: str) -> Record:
        rec = self._ledger.get(solution_arn, "solution")
        versions = self._ledger.children("solution-version", solution_arn)
        if versions:
            rec["latestSolutionVersion"] = {k: versions[0][k] for k in VERSION_SUMMARY if k in versions[0]}
        return rec
