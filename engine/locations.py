"""Reading and writing the data locations AWS accepts: `s3://bucket/key`, and on this engine also
`file:///absolute/path` inside the folders the operator allowed (`--allow-files`).

S3 goes through boto3, so `AWS_ENDPOINT_URL_S3` points it at any S3 server. A `file://` location is a
request to touch the engine host's disk on a caller's behalf, so it is held to the allowed roots: the
path is percent-decoded and resolved (`..`, symlinks) before the check, and checked again when the job
runs (the disk may have changed meanwhile). Only regular files are read (a FIFO or a device would
block or never end), up to a size cap; outputs are new files, never written through a symlink and
never over an existing file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import InvalidInputException

DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3
_CHUNK = 1024 * 1024


class LocationError(Exception):
    """A data location that cannot be read or written; the message is shown as a failureReason."""


def _s3():
    # Credentials may be dummies for a local S3 server; the engine does not need the caller's.
    return boto3.client("s3", config=Config(retries={"total_max_attempts": 2}))


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlsplit(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class Locations:
    """The `file://` policy of one engine (its allowed roots and size cap) and S3 access."""

    def __init__(self, roots: Sequence[str | Path] = (), max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.roots = tuple(dict.fromkeys(os.path.realpath(os.fspath(r)) for r in roots))
        self.max_file_bytes = max_file_bytes

    def _roots_text(self) -> str:
        if not self.roots:
            return "none: this engine was started without --allow-files, so it reads and writes no local files"
        return ", ".join(self.roots)

    def local_path(self, uri: str, field: str = "location") -> str:
        """The resolved path of a `file://` location inside an allowed root, else InvalidInputException.
        The message names the allowed roots and only the location the caller sent, never file content."""
        def refuse(why: str) -> InvalidInputException:
            return InvalidInputException(
                f"{field} {uri[:300]!r} is refused: {why}. Allowed file roots: {self._roots_text()}."
            )

        parsed = urlsplit(uri)
        if parsed.netloc not in ("", "localhost"):
            raise refuse("a file:// location names no host but localhost")
        if "?" in uri or "#" in uri:
            raise refuse("a file:// location has no query (?) or fragment (#)")
        try:
            path = unquote(parsed.path, errors="strict")
        except UnicodeDecodeError:
            raise refuse("its percent-encoding is not UTF-8") from None
        if not path.startswith("/") or "\x00" in path:
            raise refuse("it must be an absolute path (file:///absolute/path)")
        resolved = os.path.realpath(path)
        if not any(_inside(resolved, root) for root in self.roots):
            raise refuse("it resolves outside the allowed file roots")
        return resolved

    def check(self, uri: str, field: str) -> None:
        """Refuse, at Create* time, locations no job could ever use (as AWS validates the S3 path)."""
        parsed = urlsplit(uri)
        if parsed.scheme == "s3" and parsed.netloc:
            return
        if parsed.scheme != "file":
            raise InvalidInputException(
                f"{field} must be s3://bucket/key or file:///absolute/path, got {uri[:300]!r}."
            )
        path = self.local_path(uri, field)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return  # not there yet: an input fails when its job runs, an output folder is created
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise InvalidInputException(f"{field} {uri[:300]!r} is neither a regular file nor a folder.")

    def _run_path(self, uri: str) -> str:
        try:
            return self.local_path(uri)
        except InvalidInputException as exc:
            raise LocationError(exc.message) from None

    # -- reading -----------------------------------------------------------------------------
    def list_inputs(self, uri: str) -> list[str]:
        """A file location, or every object under a prefix / files in a folder (AWS imports folders)."""
        parsed = urlsplit(uri)
        if parsed.scheme == "file":
            path = Path(self._run_path(uri))
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
                if not files:
                    raise LocationError(f"The folder {path} holds no files to import.")
                return [p.as_uri() for p in files]
            if not path.exists():
                raise LocationError(f"No file at {path}. Check the path (it must be absolute).")
            return [path.as_uri()]
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

    def read_bytes(self, uri: str) -> bytes:
        if urlsplit(uri).scheme == "file":
            return self._read_file(self._run_path(uri))
        bucket, key = _split_s3(uri)
        try:
            body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
            data = body.read(self.max_file_bytes + 1)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise LocationError(f"{uri} does not exist ({code}).") from exc
            raise LocationError(f"Cannot read {uri}: {exc}") from exc
        except BotoCoreError as exc:
            raise LocationError(f"Cannot read {uri}: {exc}") from exc
        if len(data) > self.max_file_bytes:
            raise LocationError(f"{uri} is larger than this engine's limit of {self.max_file_bytes} bytes.")
        return data

    def _read_file(self, path: str) -> bytes:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise LocationError(f"Cannot read {path}: {exc.strerror}.") from exc
        with os.fdopen(fd, "rb", buffering=0) as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise LocationError(f"Cannot read {path}: only regular files are read (not a FIFO or device).")
            if info.st_size > self.max_file_bytes:
                raise LocationError(
                    f"{path} is {info.st_size} bytes, larger than this engine's limit of {self.max_file_bytes}."
                )
            chunks, total = [], 0
            while chunk := fh.read(min(_CHUNK, self.max_file_bytes + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > self.max_file_bytes:  # grew while read
                    raise LocationError(f"{path} is larger than this engine's limit of {self.max_file_bytes} bytes.")
            return b"".join(chunks)

    # -- writing -----------------------------------------------------------------------------
    def write_bytes(self, uri: str, data: bytes) -> None:
        if urlsplit(uri).scheme == "file":
            self._write_new_file(self._run_path(uri), data)
            return
        bucket, key = _split_s3(uri)
        try:
            _s3().put_object(Bucket=bucket, Key=key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise LocationError(f"Cannot write {uri}: {exc}") from exc

    def _write_new_file(self, path: str, data: bytes) -> None:
        """Write a new file, atomically, without following a symlink and without replacing anything:
        the data goes to a temporary name created with O_EXCL|O_NOFOLLOW in the (resolved) folder, then
        is hard-linked to its name, which fails if anything (file or symlink) is already there."""
        folder, name = os.path.split(path)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise LocationError(f"Cannot create the folder {folder}: {exc.strerror}.") from exc
        real_folder = os.path.realpath(folder)
        if real_folder != folder or not any(_inside(real_folder, root) for root in self.roots):
            raise LocationError(f"Cannot write {path}: its folder changed to lead outside the allowed file roots.")
        tmp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        dir_fd = os.open(real_folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                             dir_fd=dir_fd)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            except FileExistsError:
                raise LocationError(
                    f"Cannot write {path}: something already exists there; outputs are always new files."
                ) from None
            except OSError as exc:
                raise LocationError(f"Cannot write {path}: {exc.strerror or errno.errorcode.get(exc.errno)}.") from exc
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
