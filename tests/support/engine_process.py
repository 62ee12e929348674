"""The embedded engine as a real server process for tests and benchmarks (boto3 talks to it over HTTP).

Starting it is the dashboard's own `services.core.local_engine.launch`; this adds boto3 clients that
never retry (a retried 5xx would hide the error a test is after) and the tests' polling helper.
"""

from __future__ import annotations

import configparser
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from services.core.local_engine import LocalEngine, launch
from services.core.waiting import poll_until

REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
# The key pair every test engine checks signatures against (tests/conftest.py exports it, so the
# dashboard's clients and any engine a test's dashboard starts use it too).
ACCESS_KEY_ID = "AKIATESTENGINE000001"
SECRET_ACCESS_KEY = "test-engine-secret-access-key"
KEY_ENV = {"PERSONALIZE_ENGINE_ACCESS_KEY_ID": ACCESS_KEY_ID, "PERSONALIZE_ENGINE_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
CREDENTIALS = {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY,
               "region_name": "us-east-1"}
# Tests and benchmarks write their import files under the temporary directory (pytest's tmp_path).
FILE_ROOT = tempfile.gettempdir()
T = TypeVar("T")


@dataclass
class EngineProcess(LocalEngine):
    process: subprocess.Popen
    credentials: dict[str, str] = field(default_factory=lambda: dict(CREDENTIALS))  # what its clients sign with

    @classmethod
    def start(cls, data_dir: Path, port: int = 0, extra_env: dict[str, str] | None = None,
              extra_args: Sequence[str] = (), file_roots: Sequence[str | Path] = (FILE_ROOT,),
              log_path: Path | None = None) -> EngineProcess:
        """A new engine on `data_dir`; its stderr is the test run's, so a failure shows the engine's log.
        It checks signatures with CREDENTIALS and reads and writes files under the temporary directory,
        unless `extra_env` / `extra_args` say otherwise."""
        roots = [arg for root in file_roots for arg in ("--allow-files", str(root))]
        env = {**KEY_ENV, **(extra_env or {})}
        engine = launch(data_dir, port, extra_args=[*roots, *extra_args], extra_env=env, log_path=log_path)
        assert engine.process is not None
        key_id, secret = env["PERSONALIZE_ENGINE_ACCESS_KEY_ID"], env["PERSONALIZE_ENGINE_SECRET_ACCESS_KEY"]
        if not (key_id and secret):  # the engine generated its own pair
            from services.core.clients import ENGINE_PROFILE

            parser = configparser.ConfigParser(interpolation=None)
            parser.read(data_dir / "credentials")
            if parser.has_section(ENGINE_PROFILE):
                key_id, secret = (parser[ENGINE_PROFILE]["aws_access_key_id"],
                                  parser[ENGINE_PROFILE]["aws_secret_access_key"])
        pair = {"aws_access_key_id": key_id or "unchecked", "aws_secret_access_key": secret or "unchecked",
                "region_name": "us-east-1"}
        return cls(engine.url, engine.data_dir, engine.process, pair)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, config=TEST_CONFIG, **self.credentials)


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 120, interval: float = 0.1) -> T:
    """Poll `fetch()` until `done(value)` holds; returns the value (the way AWS clients poll Describe*)."""
    return poll_until(fetch, done, timeout, interval,
                      timeout_message=lambda value: f"state not reached in {timeout}s; last: {value!r}")
