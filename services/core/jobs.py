"""Background jobs of this process: named work in a daemon thread, followed by whoever asks for it.

A Streamlit rerun (a click anywhere, a second tab) starts the script again, so long work must not run
inside the script: it would be aborted half-way or started twice. A job runs in its own daemon thread,
is registered under a key, and every later run looks it up by that key to show its progress and, once
it ends, its result or error. Starting a key whose job still runs returns that job instead of a second
one. The registry is plain Python (no Streamlit), safe to share between threads.

Jobs live as long as the process; work that must outlive it keeps its own durable record (the retrain
pipeline's run files do).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"

Progress = Callable[[str, float], None]  # (message, fraction done 0..1)
Work = Callable[[Progress], Any]


@dataclass
class Job:
    """One piece of work; its fields are read by other threads, and written under `_lock`."""

    key: str
    name: str
    status: str = RUNNING
    message: str = "Starting"
    fraction: float = 0.0
    messages: list[str] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def progress(self, message: str, fraction: float | None = None) -> None:
        """The work's progress callback: the newest message and how far it is (kept within 0..1)."""
        with self._lock:
            self.message = message
            self.messages.append(message)
            if fraction is not None:
                self.fraction = min(1.0, max(0.0, float(fraction)))

    def progress_since(self, seen: int) -> list[str]:
        """The messages after the first `seen`: a follower shows each message once."""
        with self._lock:
            return list(self.messages[seen:])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (True) or `timeout` seconds passed (False)."""
        return self._done.wait(timeout)

    def _finish(self, result: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            self.result, self.error = result, error
            self.status = FAILED if error is not None else SUCCEEDED
            if error is None:
                self.fraction = 1.0
        self._done.set()


class JobRegistry:
    """The jobs of one process by key; claiming a key is atomic, so one key never runs twice at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._claims: set[str] = set()

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def start(self, key: str, work: Work, name: str | None = None, keep_success: bool = False) -> Job:
        """Run `work(progress)` in a daemon thread under `key`, unless a job of that key still runs (or,
        with `keep_success`, has succeeded): that job is returned instead. A failed one is replaced."""
        with self._lock:
            existing = self._jobs.get(key)
            if existing is not None and (existing.running or (keep_success and existing.succeeded)):
                return existing
            job = Job(key, name or key)
            self._jobs[key] = job
        threading.Thread(target=self._run, args=(job, work), name=f"job-{key}"[:60], daemon=True).start()
        return job

    @staticmethod
    def _run(job: Job, work: Work) -> None:
        try:
            result = work(job.progress)
        except BaseException as exc:  # kept for whoever follows the job: it shows the error in words
            job._finish(error=exc)
            return
        job._finish(result=result)

    def claim(self, token: str) -> bool:
        """True for the first caller of `token` in this process (until released): a once-only decision
        that several script runs or tabs may race for, e.g. who starts the first demo shop."""
        with self._lock:
            if token in self._claims:
                return False
            self._claims.add(token)
            return True

    def release(self, token: str) -> None:
        with self._lock:
            self._claims.discard(token)


_PROCESS_JOBS = JobRegistry()


def process_jobs() -> JobRegistry:
    """The registry every caller of this process shares, so a rerun finds the job an earlier run started."""
    return _PROCESS_JOBS
