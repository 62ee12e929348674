"""Start the embedded engine as a real server process for tests (boto3 talks to it over HTTP)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@dataclass
class EngineProcess:
    url: str
    data_dir: Path
    process: subprocess.Popen

    @classmethod
    def start(cls, data_dir: Path, port: int = 0, extra_env: dict[str, str] | None = None) -> EngineProcess:
        env = {**os.environ, **(extra_env or {})}
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=None, text=True,
        )
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://[\d.]+:\d+", line)
        if not match:
            proc.kill()
            raise RuntimeError(f"the engine did not start: {line!r}")
        return cls(match.group(0), data_dir, proc)

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, config=TEST_CONFIG, **CREDENTIALS)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_for(fetch, done, timeout: float = 120, interval: float = 0.1):
    """Poll `fetch()` until `done(value)` holds; returns the value (the way AWS clients poll Describe*)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"state not reached in {timeout}s; last: {value!r}")
        time.sleep(interval)  # poll interval
