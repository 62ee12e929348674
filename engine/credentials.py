"""The engine's key pair: given on the command line, or generated once into `<data-dir>/credentials`.

The file is an AWS shared-credentials file (profile `personalize-local`), so the AWS CLI and boto3 read
it as they read `~/.aws/credentials`: `AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials
AWS_PROFILE=personalize-local`. It is created owner-only (0600) with O_EXCL, so a file another user
planted is never trusted silently and two engines starting at once cannot both write it.
"""

from __future__ import annotations

import configparser
import os
import secrets
import stat
from pathlib import Path

PROFILE = "personalize-local"
FILE_NAME = "credentials"


class CredentialsError(RuntimeError):
    pass


def _generate() -> tuple[str, str]:
    # Shaped like AWS's own: 20 upper-case characters starting AKIA, and a 40-character secret.
    key_id = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    return key_id, secrets.token_urlsafe(30)


def read_pair(path: Path) -> tuple[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    if not parser.has_section(PROFILE):
        return None
    section = parser[PROFILE]
    key_id, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    return (key_id, secret) if key_id and secret else None


def engine_key_pair(data_dir: Path, key_id: str | None, secret: str | None) -> tuple[str, str, Path | None]:
    """(key id, secret, the file they came from or None when given). Generates the file on first start."""
    if key_id and secret:
        return key_id, secret, None
    path = data_dir / FILE_NAME
    if not path.exists():
        new_id, new_secret = _generate()
        text = (f"# The embedded Personalize engine's key pair; clients sign their requests with it.\n"
                f"[{PROFILE}]\naws_access_key_id = {new_id}\naws_secret_access_key = {new_secret}\n")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            pass  # made meanwhile; read below
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        raise CredentialsError(f"{path} is not a regular file owned by this user; remove it and start again.")
    if info.st_mode & 0o077:
        os.chmod(path, 0o600)  # the secret is for this user only
    pair = read_pair(path)
    if pair is None:
        raise CredentialsError(f"{path} has no [{PROFILE}] aws_access_key_id / aws_secret_access_key.")
    return pair[0], pair[1], path
