"""Saved source configurations: one JSON file per named source, in a folder the caller chooses.

The Data page saves a source once; the retrain pipeline loads it by name and exports only what is new
since the watermark stored after the previous export. Writes are atomic (temp file + rename), so a
crash mid-write never leaves a half-written configuration for the nightly job to trip on, and each
read-modify-write holds a lock, so the page and the pipeline never lose each other's update.

The watermark is the last exported TIMESTAMP plus the ids of the documents exported at that second,
so that events stored later for the same second are exported next time and the others are not sent
twice. An export's watermark moves only once its import job is ACTIVE: until then it waits in the
file as a pending import, so leaving the page (or a pipeline crashing) mid-import loses nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from services.core.uri_secrets import MASK, has_secrets, redact_uri

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$")


class SavedSourceError(ValueError):
    pass


class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def _path(directory: str | Path, name: str) -> Path:
    # The name becomes a file name, so it must not be able to escape the folder.
    if not _NAME.match(name) or name.endswith("."):
        raise SavedSourceError(
            f"{name!r} cannot be a source name: use letters, digits, spaces, '_', '-' or '.', up to 100 characters."
        )
    return Path(directory) / f"{name}.json"


def _write_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(directory: str | Path) -> Iterator[None]:
    """One writer at a time for the folder's read-modify-write updates (page, pipeline, CLI)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _secret_path(directory: str | Path, name: str) -> Path:
    return Path(directory) / ".secrets" / f"{name}.uri"


