"""Where the dashboard keeps its files and which backend answers (see Configuration in README.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
from platformdirs import user_data_dir

LOCAL = "local"
AWS = "aws"


def data_dir() -> Path:
    """PERSONALIZE_DATA_DIR, else the user's data directory (never the repository)."""
    path = Path(os.environ.get("PERSONALIZE_DATA_DIR") or user_data_dir("personalize-dashboard"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def engine_data_dir() -> Path:
    return data_dir() / "engine"


def staging_dir() -> Path:
    path = data_dir() / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sources_dir() -> Path:
    path = data_dir() / "sources"
    path.mkdir(parents=True, exist_ok=True)
    return path


def backend_choice() -> str:
    """PERSONALIZE_BACKEND=local|aws; unset: aws when AWS credentials are configured, else local."""
    chosen = (os.environ.get("PERSONALIZE_BACKEND") or "").strip().lower()
    if chosen in (LOCAL, AWS):
        return chosen
    if chosen:
        raise ValueError(f"PERSONALIZE_BACKEND must be 'local' or 'aws', not {chosen!r}.")
    try:
        has_credentials = boto3.Session().get_credentials() is not None
    except Exception:  # a broken profile is not credentials: fall back to the engine
        has_credentials = False
    return AWS if has_credentials else LOCAL


@dataclass(frozen=True)
class BackendInfo:
    kind: str  # LOCAL or AWS
    region: str
    endpoint_url: str | None  # the engine's URL in local mode
    data_dir: Path | None  # the engine's data dir in local mode

    @property
    def is_local(self) -> bool:
        return self.kind == LOCAL


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or \
        boto3.Session().region_name or "us-east-1"


def _start_engine(data_dir: Path) -> tuple[str, Path]:
    from services.core import local_engine  # only local mode starts a process

    engine = local_engine.start(data_dir)
    return engine.url, engine.data_dir


def resolve_backend(
    endpoint_url: str | None = None,
    *,
    kind: str | None = None,
    region: str | None = None,
    start_engine: Callable[[Path], tuple[str, Path]] = _start_engine,
) -> BackendInfo:
    """Which backend answers, for the dashboard and the pipeline command alike.

    An explicit endpoint (the command's --endpoint-url) is an engine or compatible server; otherwise
    `kind` (default: `backend_choice()`); in local mode PERSONALIZE_ENGINE_URL names an engine started
    separately, else `start_engine` starts (or reuses) the one on this data dir. Callers that start
    it once per process (the dashboard) pass their own `start_engine`, `kind` and `region`.
    """
    region = region or default_region()
    if endpoint_url:
        return BackendInfo(LOCAL, region, endpoint_url.rstrip("/"), None)
    if (kind or backend_choice()) == AWS:
        return BackendInfo(AWS, region, os.environ.get("AWS_ENDPOINT_URL_PERSONALIZE"), None)
    url = os.environ.get("PERSONALIZE_ENGINE_URL")
    if url:
        return BackendInfo(LOCAL, region, url.rstrip("/"), None)
    engine_url, engine_dir = start_engine(engine_data_dir())
    return BackendInfo(LOCAL, region, engine_url, engine_dir)
