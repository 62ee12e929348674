"""Saved source configurations: one JSON file per named source, in a folder the caller chooses.

The Data page saves a source once; the retrain pipeline loads it by name and exports only what is new
since the watermark stored after the previous export. Writes are atomic (temp file + rename), so a
crash mid-write never leaves a half-written configuration for the nightly job to trip on.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

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


_URI_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@\s]+):([^@\s]*)@", re.IGNORECASE)


def _secret_path(directory: str | Path, name: str) -> Path:
    return Path(directory) / ".secrets" / f"{name}.uri"


def _keep_secret_apart(directory: str | Path, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """A password inside the URI goes to a 0600 file of its own; the JSON (shown, listed, copied) never has it."""
    uri = body.get("uri")
    secret = _secret_path(directory, name)
    if not isinstance(uri, str) or not _URI_PASSWORD.search(uri):
        secret.unlink(missing_ok=True)
        return body
    secret.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(secret.parent, 0o700)
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(uri)
    return {**body, "uri": _URI_PASSWORD.sub(r"\1:***@", uri)}


def save_source(directory: str | Path, name: str, config: dict[str, Any] | _HasToDict) -> Path:
    """Save (or replace) a source configuration; an existing watermark is kept. Returns the file path."""
    path = _path(directory, name)
    body = _keep_secret_apart(directory, name, dict(config.to_dict() if hasattr(config, "to_dict") else config))
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
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SavedSourceError(f"There is no saved source {path.stem!r}.") from exc
    except json.JSONDecodeError as exc:
        raise SavedSourceError(f"The saved source {path.stem!r} is damaged ({exc}); save it again.") from exc


def load_source(directory: str | Path, name: str) -> dict[str, Any]:
    """The saved configuration, with the last export's state under "state" (watermark, rows, time)."""
    stored = _read(_path(directory, name))
    config = dict(stored.get("config", {}))
    secret = _secret_path(directory, name)
    if secret.exists():
        config["uri"] = secret.read_text(encoding="utf-8")
    config["state"] = stored.get("state", {})
    return config


def watermark(directory: str | Path, name: str) -> int | None:
    """The last TIMESTAMP (Unix seconds) exported from this source, or None before the first export."""
    value = _read(_path(directory, name)).get("state", {}).get("watermark")
    return None if value is None else int(value)


def record_export(
    directory: str | Path, name: str, watermark: int | None, rows: int, output: str | None = None
) -> None:
    """Store the watermark after an export. A watermark never moves backwards."""
    path = _path(directory, name)
    stored = _read(path)
    state = dict(stored.get("state", {}))
    old = state.get("watermark")
    if watermark is not None and (old is None or int(watermark) > int(old)):
        state["watermark"] = int(watermark)
    state.update({"last_export_rows": int(rows), "last_export_at": datetime.now(UTC).isoformat(timespec="seconds")})
    if output is not None:
        state["last_export_output"] = str(output)
    stored["state"] = state
    _write_atomic(path, stored)


def list_sources(directory: str | Path) -> list[str]:
    """Names of the saved sources, sorted."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if not p.name.startswith("."))


def delete_source(directory: str | Path, name: str) -> None:
    _path(directory, name).unlink(missing_ok=True)
    _secret_path(directory, name).unlink(missing_ok=True)
