"""Reading and writing the data locations AWS accepts: `s3://bucket/key`, and on this engine also
`file:///absolute/path`. S3 goes through boto3, so `AWS_ENDPOINT_URL_S3` points it at any S3 server."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import InvalidInputException


class LocationError(Exception):
    """A data location that cannot be read or written; the message is shown as a failureReason."""


def check_location(uri: str, field: str) -> None:
    """Refuse, at Create* time, locations no job could ever use (as AWS validates the S3 path)."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3" and parsed.netloc:
        return
    if parsed.scheme == "file" and parsed.path.startswith("/"):
        return
    raise InvalidInputException(
        f"{field} must be s3://bucket/key or file:///absolute/path, got {uri!r}."
    )


def _s3():
    # Credentials may be dummies for a local S3 server; the engine does not need the caller's.
    return boto3.client("s3", config=Config(retries={"total_max_attempts": 2}))


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def list_inputs(uri: str) -> list[str]:
    """A file location, or every object under a prefix / files in a folder (AWS imports folders)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise LocationError(f"The folder {path} holds no files to import.")
            return [p.as_uri() for p in files]
        if not path.exists():
            raise LocationError(f"No file at {path}. Check the path (it must be absolute).")
        return [uri]
    bucket, key = _split_s3(uri)
    if key and not key.endswith("/"):
        return [uri]
    try:
        resp = _s3().list_objects_v2(Bucket=bucket, Prefix=key)
    except (ClientError, BotoCoreError) as exc:
        raise LocationError(f"Cannot list {uri}: {exc}") from exc
    keys = [o["Key"] for o in resp.get("Contents", []) if not o["Key"].endswith("/")]
    if not keys:
        raise LocationError(f"No objects under {uri}.")
    return [f"s3://{bucket}/{k}" for k in keys]


def read_bytes(uri: str, limit: int | None = None) -> bytes:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        try:
            with path.open("rb") as fh:
                return fh.read() if limit is None else fh.read(limit)
        except OSError as exc:
            raise LocationError(f"Cannot read {path}: {exc.strerror}.") from exc
    bucket, key = _split_s3(uri)
    try:
        body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
        return body.read() if limit is None else body.read(limit)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise LocationError(f"{uri} does not exist ({code}).") from exc
        raise LocationError(f"Cannot read {uri}: {exc}") from exc
    except BotoCoreError as exc:
        raise LocationError(f"Cannot read {uri}: {exc}") from exc


def write_bytes(uri: str, data: bytes) -> None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise LocationError(f"Cannot write {path}: {exc.strerror}.") from exc
        return
    bucket, key = _split_s3(uri)
    try:
        _s3().put_object(Bucket=bucket, Key=key, Body=data)
    except (ClientError, BotoCoreError) as exc:
        raise LocationError(f"Cannot write {uri}: {exc}") from exc


def join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name
