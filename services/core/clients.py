"""boto3 clients for the chosen backend. Pages and services never know which one answers."""

from __future__ import annotations

import configparser
import os
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from services.core.config import BackendInfo, engine_data_dir
from services.core.resources import parse_timestamp_utc

# Adaptive retries back off on throttling, as AWS advises. The embedded engine is on loopback and never
# throttles: one retry is enough, so a stopped engine is reported quickly, not after backoff.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
# AWS runtime calls back off in services.core.throttling instead (it counts throttled calls for the page);
# one attempt here keeps the two policies from multiplying (5 x 6 tries a call).
RUNTIME_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
LOCAL_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=60)
# What an engine started with --no-auth accepts (it checks nothing, but botocore signs with something).
UNCHECKED_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
ENGINE_PROFILE = "personalize-local"  # the engine's <data-dir>/credentials file (see engine/credentials.py)


def engine_credentials(engine_dir: Path | None) -> dict[str, str]:
    """The key pair an embedded engine checks signatures against, found without the user typing it:
    PERSONALIZE_ENGINE_ACCESS_KEY_ID / ..._SECRET_ACCESS_KEY (an engine started with them), else the
    `credentials` file the engine generated in its data dir (`engine_dir`, default the dashboard's)."""
    key_id = os.environ.get("PERSONALIZE_ENGINE_ACCESS_KEY_ID")
    secret = os.environ.get("PERSONALIZE_ENGINE_SECRET_ACCESS_KEY")
    if key_id and secret:
        return {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read((engine_dir or engine_data_dir()) / "credentials", encoding="utf-8")
    except (configparser.Error, OSError):
        return dict(UNCHECKED_CREDENTIALS)
    section = parser[ENGINE_PROFILE] if parser.has_section(ENGINE_PROFILE) else {}
    if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
        return {"aws_access_key_id": section["aws_access_key_id"],
                "aws_secret_access_key": section["aws_secret_access_key"]}
    return dict(UNCHECKED_CREDENTIALS)


def engine_get(backend: BackendInfo, path: str, timeout: float = 5) -> bytes:
    """GET one of the embedded engine's own (non-AWS) endpoints, e.g. `/_engine/events?...`, signed like
    every other call with the engine's key pair."""
    pair = engine_credentials(backend.data_dir)
    request = AWSRequest(method="GET", url=f"{backend.endpoint_url}{path}")
    SigV4Auth(Credentials(pair["aws_access_key_id"], pair["aws_secret_access_key"]), "personalize",
              backend.region).add_auth(request)
    wire = urllib.request.Request(request.url, headers=dict(request.headers.items()), method="GET")
    with urllib.request.urlopen(wire, timeout=timeout) as resp:
        return resp.read()


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
            kwargs.update(endpoint_url=self.backend.endpoint_url, config=LOCAL_CONFIG,
                          **engine_credentials(self.backend.data_dir))
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

