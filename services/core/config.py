"""Where the dashboard keeps its files and which backend answers (the contract in DESIGN.md)."""

from __future__ import annotations

import os
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
