"""The secret parts of a connection URI, found and masked.

A MongoDB URI can carry secrets in three places: the password of `user:password@` (which may contain
spaces or other characters its writer forgot to percent-encode), options that name a password, secret,
token or key passphrase (e.g. `tlsCertificateKeyFilePassword`), and `authMechanismProperties`, whose
value can hold an `AWS_SESSION_TOKEN`. All three are replaced by `***`; everything else (hosts,
database, harmless options) stays readable so a person can still recognise the source.
"""

from __future__ import annotations

import re

MASK = "***"
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*://)", re.IGNORECASE)
_SECRET_OPTION = re.compile(r"password|secret|token|passphrase|credential|authmechanismproperties|^key$",
                            re.IGNORECASE)
# A URI inside free text (an error message, a parameter): scheme to the first quote or the end of line.
_URI_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\n'\"]*", re.IGNORECASE)


def _split(uri: str) -> tuple[str, str, str, str] | None:
    """(scheme://, userinfo or "", the rest up to the query, query or "") or None when not a URI."""
    match = _SCHEME.match(uri)
    if not match:
        return None
    rest = uri[match.end():]
    # The query starts at the first "?" after the userinfo; the userinfo ends at the last "@" before
    # the path, so a password with an unencoded "@", ":" or space still counts as the password.
    slash = rest.find("/", rest.rfind("@") + 1)
    head_end = slash if slash >= 0 else rest.find("?", rest.rfind("@") + 1)
    head = rest if head_end < 0 else rest[:head_end]
    tail = "" if head_end < 0 else rest[head_end:]
    at = head.rfind("@")
    userinfo, hosts = (head[:at], head[at + 1:]) if at >= 0 else ("", head)
    path, _, query = tail.partition("?")
    return match.group(1), userinfo, hosts + path, query


def redact_uri(uri: str) -> str:
    """`uri` with every secret-bearing part replaced by `***` (unchanged if it has none)."""
    parts = _split(uri)
    if parts is None:
        return uri
    scheme, userinfo, middle, query = parts
    if userinfo:
        user, colon, _password = userinfo.partition(":")
        userinfo = f"{user}:{MASK}@" if colon else f"{user}@"
    options = []
    for option in query.split("&") if query else []:
        key, equals, value = option.partition("=")
        options.append(f"{key}={MASK}" if equals and value and _SECRET_OPTION.search(key) else option)
    return f"{scheme}{userinfo}{middle}" + (f"?{'&'.join(options)}" if query else "")


def has_secrets(uri: str) -> bool:
    return redact_uri(uri) != uri


def redact_text(text: str) -> str:
    """Every URI inside `text` redacted (for messages and audit parameters)."""
    return _URI_IN_TEXT.sub(lambda m: redact_uri(m.group(0)), text)
