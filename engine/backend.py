"""The engine's domain behind one facade: the resource families of `engine.resources`, wired together
over one store, one serving cache and three job pools.

Protocol-free (as moto keeps models apart from responses): the protocol layer (`responses.py`) calls
the families' methods with Python parameters and turns their records into AWS answers.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import runtime
from .datastore import DatasetFiles, EventLog
from .locations import DEFAULT_MAX_FILE_BYTES, Locations
from .resources.batch_jobs import BatchInferenceJobs
from .resources.campaigns import Campaigns
from .resources.dataset_groups import DatasetGroups, Schemas
from .resources.dataset_jobs import DatasetExportJobs, DatasetImportJobs
from .resources.datasets import Datasets, load_items
from .resources.deletion import Deletions
from .resources.filters import Filters
from .resources.jobs import JobPool, recover
from .resources.ledger import Ledger, paginate
from .resources.metric_attributions import MetricAttributions, ShownLists
from .resources.recipes import describe_algorithm, describe_recipe, recipes
from .resources.recommenders import Recommenders
from .resources.serving import Serving
from .resources.serving_cache import ServingCache
from .resources.solution_versions import SolutionVersions
from .resources.solutions import Solutions
from .resources.tags import Tags
from .resources.trackers import EventTrackers
from .store import Record, ResourceStore


class Backend:
    paginate = staticmethod(paginate)
    recipes = staticmethod(recipes)
    describe_recipe = staticmethod(describe_recipe)
    describe_algorithm = staticmethod(describe_algorithm)

    def __init__(self, data_dir: Path, region: str = "us-east-1", file_roots: Sequence[str | Path] = (),
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        """`file_roots`: the folders `file://` locations may resolve into (none: no local files at all)."""
        self.data_dir = Path(data_dir)
        self.locations = locations = Locations(file_roots, max_file_bytes)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = ResourceStore(self.data_dir / "resources.sqlite3")
        self.ledger = ledger = Ledger(self.store, self.data_dir, region)
        files, events, models = DatasetFiles(self.data_dir), EventLog(self.data_dir), runtime.ModelCache()
        self._pools = light, imports, train, steps = (
            JobPool(ledger, 4, "light"), JobPool(ledger, 2, "import"), JobPool(ledger, 1, "train"),
            JobPool(ledger, 1, "steps"),  # lifecycles that pause so pollers see them (recommender stop/start)
        )
        cache = ServingCache(self.store.lock, functools.partial(load_items, self.store, files, events))
        create_lock = threading.Lock()  # check-then-create of jobs that must not run twice at once
        recover(ledger)
        self.deletions = deletions = Deletions(ledger)
        self.dataset_groups = DatasetGroups(ledger, light, events, cache, deletions)
        self.schemas = Schemas(ledger)
        self.datasets = Datasets(ledger, light, files, cache, deletions)
        self.import_jobs = DatasetImportJobs(ledger, imports, files, cache, create_lock, locations)
        self.export_jobs = DatasetExportJobs(ledger, imports, files, events, locations)
        self.solutions = Solutions(ledger, light, models, deletions)
        self.campaigns = Campaigns(ledger, light, models, cache, deletions)
        self.solution_versions = SolutionVersions(
            ledger, train, files, events, cache, create_lock, on_active=self.campaigns.follow_latest
        )
        self.recommenders = Recommenders(ledger, light, train, steps, files, events, models, cache, deletions)
        self.trackers = EventTrackers(ledger, light, events, cache, deletions)
        self.filters = Filters(ledger, light, deletions)
        self.serving = Serving(ledger, models, events, self.filters, cache)
        self.batch_jobs = BatchInferenceJobs(ledger, imports, models, self.serving, locations)
        self.tags = Tags(self.store)
        self.metric_attributions = MetricAttributions(
            ledger, light, cache, ShownLists(), locations,
            float(os.environ.get("PERSONALIZE_ENGINE_METRICS_FLUSH_SECONDS") or 60),
        )
        self.serving.shown = self.metric_attributions.shown
        self.trackers.on_events = self.metric_attributions.record_events
        self.import_jobs.on_incremental_interactions = self.metric_attributions.record_import
        deletions.resume()  # every family has registered what its deletes finish with

    def shutdown(self, grace: float = 0.0, hurry: Callable[[], bool] = lambda: False) -> bool:
        """Stop: no job starts, jobs still running get up to `grace` seconds to notice the stop flag and
        settle their records (CREATE FAILED, no model kept), then the store closes and refuses writes.
        True when no job was left running (a stuck one is abandoned: the process is about to exit)."""
        self.ledger.stopping.set()
        self.metric_attributions.shutdown()
        for pool in self._pools:
            pool.shutdown()
        deadline = time.monotonic() + grace
        settled = all([pool.wait(deadline, hurry) for pool in self._pools])
        self.deletions.shutdown()
        self.store.close()
        return settled

    def list(self, kind: str, parent_arn: str | None = None) -> list[Record]:
        return self.ledger.children(kind, parent_arn)

    def describe(self, kind: str, arn: str) -> Record:
        return self.ledger.get(arn, kind)

    def serves_from_memory(self, campaign_arn: str, filter_arn: str | None, needs_items: bool = False) -> bool:
        """See `Serving.serves_from_memory`. The HTTP transport answers such calls on its event loop and
        sends the others to a worker thread."""
        return self.serving.serves_from_memory(campaign_arn, filter_arn, needs_items)

    def recent_events(self, group_arn: str, limit: int = 100) -> list[dict]:
        return self.dataset_groups.recent_events(group_arn, limit)
