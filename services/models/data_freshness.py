"""Has data arrived since the serving model was trained? The freshness half of campaign health.

A campaign can serve the newest ACTIVE version and still be behind: interactions imported after that
version was trained reach users only after another training. Personalize reports no row counts, so the
rows are counted in the copies this dashboard staged; imports it did not stage are counted as jobs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.core.resources import utc
from services.data.import_files import ImportFile, current_chain, group_imports


@dataclass(frozen=True)
class DataFreshness:
    trained_at: datetime  # when the serving version was created: the data it could see
    newer_imports: int  # ACTIVE interaction imports that finished after that
    newer_rows: int | None  # their rows, when every one of their files was staged here
    newest_import_at: datetime | None

    @property
    def behind(self) -> bool:
        return self.newer_imports > 0

    def sentence(self, now: datetime | None = None) -> str:
        """'4,000 interactions (2 imports) arrived after the serving version was trained 3 days ago,
        the newest 2 hours ago: retrain to use them.'"""
        now = now or datetime.now(UTC)
        trained = ago(self.trained_at, now)
        if not self.behind or self.newest_import_at is None:
            return f"No interactions were imported after the serving version was trained ({trained})."
        jobs = f"{self.newer_imports} import{'s' if self.newer_imports > 1 else ''}"
        what = (f"{self.newer_rows:,} interaction{'s' if self.newer_rows != 1 else ''} ({jobs})"
                if self.newer_rows is not None else f"{jobs} of interactions (row count unknown)")
        newest = ago(self.newest_import_at, now)
        return (f"{what} arrived after the serving version was trained ({trained}), the newest {newest}: "
                "recommendations do not use them until a new version is trained and served.")


def ago(when: datetime, now: datetime) -> str:
    """'3 hours ago' in the coarsest unit that is at least one."""
    seconds = max(0.0, (now - when).total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def freshness_of(imports: list[ImportFile], trained_at: datetime) -> DataFreshness:
    """What of the dataset's current rows came after `trained_at` (imports oldest first)."""
    chain = current_chain(imports)
    newer = [f for f in chain if f.finished > trained_at]
    rows: int | None = 0
    for f in newer:
        counted = staged_rows(f.path) if f.path is not None else None
        rows = None if rows is None or counted is None else rows + counted
    return DataFreshness(trained_at=trained_at, newer_imports=len(newer), newer_rows=rows,
                         newest_import_at=max((f.finished for f in newer), default=None))


def version_freshness(personalize: Any, dataset_group_arn: str, version_arns: set[str]
                      ) -> dict[str, DataFreshness]:
    """Freshness per serving version ARN (versions that cannot be described are left out)."""
    imports = group_imports(personalize, dataset_group_arn, "INTERACTIONS")
    out: dict[str, DataFreshness] = {}
    for arn in version_arns:
        if not arn:
            continue
        version = personalize.describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
        trained_at = utc(version.get("creationDateTime"))
        if trained_at is not None:
            out[arn] = freshness_of(imports, trained_at)
    return out


def staged_rows(path: Path) -> int | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _rows(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _rows(path: str, _mtime_ns: int, _size: int) -> int:
    # Keyed on the file's mtime and size: a re-staged file is counted again. Staged files are CSV with
    # one header line and one record per line (staging writes them so).
    with open(path, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        handle.seek(max(0, handle.tell() - 1))
        unterminated = handle.tell() > 0 and handle.read(1) != b"\n"
    return max(0, lines + int(unterminated) - 1)


@dataclass(frozen=True)
class TrainingData:
    """The interactions a version could have seen: the imports finished before it was created."""

    imports: tuple[str, ...]  # job names, oldest first
    rows: int | None  # None when some of their files were not staged here

    def words(self) -> str:
        if not self.imports:
            return "no import this dashboard can see"
        jobs = f"{len(self.imports)} import{'s' if len(self.imports) > 1 else ''}"
        return f"{self.rows:,} interactions ({jobs})" if self.rows is not None else jobs


def training_data(imports: list[ImportFile], trained_at: datetime) -> TrainingData:
    """What a version created at `trained_at` trained on, from the dataset's imports (oldest first)."""
    seen = current_chain([f for f in imports if f.finished <= trained_at])
    rows: int | None = 0
    for f in seen:
        counted = staged_rows(f.path) if f.path is not None else None
        rows = None if rows is None or counted is None else rows + counted
    return TrainingData(tuple(f.job_name for f in seen), rows)
