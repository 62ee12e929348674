"""Worker threads for the engine's calls that may block (control plane, PutEvents, cold runtime calls).

Not `concurrent.futures.ThreadPoolExecutor`: its threads are joined when the interpreter exits, so a
stopping engine would wait for every call still running, however long. These are daemon threads, as
http.server's were: the server gives running calls a grace period to answer, then exits without them
(every write the backend makes is atomic, so a call cut short leaves nothing half-written).
Threads are started as calls queue up, up to a maximum, and then stay for the next calls.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_STOP = object()


class DaemonPool:
    def __init__(self, max_workers: int, name: str) -> None:
        self.max_workers = max_workers
        self.name = name
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._stopped = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError("the worker pool is stopped")
            self._jobs.put((future, fn, args))
            if self._idle == 0 and len(self._threads) < self.max_workers:
                thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1  # an idle worker takes this call
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            future, fn, args = job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """No new calls; idle workers end. Calls still running are not waited for (daemon threads)."""
        with self._lock:
            self._stopped = True
            for _ in self._threads:
                self._jobs.put(_STOP)
