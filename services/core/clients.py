"""boto3 clients for the chosen backend. Pages and services never know which one answers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from services.core.config import BackendInfo
from services.core.resources import parse_timestamp_utc

# Adaptive retries back off on throttling, as AWS advises. The embedded engine is on loopback and never
# throttles: one retry is enough, so a stopped engine is reported quickly, not after backoff.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
# AWS runtime calls back off in services.core.throttling instead (it counts throttled calls for the page);
# one attempt here keeps the two policies from multiplying (5 x 6 tries a call).
RUNTIME_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
LOCAL_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=60)
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@dataclass(frozen=True)
class Clients:
    backend: BackendInfo

    @cached_property
    def session(self) -> boto3.session.Session:
        """A session whose clients parse every timestamp to aware UTC. botocore's default is the local
        zone (dateutil's tzlocal), which pyarrow cannot convert in zones with daylight saving."""
        core = botocore.session.get_session()
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp_utc)
        return boto3.session.Session(botocore_session=core)

    def _make(self, service: str, config: Config = CLIENT_CONFIG) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.backend.region, "config": config}
        if self.backend.is_local:
            kwargs.update(endpoint_url=self.backend.endpoint_url, config=LOCAL_CONFIG, **LOCAL_CREDENTIALS)
        return self.session.client(service, **kwargs)

    @cached_property
    def personalize(self) -> Any:
        return self._make("personalize")

    @cached_property
    def runtime(self) -> Any:
        return self._make("personalize-runtime", RUNTIME_CONFIG)

    @cached_property
    def events(self) -> Any:
        return self._make("personalize-events")

    @cached_property
    def s3(self) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.backend.region, "config": CLIENT_CONFIG}
        return self.session.client("s3", **kwargs)

    @cached_property
    def sts(self) -> Any:
        return self.session.client("sts", region_name=self.backend.region, config=CLIENT_CONFIG)

    def account_id(self) -> str | None:
        if self.backend.is_local:
            return None
        try:
            return self.sts.get_caller_identity()["Account"]
        except Exception:
            return None

