"""Putting an import file where Personalize can read it: an S3 bucket in AWS mode, the engine's
local file store in local mode (imported with a file:// URI)."""

from __future__ import annotations

import io
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from services.core.config import BackendInfo, staging_dir


@dataclass(frozen=True)
class StagedFile:
    uri: str  # what CreateDatasetImportJob's dataSource.dataLocation gets
    rows: int
    local_copy: Path | None  # kept for the Overview's figures AWS does not expose


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "data"


def stage_frame(
    frame: pd.DataFrame,
    name: str,
    backend: BackendInfo,
    s3: Any = None,
    bucket: str | None = None,
    prefix: str = "personalize/",
) -> StagedFile:
    """Write `frame` as CSV (Personalize's format) and return the location to import from."""
    # A timestamp for people, a random suffix so two stagings in the same second never collide.
    stamp = time.strftime("%Y%m%dT%H%M%S")
    filename = f"{_safe(name)}-{stamp}-{uuid.uuid4().hex[:6]}.csv"
    local = staging_dir() / filename
    tmp = local.with_suffix(".csv.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(local)
    if backend.is_local:
        return StagedFile(local.resolve().as_uri(), len(frame), local)
    if not bucket:
        raise ValueError("Choose an S3 bucket to stage the file in (AWS mode imports from S3).")
    key = f"{prefix.strip('/')}/{filename}" if prefix.strip("/") else filename
    buf = io.BytesIO(local.read_bytes())
    s3.upload_fileobj(buf, bucket, key)
    return StagedFile(f"s3://{bucket}/{key}", len(frame), local)


def local_copy_for(uri: str) -> Path | None:
    """The staged copy of an import location, when this dashboard staged it."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    path = staging_dir() / name
    return path if path.exists() else None
