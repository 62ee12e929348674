"""Recommenders: the domain dataset groups' use cases (ECOMMERCE, VIDEO_ON_DEMAND), each trained as a real
model from the recipes the engine has, with AWS's lifecycle:

- CREATE PENDING > CREATE IN_PROGRESS > ACTIVE (or CREATE FAILED with a failureReason);
- STOP PENDING > STOP IN_PROGRESS > INACTIVE > START PENDING > START IN_PROGRESS > ACTIVE;
- DELETE PENDING > DELETE IN_PROGRESS, then gone (`deletion.py`);
- UpdateRecommender reported in `latestRecommenderUpdate` while the recommender stays ACTIVE.

A recommender is served by the campaigns' serving path (`serving.py`): its record stands where a
campaign's would, its configuration is `recommenderConfig` instead of `campaignConfig`.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import training
from ..datastore import DatasetFiles, EventLog
from ..errors import InvalidInputException, ResourceInUseException
from ..recipes.registry import RECIPES, USER_PERSONALIZATION
from ..runtime import ModelCache
from ..store import Record
from .campaigns import EXPLORATION_DEFAULT, check_exploration
from .datasets import dataset_of
from .deletion import STEP_SECONDS, Deletions, deleting
from .jobs import RESTART_REASON, STOPPED_REASON, JobPool
from .ledger import PENDING, Ledger, check_name, group_id
from .recipes import DOMAIN_RECIPES, PREFIX
from .records import ResourceRecord, now
from .serving_cache import ServingCache

log = logging.getLogger("personalize-engine")

STOPPING = ("STOP PENDING", "STOP IN_PROGRESS")
STARTING = ("START PENDING", "START IN_PROGRESS")
MODELS_FOLDER = "recommenders"  # apart from models/, whose files belong to solution versions
SEED = 0


@dataclass(frozen=True)
class UseCase:
    """What trains a use case: one of the engine's recipes, on the interactions of one event type (matched
    without regard to case: shops write `purchase` as often as AWS's `Purchase`) or on all of them."""

    recipe: str
    event_type: str | None


# AWS's documented event types per use case: ECOMMERCE counts `View` and `Purchase`, VIDEO_ON_DEMAND `Watch`.
USE_CASES: dict[str, UseCase] = {
    "aws-ecomm-recommended-for-you": UseCase("aws-user-personalization", None),
    "aws-ecomm-customers-who-viewed-x-also-viewed": UseCase("aws-sims", "View"),
    "aws-ecomm-frequently-bought-together": UseCase("aws-sims", "Purchase"),
    "aws-ecomm-popular-items-by-purchases": UseCase("aws-popularity-count", "Purchase"),
    "aws-ecomm-popular-items-by-views": UseCase("aws-popularity-count", "View"),
    "aws-vod-top-picks": UseCase("aws-user-personalization", None),
    "aws-vod-because-you-watched-x": UseCase("aws-sims", "Watch"),
    "aws-vod-more-like-x": UseCase("aws-similar-items", None),
    "aws-vod-most-popular": UseCase("aws-popularity-count", "Watch"),
    "aws-vod-trending-now": UseCase("aws-trending-now", None),
}


@dataclass(kw_only=True)
class RecommenderRecord(ResourceRecord):
    name: str
    recommender_arn: str
    dataset_group_arn: str
    recipe_arn: str
    recommender_config: dict


def model_path(ledger: Ledger, recommender: Record) -> Path:
    """Where the recommender's current model lives; each training writes a new file, so a model cache keyed
    by path never serves a replaced model."""
    return ledger.data_dir / MODELS_FOLDER / str(recommender["_model"])


def checked_config(config: dict | None, recipe_type: str) -> dict:
    """The recommenderConfig as AWS stores it: checked, with AWS's defaults for what was left out."""
    config = dict(config or {})
    rate = config.setdefault("minRecommendationRequestsPerSecond", 1)
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        raise InvalidInputException("minRecommendationRequestsPerSecond must be a whole number of at least 1.")
    explore = config.get("itemExplorationConfig")
    if explore and recipe_type != USER_PERSONALIZATION:
        raise InvalidInputException("itemExplorationConfig applies only to the personalised use cases "
                                    "(aws-ecomm-recommended-for-you, aws-vod-top-picks).")
    check_exploration(explore)
    config.setdefault("enableMetadataWithRecommendations", False)
    if recipe_type == USER_PERSONALIZATION:
        config.setdefault("itemExplorationConfig", dict(EXPLORATION_DEFAULT))
    return config