def _keep_secret_apart(directory: str | Path, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """A URI with any secret in it (password, key passphrase, session token) goes whole to a 0600 file of
    its own; the JSON (shown, listed, copied) keeps only its redacted form."""
    uri = body.get("uri")
    secret = _secret_path(directory, name)
    if not isinstance(uri, str) or not has_secrets(uri):
        secret.unlink(missing_ok=True)
        return body
    secret.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(secret.parent, 0o700)
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(uri)
    return {**body, "uri": redact_uri(uri)}


def save_source(directory: str | Path, name: str, config: dict[str, Any] | _HasToDict) -> Path:
    """Save (or replace) a source configuration; an existing watermark is kept. Returns the file path."""
    path = _path(directory, name)
    body = _keep_secret_apart(directory, name, dict(config.to_dict() if hasattr(config, "to_dict") else config))
    with _locked(directory):
        previous = _read(path) if path.exists() else {}
        state = previous.get("state", {})
        _write_atomic(
            path,
            {
                "name": name,
                "config": body,
                "state": state,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SavedSourceError(f"There is no saved source {path.stem!r}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SavedSourceError(f"The saved source {path.stem!r} is damaged ({exc}); save it again.") from exc
    if not isinstance(stored, dict) or not isinstance(stored.get("state", {}), dict):
        raise SavedSourceError(f"The saved source {path.stem!r} is damaged (not a saved source); save it again.")
    return stored


def load_source(directory: str | Path, name: str) -> dict[str, Any]:
    """The saved configuration, with the last export's state under "state" (watermark, rows, time)."""
    stored = _read(_path(directory, name))
    config = dict(stored.get("config", {}))
    secret = _secret_path(directory, name)
    if secret.exists():
        config["uri"] = secret.read_text(encoding="utf-8")
    config["state"] = stored.get("state", {})
    return config


def shown_source(directory: str | Path, name: str) -> dict[str, Any]:
    """What a page may show of a saved source: like `load_source`, with the URI's secrets masked."""
    config = load_source(directory, name)
    if isinstance(config.get("uri"), str):
        config["uri"] = redact_uri(config["uri"])
    return config


def resolve_uri(directory: str | Path, name: str | None, shown_uri: str) -> str:
    """The URI to connect with: the saved one (secrets included) when `shown_uri` is still its masked
    form, else `shown_uri` as typed (an edited URI needs its secret typed again)."""
    if not name or MASK not in shown_uri:
        return shown_uri
    try:
        stored = load_source(directory, name).get("uri")
    except SavedSourceError:
        return shown_uri
    return stored if isinstance(stored, str) and redact_uri(stored) == shown_uri else shown_uri


def watermark(directory: str | Path, name: str) -> int | None:
    """The last TIMESTAMP (Unix seconds) exported from this source, or None before the first export."""
    return watermark_state(directory, name)[0]


def watermark_state(directory: str | Path, name: str) -> tuple[int | None, list[str] | None]:
    """The watermark and the ids of the documents exported at its second (None where not known: a
    watermark stored before ids were kept, or a file source; the next export then starts a second later)."""
    state = _read(_path(directory, name)).get("state", {})
    value, ids = state.get("watermark"), state.get("watermark_ids")
    return (None if value is None else int(value)), (None if ids is None else list(ids))


def _advance(state: dict[str, Any], watermark: int | None, ids: list[str] | None) -> None:
    """Move the watermark forward (never back); at the same second, the ids exported at it add up."""
    old = state.get("watermark")
    if watermark is None:
        return
    if old is None or int(watermark) > int(old):
        state["watermark"] = int(watermark)
        if ids is None:
            state.pop("watermark_ids", None)
        else:
            state["watermark_ids"] = sorted(set(ids))
    elif int(watermark) == int(old) and ids is not None and state.get("watermark_ids") is not None:
        state["watermark_ids"] = sorted(set(state["watermark_ids"]) | set(ids))


@contextmanager
def _state_of(directory: str | Path, name: str) -> Iterator[dict[str, Any]]:
    """The source's state to change in place, written back atomically, under the folder's lock."""
    path = _path(directory, name)
    with _locked(directory):
        stored = _read(path)
        state = dict(stored.get("state", {}))
        yield state
        stored["state"] = state
        _write_atomic(path, stored)


def _record(state: dict[str, Any], watermark: int | None, ids: list[str] | None, rows: int, output: str | None) -> None:
    _advance(state, watermark, ids)
    state.update({"last_export_rows": int(rows), "last_export_at": datetime.now(UTC).isoformat(timespec="seconds")})
    if output:
        state["last_export_output"] = str(output)


def record_export(
    directory: str | Path, name: str, watermark: int | None, rows: int, output: str | None = None,
    watermark_ids: list[str] | None = None,
) -> None:
    """Store the watermark after an export whose import is ACTIVE. A watermark never moves backwards."""
    with _state_of(directory, name) as state:
        _record(state, watermark, watermark_ids, rows, output)


def add_pending_import(
    directory: str | Path, name: str, job_arn: str, watermark: int | None, rows: int, output: str | None = None,
    watermark_ids: list[str] | None = None,
) -> None:
    """Remember an export whose import job is running; `settle_pending_imports` records it once it ends."""
    with _state_of(directory, name) as state:
        pending = dict(state.get("pending_imports") or {})
        pending[job_arn] = {"watermark": watermark, "watermark_ids": watermark_ids, "rows": int(rows),
                            "output": None if output is None else str(output)}
        state["pending_imports"] = pending


FINISHED_OK = "ACTIVE"


def pending_imports(directory: str | Path, name: str) -> dict[str, dict[str, Any]]:
    """The source's exports whose import job had not ended when last looked at: job ARN -> record."""
    return dict(_read(_path(directory, name)).get("state", {}).get("pending_imports") or {})


def settle_pending_imports(directory: str | Path, status_of: Callable[[str], str | None]) -> list[tuple[str, str, str]]:
    """For every saved source's pending import whose job has ended, per `status_of(job_arn)` (None while
    it runs or is unknown): ACTIVE moves the watermark, anything else (failed, deleted) drops the record
    so that the next export sends those events again. Returns (source, job ARN, status) of each settled.
    A damaged or stray file in the folder is skipped: it is reported where it is loaded, not here."""
    settled: list[tuple[str, str, str]] = []
    for name in list_sources(directory):
        try:
            settled += _settle_source(directory, name, status_of)
        except SavedSourceError:
            continue
    return settled


def _settle_source(
    directory: str | Path, name: str, status_of: Callable[[str], str | None],
) -> list[tuple[str, str, str]]:
    ended = {arn: status for arn in pending_imports(directory, name) if (status := status_of(arn)) is not None}
    if not ended:
        return []
    settled: list[tuple[str, str, str]] = []
    with _state_of(directory, name) as state:
        still = dict(state.get("pending_imports") or {})
        for arn, status in ended.items():
            record = still.pop(arn, None)
            if record is None:
                continue  # settled meanwhile by another writer
            if status == FINISHED_OK:
                _record(state, record.get("watermark"), record.get("watermark_ids"), record.get("rows") or 0,
                        record.get("output"))
            settled.append((name, arn, status))
        state["pending_imports"] = still
    return settled


def list_sources(directory: str | Path) -> list[str]:
    """Names of the saved sources, sorted."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if not p.name.startswith("."))


def delete_source(directory: str | Path, name: str) -> None:
    _path(directory, name).unlink(missing_ok=True)
    _secret_path(directory, name).unlink(missing_ok=True)
