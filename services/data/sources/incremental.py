"""Incremental imports from a saved source: the one place that keeps its watermark honest.

The protocol, shared by the Data page and the retrain pipeline:

1. settle first: every earlier export of the source whose import job has ended is recorded (ACTIVE
   moves the watermark, anything else drops the record so that its events are exported again);
2. an export is refused while an earlier one's import still runs: exported now, its events would be
   sent twice (the pipeline waits for it instead);
3. export what is new since the watermark (the last exported TIMESTAMP and the ids exported at that
   second, so events stored late for the same second are not lost);
4. once the import job is launched, the export is recorded with the saved source as a pending import
   (not in a browser session, not in memory), so leaving the page or a crash loses nothing;
5. the watermark moves only when that job ends ACTIVE; a failed night is exported again in full.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from services.core.config import sources_dir
from services.core.waiting import Failed, wait_until
from services.data import imports
from services.data.sources import saved
from services.data.sources.files import TEXT_COLUMNS


class EarlierImportRunning(ValueError):
    """An export asked for while the source's previous export is still being imported."""

    def __init__(self, source: str, jobs: list[str]) -> None:
        super().__init__(f"The import of {source}'s previous export is still running ({', '.join(jobs)}); "
                         "export again once it has finished: exported now, its events would be sent twice.")
        self.jobs = jobs


@dataclass(frozen=True)
class SourceState:
    """Where a saved source's exports stand, after settling the imports that ended."""

    watermark: int | None = None
    watermark_ids: list[str] | None = None
    running: tuple[str, ...] = ()  # names of import jobs of earlier exports still running


@dataclass(frozen=True)
class Export:
    """Rows exported from a source, with the watermark they reach (recorded once their import is ACTIVE)."""

    frame: pd.DataFrame
    watermark: int | None
    watermark_ids: list[str] | None = None
    skipped_rows: int = 0

    @property
    def rows(self) -> int:
        return len(self.frame)


def _folder(directory: str | Path | None) -> str | Path:
    return sources_dir() if directory is None else directory


# -- 1. settling ------------------------------------------------------------------------------------
def settle(personalize: Any, directory: str | Path | None = None) -> list[tuple[str, str, str]]:
    """Record every saved source's imports that have ended, asking each job (a job of another dataset
    group is settled too). Returns (source, job ARN, status) of each settled one."""
    return saved.settle_pending_imports(_folder(directory), imports.finished_status(personalize))


def settle_ended(jobs: Iterable[imports.ImportJob], directory: str | Path | None = None) -> None:
    """Record the saved sources' exports among these listed jobs that have ended (no extra call to AWS)."""
    ended = {job.job_arn: job.status for job in jobs if not job.running}
    saved.settle_pending_imports(_folder(directory), ended.get)


def source_state(personalize: Any, name: str, directory: str | Path | None = None) -> SourceState:
    """Settle the source's ended imports, then its watermark and the imports still running."""
    folder = _folder(directory)
    if saved.pending_imports(folder, name):
        settle(personalize, folder)
    watermark, ids = saved.watermark_state(folder, name)
    running = tuple(arn.rsplit("/", 1)[-1] for arn in saved.pending_imports(folder, name))
    return SourceState(watermark, ids, running)


def wait_for_earlier_imports(personalize: Any, name: str, directory: str | Path | None = None) -> None:
    """Wait for the source's imports still running (the Data page's, or a crashed run's), then settle
    them: if they fail they are dropped and the next export sends their events."""
    folder = _folder(directory)
    for job in saved.pending_imports(folder, name):  # an ended one answers at once
        with contextlib.suppress(Failed, ClientError):  # a failed or deleted job is settled (dropped) below
            wait_until(lambda j=job: personalize.describe_dataset_import_job(datasetImportJobArn=j)["datasetImportJob"],
                       "an earlier import from this source")
    settle(personalize, folder)


# -- 2 and 3. exporting -------------------------------------------------------------------------------
def refuse_while_running(name: str, state: SourceState) -> None:
    """EarlierImportRunning when an earlier export of the source is still being imported."""
    if state.running:
        raise EarlierImportRunning(name, list(state.running))


def export_mongo(source: Any, state: SourceState | None) -> Export:
    """Export a MongoDB source: everything (state None) or only what is new since the state's watermark."""
    from services.data.sources import mongo  # pymongo only when a MongoDB source is used

    since, at = (state.watermark, state.watermark_ids) if state is not None else (None, None)
    result = mongo.export(source, since_watermark=since, exported_at_watermark=at)
    frame = result.frame if result.frame is not None else pd.DataFrame()
    return Export(frame, result.watermark, result.watermark_ids, result.skipped_rows)


def _export_file(config: Mapping[str, Any], since: int | None) -> Export:
    path = config.get("path")
    if not path or not os.path.exists(path):
        raise ValueError(f"The saved source's file {path!r} does not exist.")
    frame = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})  # ids are text: "007" stays "007"
    if "TIMESTAMP" not in frame.columns:
        return Export(frame, None)
    stamps = pd.to_numeric(frame["TIMESTAMP"], errors="coerce")
    if since is not None:
        frame, stamps = frame[stamps > since], stamps[stamps > since]
    top = stamps.max()  # NaN when no row has a readable time: the import will say so
    return Export(frame, None if pd.isna(top) else int(top))


def export_new(config: Mapping[str, Any], state: SourceState) -> Export:
    """A saved source's rows not exported yet (its 'mongodb' or 'file' configuration)."""
    kind = str(config.get("kind", "")).lower()
    if kind == "mongodb":
        from services.data.sources.mongo import MongoSource

        return export_mongo(MongoSource.from_dict(dict(config)), state)
    if kind in ("file", "csv"):
        return _export_file(config, state.watermark)
    raise ValueError(f"A saved source of kind {kind or 'unknown'!r} cannot be imported by the retrain "
                     "pipeline (it reads 'mongodb' and 'file' sources).")


# -- 4 and 5. recording -------------------------------------------------------------------------------
def record_import(name: str, job_arn: str, export: Export, staged_uri: str | None,
                  directory: str | Path | None = None) -> None:
    """Remember the export as the source's pending import: its watermark moves once the job is ACTIVE."""
    saved.add_pending_import(_folder(directory), name, job_arn, export.watermark, export.rows, staged_uri,
                             export.watermark_ids)