def use_case_of(recipe_arn: str) -> tuple[str, str, UseCase]:
    """The use case's name, domain and training; a custom recipe or an unknown name is refused."""
    name = recipe_arn[len(PREFIX):] if recipe_arn.startswith(PREFIX) else ""
    if name not in USE_CASES:
        raise InvalidInputException(
            f"{recipe_arn} is not a domain use case. A recommender takes one of ListRecipes(domain=...)'s "
            "recipes, e.g. arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you; custom recipes "
            "train solutions."
        )
    return name, DOMAIN_RECIPES[name][0], USE_CASES[name]


def select_event_type(frame: pd.DataFrame, use_case: str, event_type: str | None) -> pd.DataFrame:
    if event_type is None:
        return frame
    if "EVENT_TYPE" not in frame.columns:
        raise training.TrainingFailure(
            f"{use_case} counts {event_type} events, and the Interactions dataset has no EVENT_TYPE column."
        )
    types = frame["EVENT_TYPE"].astype(str)
    selected = frame[types.str.lower() == event_type.lower()]
    if selected.empty:
        present = ", ".join(sorted(pd.unique(types))[:10]) or "none"
        raise training.TrainingFailure(
            f"{use_case} counts {event_type} events; the interactions have none (their event types: {present})."
        )
    return selected


