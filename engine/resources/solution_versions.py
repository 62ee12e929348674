"""Solution versions: training in the background (stoppable), offline metrics, and the model files."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from .. import hpo, training
from ..datastore import DatasetFiles, EventLog
from ..errors import InvalidInputException, ResourceInUseException
from ..recipes.registry import recipe_for_arn
from ..store import Record
from .datasets import dataset_of
from .jobs import STOPPED_REASON, JobPool
from .ledger import PENDING, Ledger, check_name, group_id
from .records import SolutionVersionRecord
from .serving_cache import ServingCache

log = logging.getLogger("personalize-engine")
TRAINING_MODES = ("FULL", "UPDATE", "AUTOTRAIN")


class SolutionVersions:
    def __init__(
        self, ledger: Ledger, pool: JobPool, files: DatasetFiles, events: EventLog, cache: ServingCache,
        create_lock: threading.Lock, on_active: Callable[[str, str], None],
    ) -> None:
        self._ledger = ledger
        self._pool = pool
        self._files = files
        self._events = events
        self._cache = cache
        self._create_lock = create_lock
        self._on_active = on_active  # (solution ARN, new ACTIVE version ARN): campaigns that follow it
        self._stop_requests: set[str] = set()

    def create(
        self, solution_arn: str, training_mode: str | None = None, name: str | None = None,
        tags: list | None = None, **_: object,
    ) -> str:
        ledger = self._ledger
        solution = ledger.get(solution_arn, "solution")
        # AWS's own samples call CreateSolutionVersion straight after CreateSolution, without waiting: a
        # solution still being created is accepted (the engine's creation of a solution cannot fail).
        if solution["status"] != "ACTIVE" and solution["status"] not in PENDING:
            raise ResourceInUseException(f"The solution is {solution['status']}; it must be ACTIVE.")
        mode = training_mode or "FULL"
        if mode not in TRAINING_MODES:
            raise InvalidInputException("trainingMode must be FULL or UPDATE.")
        if name is not None:
            check_name(name, "solution version")
        with self._create_lock:
            versions = ledger.children("solution-version", solution_arn)
            running = [v for v in versions if v["status"] in PENDING or v["status"] == "CREATE STOPPING"]
            if running:
                raise ResourceInUseException(
                    f"A version of this solution is already training ({running[0]['solutionVersionArn']}); "
                    "wait for it or stop it."
                )
            if mode == "UPDATE" and not any(v["status"] == "ACTIVE" for v in versions):
                raise InvalidInputException(
                    "trainingMode UPDATE needs an ACTIVE version trained with FULL first."
                )
            arn = f"{solution_arn}/{uuid.uuid4().hex[:8]}"
            ledger.new("solution-version", arn, _version_record(arn, solution, mode, name), tags)
        self._pool.submit(self._run, arn)
        return arn

    def stop(self, solution_version_arn: str) -> None:
        version = self._ledger.get(solution_version_arn, "solution-version")
        if version["status"] not in PENDING:
            raise InvalidInputException(
                f"Only a version in training can be stopped; this one is {version['status']}."
            )
        store = self._ledger.store
        with store.lock:  # against the training's own final write (see _run)
            if (store.get(solution_version_arn) or {}).get("status") not in PENDING:
                raise InvalidInputException("The version finished training before the stop arrived.")
            self._stop_requests.add(solution_version_arn)
            self._ledger.set_status(solution_version_arn, "CREATE STOPPING")

    def metrics(self, solution_version_arn: str) -> dict[str, float]:
        version = self._ledger.get(solution_version_arn, "solution-version")
        if version["status"] != "ACTIVE":
            raise ResourceInUseException(
                f"Metrics exist once the version is ACTIVE; it is {version['status']}."
            )
        return dict(version.get("_metrics") or {})

    # -- the training job ---------------------------------------------------------------------
    def _stopped(self, arn: str) -> bool:
        if arn in self._stop_requests:
            self._stop_requests.discard(arn)
            self._ledger.set_status(arn, "CREATE STOPPED")
            return True
        return False

    def _interrupted(self, arn: str) -> bool:
        """The engine is stopping: the version ends CREATE FAILED and keeps no model (checked under the
        store's lock with the final write, so nothing is written once the store has closed)."""
        if not self._ledger.stopping.is_set():
            return False
        with self._ledger.store.lock:
            if not self._ledger.store.closed:
                self._ledger.set_status(arn, "CREATE FAILED", STOPPED_REASON)
        return True

    def _run(self, arn: str) -> None:
        ledger = self._ledger
        version = ledger.store.get(arn)
        if version is None or self._stopped(arn):
            return
        ledger.set_status(arn, "CREATE IN_PROGRESS")
        started = time.time()
        try:
            bundle, metrics, tuned = self._train(version)
            if self._stopped(arn) or self._interrupted(arn):
                return
            bundle.save(ledger.model_path(arn))
        except training.TrainingFailure as exc:
            ledger.set_status(arn, "CREATE FAILED", str(exc))
            return
        except Exception as exc:
            log.error("training %s failed:\n%s", arn, traceback.format_exc())
            ledger.set_status(arn, "CREATE FAILED", f"Training failed unexpectedly: {type(exc).__name__}: {exc}")
            return
        hours = (time.time() - started) / 3600.0
        with ledger.store.lock:  # a stop that arrived while saving wins: it was acknowledged as STOPPING
            if self._stopped(arn) or self._interrupted(arn):
                ledger.model_path(arn).unlink(missing_ok=True)
                return
            extra = {"tunedHPOParams": {"algorithmHyperParameters": tuned}} if tuned is not None else {}
            ledger.set_status(arn, "ACTIVE", trainingHours=round(hours, 6), _metrics=metrics, **extra)
        self._on_active(version["solutionArn"], arn)

    def _train(self, version: Record) -> tuple[training.ModelBundle, dict[str, float], dict[str, str] | None]:
        """The trained bundle, its offline metrics and, with performHPO, the tuned hyperparameters."""
        spec = recipe_for_arn(version["recipeArn"])
        if spec is None:
            raise training.TrainingFailure(f"The recipe {version['recipeArn']} is not available.")
        group_arn = version["datasetGroupArn"]
        dataset = dataset_of(self._ledger.store, group_arn, "INTERACTIONS")
        if dataset is None:
            raise training.TrainingFailure(
                "The dataset group has no Interactions dataset; create one and import interactions."
            )
        frame = training.interactions_frame(
            self._files.read(dataset["_id"]), self._events.frame(group_id(group_arn), "events")
        )
        config = version.get("solutionConfig") or {}
        selected = training.select_events(frame, version.get("eventType"), config.get("eventValueThreshold"))
        what = "the dataset group"
        if version.get("eventType"):
            what += f" (events of type {version['eventType']!r})"
        previous = self._previous_bundle(version)
        seed = int(config.get("algorithmHyperParameters", {}).get("seed", 0) or 0)
        data = training.build_input(
            selected, self._cache.items_frame(group_arn), training.hyperparameters(version), seed, previous
        )
        training.check_minimum(data.interactions, what)
        tuned = None
        if version.get("performHPO") and version["trainingMode"] == "FULL":
            tuned = hpo.tune(spec, data, hpo.plan(spec.name, config), seed)
            data = dataclasses.replace(data, params=tuned)
        if version["trainingMode"] == "FULL":
            # The offline protocol AWS documents, and the model to serve (which reuses the choice the
            # metrics' model made on the training users alone).
            bundle, metrics = training.train_measured(spec, data, seed, version.get("eventType"))
        else:
            metrics = dict(self._latest_metrics(version["solutionArn"])) if previous is not None else {}
            bundle = training.train(spec, data, version["trainingMode"], previous, version.get("eventType"))
        bundle.typed_history = training.typed_histories(frame, bundle.user_ids, bundle.item_ids)
        return bundle, metrics, tuned

    def _previous_bundle(self, version: Record) -> training.ModelBundle | None:
        """For trainingMode UPDATE: the newest ACTIVE version's model, which the update starts from."""
        if version["trainingMode"] != "UPDATE":
            return None
        active = [v for v in self._ledger.children("solution-version", version["solutionArn"])
                  if v["status"] == "ACTIVE"]
        if not active:
            return None
        return training.ModelBundle.load(self._ledger.model_path(active[0]["solutionVersionArn"]))

    def _latest_metrics(self, solution_arn: str) -> dict[str, float]:
        for v in self._ledger.children("solution-version", solution_arn):
            if v["status"] == "ACTIVE" and v.get("_metrics"):
                return v["_metrics"]
        return {}


def _version_record(arn: str, solution: Record, mode: str, name: str | None) -> SolutionVersionRecord:
    """A new version inherits its solution's recipe and configuration, as on AWS."""
    return SolutionVersionRecord(
        solution_version_arn=arn, solution_arn=solution["solutionArn"],
        perform_hpo=solution.get("performHPO", False),
        perform_incremental_update=solution.get("performIncrementalUpdate", False),
        recipe_arn=solution["recipeArn"], dataset_group_arn=solution["datasetGroupArn"],
        solution_config=solution.get("solutionConfig", {}), training_mode=mode, name=name or None,
        event_type=solution.get("eventType") or None,
    )
