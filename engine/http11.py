"""The HTTP/1.1 framing the engine speaks: a strict request-head parser and the answer's bytes.

Strict on purpose. AWS SDKs send plain HTTP/1.1 requests with a Content-Length; anything else
(obsolete line folding, a second Content-Length, a version from the future, junk where a method
should be) is refused with a reason instead of guessed at, and chunked bodies are refused by the
server (411) because Personalize's APIs never need them. The limits are http.server's: 64 KiB for
the request line (414 above it), 100 header fields and 64 KiB of header section (431 above them).

Pure functions over bytes, no sockets: the asyncio server in `server.py` feeds them, and the tests
can reach every refusal through a raw socket.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from typing import NamedTuple

MAX_REQUEST_LINE = 65536
MAX_HEADER_BYTES = 65536
MAX_HEADERS = 100
HEAD_END = b"\r\n\r\n"
REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 411: "Length Required", 413: "Content Too Large", 414: "URI Too Long",
    429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
    505: "HTTP Version Not Supported",
}
# RFC 9110 tokens (methods, header names) and the request-target's visible ASCII.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")
_FIELD = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*"
_FIELDS = re.compile(_FIELD + rb"(?:\r\n" + _FIELD + rb")*")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_DATE: list[tuple[int, bytes]] = [(-1, b"")]  # (second, its Date header line); one tuple, swapped whole
# Every answer carries its own request id, as AWS's do (boto3 reads it into ResponseMetadata.RequestId, for
# errors too: the JSON protocols put it in this header, not in the error body). A random per-process prefix
# and a counter give unique UUID-shaped ids without an os.urandom call per answer on the serving hot path.
_REQUEST_ID_PREFIX = b"x-amzn-RequestId: " + str(uuid.uuid4())[:24].encode()
_REQUEST_COUNTER = itertools.count(1)  # next() on a count is atomic under the GIL


class HttpError(Exception):
    """A request that cannot be read; `status` is the 4xx/5xx to answer with before closing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Request(NamedTuple):
    method: str
    target: str
    headers: dict[str, str]  # lower-cased names
    keep_alive: bool


def head_too_long(buffer: bytes | bytearray) -> HttpError | None:
    """For a head still without its blank line: the refusal if it has already grown past the limits."""
    line_end = buffer.find(b"\r\n")
    if (line_end < 0 and len(buffer) > MAX_REQUEST_LINE) or line_end > MAX_REQUEST_LINE:
        return HttpError(414, "the request line is longer than 65536 bytes")
    if len(buffer) > MAX_REQUEST_LINE + MAX_HEADER_BYTES:
        return HttpError(431, "the header section is longer than 65536 bytes")
    return None


def bare_line_feeds(buffer: bytes | bytearray) -> HttpError | None:
    """For a head still without its CRLF blank line: the refusal if it ended with bare line feeds, which
    would otherwise leave the client waiting for an answer to a request the server never sees end."""
    # Called only while the buffer has no CRLF CRLF, so "\n\r\n" can only follow a bare LF.
    if b"\n\n" in buffer or b"\n\r\n" in buffer:
        return HttpError(400, "the request's lines must end with CRLF, not a bare LF")
    return None


def parse_head(head: bytes) -> Request:
    """Parse a request head (request line and header fields, without the final blank line)."""
    line, _, fields = head.partition(b"\r\n")
    if len(line) > MAX_REQUEST_LINE:
        raise HttpError(414, "the request line is longer than 65536 bytes")
    if len(fields) > MAX_HEADER_BYTES:
        raise HttpError(431, "the header section is longer than 65536 bytes")
    parts = line.split(b" ")
    if len(parts) != 3:
        raise HttpError(400, "the request line is not 'METHOD target HTTP/1.1'")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise HttpError(400, "the request method is not a token")
    if not _TARGET.fullmatch(target):
        raise HttpError(400, "the request target has spaces or control characters")
    match = _VERSION.fullmatch(version)
    if match is None:
        raise HttpError(400, f"{version[:20].decode('latin-1')!r} is not an HTTP version")
    if match.group(1) != b"1":
        raise HttpError(505, "only HTTP/1.x is spoken here")
    headers: dict[str, str] = {}
    if fields:
        lines = fields.split(b"\r\n")
        if len(lines) > MAX_HEADERS:
            raise HttpError(431, f"more than {MAX_HEADERS} header fields")
        if _FIELDS.fullmatch(fields) is None:  # one regex for the whole section; the loop below says where
            raise _field_error(lines)
        for raw in lines:
            name, _, value = raw.partition(b":")
            key = name.decode("ascii").lower()
            text = value.strip(b" \t").decode("latin-1")
            if key in headers:
                if key in ("content-length", "host", "transfer-encoding"):
                    raise HttpError(400, f"the {name.decode()} header is given twice")
                text = f"{headers[key]}, {text}"
            headers[key] = text
    connection = headers.get("connection", "").lower()
    # HTTP/1.0 closes after each answer unless asked not to; HTTP/1.1 keeps the connection unless asked to close.
    keep_alive = "keep-alive" in connection if match.group(2) == b"0" else "close" not in connection
    return Request(method.decode("ascii"), target.decode("latin-1"), headers, keep_alive)


def _field_error(lines: list[bytes]) -> HttpError:
    for raw in lines:
        name, colon, _ = raw.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or b"\r" in raw or b"\n" in raw:
            # Also obsolete line folding (a line starting with a space) and bare CR or LF line ends.
            return HttpError(400, f"the header line {raw[:40].decode('latin-1')!r} is not 'Name: value'")
    return HttpError(400, "the header section is not 'Name: value' lines")


def date_header() -> bytes:
    """`Date: ...` for this second, formatted once a second rather than once an answer."""
    now = int(time.time())
    second, line = _DATE[0]
    if second != now:
        line = b"Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)).encode() + b"\r\n"
        _DATE[0] = (now, line)
    return line


def answer(status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None,
           close: bool = False, head_only: bool = False) -> bytes:
    """Status line, headers and body in one buffer: one write, so Nagle's algorithm never meets the
    client's delayed ACK (two small writes cost ~40 ms a request on a keep-alive connection)."""
    parts = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n".encode(),
        b"Server: personalize-engine\r\n",
        date_header(),
        f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n".encode(),
        b"%s%012x\r\n" % (_REQUEST_ID_PREFIX, next(_REQUEST_COUNTER) & 0xFFFFFFFFFFFF),
    ]
    for key, value in (headers or {}).items():
        parts.append(f"{key}: {value}\r\n".encode("latin-1"))
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    if not head_only:
        parts.append(payload)
    return b"".join(parts)