class Recommenders:
    def __init__(
        self, ledger: Ledger, light: JobPool, train: JobPool, steps: JobPool, files: DatasetFiles, events: EventLog,
        models: ModelCache, cache: ServingCache, deletions: Deletions,
    ) -> None:
        self._ledger = ledger
        self._light = light
        self._train = train
        self._steps = steps  # its jobs sleep: they must not hold up the light pool
        self._files = files
        self._events = events
        self._models = models
        self._cache = cache
        self._deletions = deletions
        deletions.register("recommender", self._finish_delete)
        self._recover()

    # -- the API ------------------------------------------------------------------------------
    def create(
        self, name: str, dataset_group_arn: str, recipe_arn: str, recommender_config: dict | None = None,
        tags: list | None = None, **_: object,
    ) -> str:
        check_name(name, "recommender")
        group = self._ledger.get(dataset_group_arn, "dataset-group")
        if deleting(group):
            raise ResourceInUseException(f"The dataset group is {group['status']}.")
        use_case, domain, _ = use_case_of(recipe_arn)
        if not group.get("domain"):
            raise InvalidInputException(
                "Recommenders serve Domain dataset groups (CreateDatasetGroup with domain ECOMMERCE or "
                "VIDEO_ON_DEMAND); this group has no domain: train a solution and deploy a campaign instead."
            )
        if group["domain"] != domain:
            raise InvalidInputException(
                f"{use_case} is a {domain} use case; this dataset group's domain is {group['domain']}."
            )
        config = checked_config(recommender_config, DOMAIN_RECIPES[use_case][1])
        arn = self._ledger.arn("recommender", name)
        record = RecommenderRecord(name=name, recommender_arn=arn, dataset_group_arn=dataset_group_arn,
                                   recipe_arn=recipe_arn, recommender_config=config)
        self._ledger.new("recommender", arn, record, tags)
        self._train.submit(self._create, arn)
        return arn

    def list(self, dataset_group_arn: str | None = None) -> list[Record]:
        if dataset_group_arn:
            self._ledger.get(dataset_group_arn, "dataset-group")
        return self._ledger.children("recommender", dataset_group_arn)

    def update(self, recommender_arn: str, recommender_config: dict) -> str:
        """Changes the configuration; a change of trainingDataConfig trains the model again (AWS
        retrains then too), the rest takes effect without training."""
        rec = self._ledger.get(recommender_arn, "recommender")
        if rec["status"] != "ACTIVE":
            raise ResourceInUseException(f"The recommender is {rec['status']}; it must be ACTIVE to update.")
        if (rec.get("latestRecommenderUpdate") or {}).get("status") in PENDING:
            raise ResourceInUseException("An update of this recommender is already in progress; wait for it.")
        merged = {**rec["recommenderConfig"], **(recommender_config or {})}
        config = checked_config(merged, DOMAIN_RECIPES[use_case_of(rec["recipeArn"])[0]][1])
        retrain = config.get("trainingDataConfig") != rec["recommenderConfig"].get("trainingDataConfig")
        started = now()

        def mutate(r: Record) -> None:
            r["latestRecommenderUpdate"] = {"recommenderConfig": config, "status": "CREATE PENDING",
                                            "creationDateTime": started, "lastUpdatedDateTime": started}

        self._ledger.store.update(recommender_arn, mutate)
        (self._train if retrain else self._light).submit(self._apply_update, recommender_arn)
        return recommender_arn

    def stop(self, recommender_arn: str) -> str:
        """While INACTIVE a recommender serves nothing and bills nothing (AWS's reason to stop one)."""
        self._move(recommender_arn, "ACTIVE", "STOP PENDING")
        self._steps.submit(lambda arn: self._walk(arn, "STOP IN_PROGRESS", "INACTIVE"), recommender_arn)
        return recommender_arn

    def start(self, recommender_arn: str) -> str:
        self._move(recommender_arn, "INACTIVE", "START PENDING")
        self._steps.submit(lambda arn: self._walk(arn, "START IN_PROGRESS", "ACTIVE"), recommender_arn)
        return recommender_arn

    def delete(self, recommender_arn: str) -> None:
        def check(rec: Record) -> None:
            if rec["status"] in PENDING:
                raise ResourceInUseException(f"The recommender is {rec['status']}; wait until it is ACTIVE "
                                             "or CREATE FAILED, then delete it.")

        # From DELETE PENDING on the recommender no longer serves: the serving path answers only ACTIVE ones.
        self._deletions.start(recommender_arn, "recommender", check)

    # -- lifecycle steps ----------------------------------------------------------------------
    def _move(self, arn: str, expected: str, status: str) -> None:
        store = self._ledger.store
        with store.lock:  # check and mark as one step: two stops never both start
            rec = self._ledger.get(arn, "recommender")
            if rec["status"] != expected:
                raise ResourceInUseException(
                    f"The recommender is {rec['status']}; it must be {expected} for this."
                )
            self._ledger.set_status(arn, status)

    def _walk(self, arn: str, *statuses: str) -> None:
        """Each state held briefly, as deletes are: cleanup and ops scripts poll Describe on them."""
        for status in statuses:
            time.sleep(STEP_SECONDS)
            if self._ledger.stopping.is_set():
                return  # the next start's recovery finishes the walk
            self._ledger.set_status(arn, status)

    def _create(self, arn: str) -> None:
        ledger = self._ledger
        rec = ledger.store.get(arn)
        if rec is None:
            return
        ledger.set_status(arn, "CREATE IN_PROGRESS")
        try:
            model_file, metrics = self._fit(rec, rec["recommenderConfig"])
        except training.TrainingFailure as exc:
            ledger.set_status(arn, "CREATE FAILED", str(exc))
            return
        except Exception as exc:
            log.error("training the recommender %s failed:\n%s", arn, traceback.format_exc())
            ledger.set_status(arn, "CREATE FAILED", f"Training failed unexpectedly: {type(exc).__name__}: {exc}")
            return
        with ledger.store.lock:
            if ledger.stopping.is_set() or ledger.store.peek(arn) is None:
                (ledger.data_dir / MODELS_FOLDER / model_file).unlink(missing_ok=True)
                if not ledger.store.closed and ledger.store.peek(arn) is not None:
                    ledger.set_status(arn, "CREATE FAILED", STOPPED_REASON)
                return
            ledger.set_status(arn, "ACTIVE", _model=model_file, modelMetrics=metrics)

    def _apply_update(self, arn: str) -> None:
        store = self._ledger.store
        rec = store.get(arn)
        if rec is None:
            return
        self._update_step(arn, "CREATE IN_PROGRESS")
        config = rec["latestRecommenderUpdate"]["recommenderConfig"]
        model_file, metrics = rec.get("_model"), rec.get("modelMetrics")
        if config.get("trainingDataConfig") != rec["recommenderConfig"].get("trainingDataConfig"):
            try:
                model_file, metrics = self._fit(rec, config)
            except Exception as exc:  # the recommender keeps serving its current model
                reason = str(exc) if isinstance(exc, training.TrainingFailure) else \
                    f"Training failed unexpectedly: {type(exc).__name__}: {exc}"
                self._update_step(arn, "CREATE FAILED", reason)
                return
        old = rec.get("_model")
        self._update_step(arn, "ACTIVE", swap={"recommenderConfig": config, "_model": model_file,
                                               "modelMetrics": metrics})
        if old and old != model_file:
            self._drop_model(old)

    def _update_step(self, arn: str, status: str, reason: str | None = None, swap: dict | None = None) -> None:
        def mutate(rec: Record) -> None:
            update = rec["latestRecommenderUpdate"]
            update.update(status=status, lastUpdatedDateTime=now())
            if reason:
                update["failureReason"] = reason
            if swap:  # served from this write on
                rec.update(swap)
                rec["lastUpdatedDateTime"] = update["lastUpdatedDateTime"]

        self._ledger.store.update(arn, mutate)

    def _fit(self, rec: Record, config: dict) -> tuple[str, dict[str, float]]:
        """Train the use case's model on the group's data now; its file name and offline metrics."""
        from ..metrics import evaluate  # the offline protocol AWS documents, as for solution versions

        use_case, _, case = use_case_of(rec["recipeArn"])
        spec = RECIPES[case.recipe]
        group_arn = rec["datasetGroupArn"]
        dataset = dataset_of(self._ledger.store, group_arn, "INTERACTIONS")
        if dataset is None:
            raise training.TrainingFailure(
                "The dataset group has no Interactions dataset; create one and import interactions first."
            )
        frame = training.interactions_frame(
            self._files.read(dataset["_id"]), self._events.frame(group_id(group_arn), "events")
        )
        selected = select_event_type(frame, use_case, case.event_type)
        what = "the dataset group" + (f" ({case.event_type} events)" if case.event_type else "")
        items = self._cache.items_frame(group_arn)
        excluded = ((config.get("trainingDataConfig") or {}).get("excludedDatasetColumns") or {}).get("ITEMS") or []
        items = items.drop(columns=[c for c in excluded if c in items.columns and c != "ITEM_ID"])
        data = training.build_input(selected, items, {}, SEED)
        training.check_minimum(data.interactions, what)
        bundle = training.train(spec, data, "FULL", None, case.event_type)
        bundle.typed_history = training.typed_histories(frame, bundle.user_ids, bundle.item_ids)
        metrics = {k: float(v) for k, v in evaluate(spec, data, seed=SEED).items()}
        model_file = f"{rec['name']}-{uuid.uuid4().hex[:8]}.pkl"
        bundle.save(self._ledger.data_dir / MODELS_FOLDER / model_file)
        return model_file, metrics

    def _drop_model(self, model_file: str) -> None:
        path = self._ledger.data_dir / MODELS_FOLDER / model_file
        self._models.drop(path)
        path.unlink(missing_ok=True)

    def _finish_delete(self, rec: Record) -> None:
        self._cache.forget_campaign(rec["recommenderArn"])
        if rec.get("_model"):
            self._drop_model(rec["_model"])

    def _recover(self) -> None:
        """After a restart: stops and starts finish (they cannot fail), an update cut short failed (the
        recommender keeps serving what it served), and model files no recommender uses are removed.
        Creations cut short were already failed by `jobs.recover`."""
        store = self._ledger.store
        for rec in store.list("recommender"):
            arn = rec["recommenderArn"]
            if rec["status"] in STOPPING:
                self._ledger.set_status(arn, "INACTIVE")
            elif rec["status"] in STARTING:
                self._ledger.set_status(arn, "ACTIVE")
            if (rec.get("latestRecommenderUpdate") or {}).get("status") in PENDING:
                self._update_step(arn, "CREATE FAILED", RESTART_REASON)
        folder = self._ledger.data_dir / MODELS_FOLDER
        if folder.is_dir():
            kept = {r.get("_model") for r in store.list("recommender")}
            for path in folder.iterdir():
                if path.is_file() and path.name not in kept:
                    path.unlink(missing_ok=True)
