"""The embedded engine as a real server process for tests and benchmarks (boto3 talks to it over HTTP).

Starting it is the dashboard's own `services.core.local_engine.launch`; this adds boto3 clients that
never retry (a retried 5xx would hide the error a test is after) and the tests' polling helper.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from services.core.local_engine import LocalEngine, launch
from services.core.waiting import poll_until

REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
T = TypeVar("T")


@dataclass
class EngineProcess(LocalEngine):
    process: subprocess.Popen

    @classmethod
    def start(cls, data_dir: Path, port: int = 0, extra_env: dict[str, str] | None = None,
              extra_args: Sequence[str] = ()) -> EngineProcess:
        """A new engine on `data_dir`; its stderr is the test run's, so a failure shows the engine's log."""
        engine = launch(data_dir, port, extra_args=extra_args, extra_env=extra_env)
        assert engine.process is not None
        return cls(engine.url, engine.data_dir, engine.process)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, config=TEST_CONFIG, **CREDENTIALS)


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 120, interval: float = 0.1) -> T:
    """Poll `fetch()` until `done(value)` holds; returns the value (the way AWS clients poll Describe*)."""
    return poll_until(fetch, done, timeout, interval,
                      timeout_message=lambda value: f"state not reached in {timeout}s; last: {value!r}")
