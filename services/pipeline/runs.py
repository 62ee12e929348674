"""Retrain runs, stored on the server's disk so they outlive the browser tab that started them.

Each run is one JSON file under `data_dir()/runs`, rewritten atomically (temp file + rename) at each
step, so a reader never sees half a file and a reopened page shows where the run is. One run per
solution at a time, also across processes (the dashboard and a cron job): a lock file per solution
held with `flock`, which the OS releases when the holder dies, so a crash never leaves a stuck lock.
A run still marked "running" whose lock is free was interrupted (its process died), and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from services.core.config import data_dir

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"
PENDING, DONE, SKIPPED = "pending", "done", "skipped"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Step:
    key: str
    label: str
    status: str = PENDING  # pending, running, done, failed, skipped
    detail: str = ""
    started_at: str | None = None
    finished_at: str | None = None


@dataclass
class Run:
    run_id: str
    dataset_group: str
    solution: str
    solution_arn: str
    dataset_group_arn: str = ""
    campaign: str | None = None
    import_from: str | None = None
    training_mode: str = "FULL"
    origin: str = "dashboard"  # "dashboard" or "command"
    started_by: str = ""
    status: str = RUNNING
    steps: list[Step] = field(default_factory=list)
    failed_step: str | None = None
    reason: str | None = None
    new_version_arn: str | None = None
    # campaign name -> {"arn", "before", "serving", "verified"}
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    pid: int = field(default_factory=os.getpid)

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def summary(self) -> str:
        """One sentence: what happened, for the page and the command's last line."""
        if self.status == SUCCEEDED:
            names = ", ".join(sorted(self.campaigns)) or "no campaign"
            return f"Retrain finished: {names} now serve{'s' if len(self.campaigns) == 1 else ''} " \
                   f"{short(self.new_version_arn)}."
        if self.status == FAILED:
            label = next((s.label for s in self.steps if s.key == self.failed_step), self.failed_step)
            return f"Retrain failed at step '{label}': {self.reason}"
        if self.status == INTERRUPTED:
            return f"Retrain was interrupted: {self.reason}"
        current = next((s.label for s in self.steps if s.status == RUNNING), "starting")
        return f"Retrain running: {current}."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        data = dict(data)
        steps = [Step(**s) for s in data.pop("steps", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(steps=steps, **known)


def short(arn: str | None) -> str:
    return arn.split(":")[-1] if arn else "?"


class RunInProgress(RuntimeError):
    """A second run on a solution that is already being retrained."""

    def __init__(self, solution: str, run: Run | None) -> None:
        since = f" (run {run.run_id}, started {run.started_at} from the {run.origin})" if run else ""
        super().__init__(f"A retrain of {solution} is already running{since}; wait for it to finish.")
        self.run = run


class SolutionLock:
    """An exclusive, non-blocking flock on a per-solution file; released on close or process death."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    def write_owner(self, run_id: str) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.write(json.dumps({"run_id": run_id, "pid": os.getpid()}))
            self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class RunStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir() / "runs"
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "locks").mkdir(exist_ok=True)

    # -- files ------------------------------------------------------------------------------------
    def _path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def save(self, run: Run) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{run.run_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(run.to_dict(), fh, indent=2, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(run.run_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, run_id: str) -> Run:
        run = Run.from_dict(json.loads(self._path(run_id).read_text(encoding="utf-8")))
        return self._settle(run)

    def runs(self, solution_arn: str | None = None, limit: int = 20) -> list[Run]:
        """Newest first (run ids start with a UTC timestamp); damaged files are skipped."""
        out = []
        for path in sorted(self.root.glob("*.json"), reverse=True):
            try:
                run = Run.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
            if solution_arn is None or run.solution_arn == solution_arn:
                out.append(self._settle(run))
            if len(out) >= limit:
                break
        return out

    def latest(self, solution_arn: str) -> Run | None:
        found = self.runs(solution_arn, limit=1)
        return found[0] if found else None

    def active(self, solution_arn: str) -> Run | None:
        run = self.latest(solution_arn)
        return run if run is not None and not run.finished else None

    def _settle(self, run: Run) -> Run:
        """A 'running' run whose lock nobody holds died with its process: record that once."""
        if run.finished:
            return run
        lock = self.try_lock(run.solution_arn)
        if lock is None:
            return run
        try:
            # Read again under the lock: the run may have finished (saved, then released its lock)
            # between the caller's read and the lock check; its real outcome must not be overwritten.
            try:
                current = Run.from_dict(json.loads(self._path(run.run_id).read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                current = run
            if current.finished:
                return current
            current.status = INTERRUPTED
            current.reason = ("the process running it stopped (dashboard or command restarted) before it "
                              "finished; check the campaign on the Campaigns page and start the retrain again")
            current.finished_at = _now()
            self.save(current)
            return current
        finally:
            lock.release()

    # -- locks ------------------------------------------------------------------------------------
    def _lock_path(self, solution_arn: str) -> Path:
        return self.root / "locks" / f"{hashlib.sha256(solution_arn.encode()).hexdigest()[:24]}.lock"

    def try_lock(self, solution_arn: str) -> SolutionLock | None:
        path = self._lock_path(solution_arn)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return SolutionLock(path, handle)

    def new_run_id(self) -> str:
        return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
