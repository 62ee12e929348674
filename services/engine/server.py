"""HTTP transport: one port serving the three Personalize APIs, as AWS's endpoints do.

personalize         POST /  with X-Amz-Target: AmazonPersonalize.<Operation>  (JSON 1.1)
personalize-runtime POST /recommendations, /personalize-ranking                 (rest-json)
personalize-events  POST /events, /users, /items                                (rest-json)

Errors are sent as AWS sends them: a 4xx with `{"__type": <code>, "message": ...}` (and the
x-amzn-ErrorType header for rest-json), so boto3 raises its modelled exception classes. Nothing a
client sends (a malformed request line, a lying Content-Length, a body that is not JSON, an unknown
method or path) may end in a 500 or a connection dropped without an answer: the transport answers
those itself before the domain is reached.

By default the engine binds 127.0.0.1 and trusts whoever can reach it. A shared engine can require
one access key id (`--access-key`): requests whose SigV4 Authorization header names another key get
403, as AWS answers an unknown key. The signature itself is not verified (the engine does not know
the secret), so this keeps honest clients apart; it is not a defence against a hostile one.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import socket
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from . import responses
from .backend import PersonalizeBackend
from .errors import (
    LengthRequiredException,
    MissingAuthenticationTokenException,
    PersonalizeError,
    RequestEntityTooLargeException,
    RouteNotFoundException,
    SerializationException,
    UnknownOperationException,
    UnrecognizedClientException,
)

log = logging.getLogger("personalize-engine")
MAX_BODY = 5 * 1024 * 1024
# A too-large body is read and thrown away up to this size so that the client, still sending, sees
# the 413 instead of a reset connection; past it the connection is simply closed after the answer.
MAX_DRAIN = 64 * 1024 * 1024
# Idle keep-alive connections and stalled bodies give their thread back after this many seconds.
SOCKET_TIMEOUT = 60
TARGET_PREFIX = "AmazonPersonalize."
# Errors the runtime/events APIs model with their own HTTP status (botocore's error shapes).
REST_STATUS = {"ResourceNotFoundException": 404, "ResourceInUseException": 409}
JSON_11 = "application/x-amz-json-1.1"
_DIGITS = re.compile(r"[0-9]{1,18}")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_REQUEST_ID = "00000000-0000-0000-0000-000000000000"
# Request paths that are already just a path (urlparse would return them unchanged).
_PLAIN_PATHS = frozenset({"/"} | {path for _, path in responses.REST_ROUTES})
_DATE_CACHE: list[tuple[int, str]] = [(-1, "")]  # (second, its Date header)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
    raise ValueError(f"{name} is not a valid JSON value")


def decode_json(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, >4300-digit ints, nesting
        raise SerializationException(f"The request body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object.")
    return body


def access_key_of(authorization: str) -> str | None:
    """The access key id a SigV4 `Authorization` header names, if any."""
    if not authorization.startswith("AWS4-HMAC-SHA256"):
        return None
    match = _CREDENTIAL.search(authorization)
    return match.group(1) if match else None


class EngineServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], backend: PersonalizeBackend,
                 access_key: str | None = None) -> None:
        super().__init__(address, Handler)
        self.backend = backend
        self.access_key = access_key or None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request is its own business; anything else is worth a log line.
        log.debug("connection from %s ended with an error:\n%s", client_address, traceback.format_exc())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses connections
    server: EngineServer
    server_version = "personalize-engine"
    timeout = SOCKET_TIMEOUT

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def __getattr__(self, name: str) -> Any:
        # Any method other than GET/POST (PUT, DELETE, PATCH, OPTIONS, or a made-up one) gets an AWS-shaped
        # 404, not http.server's 501 HTML page.
        if name.startswith("do_"):
            return self._no_route
        raise AttributeError(name)

    # ------------------------------------------------------------------ answers
    def _send(self, status: int, body: dict, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", _REQUEST_ID)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body leave in one write: two small writes on a keep-alive connection meet Nagle's
        # algorithm and the client's delayed ACK, which costs ~40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    def _error(self, exc: PersonalizeError, rest: bool) -> None:
        status = REST_STATUS.get(exc.code, exc.status) if rest else exc.status
        body = {"__type": exc.code, "message": exc.message}
        self._send(status, body, "application/json" if rest else JSON_11, {"x-amzn-ErrorType": exc.code})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, huge headers, bad HTTP version), AWS-shaped."""
        self.close_connection = True
        if getattr(self, "request_version", "") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # answer junk with status and headers, not a bare body
        reason = message or self.responses.get(code, ("",))[0]
        error = SerializationException(f"The request could not be read: {reason}.")
        error.status = code if 400 <= code < 600 and code != 500 else 400
        with contextlib.suppress(OSError):  # the client is gone; nothing to tell it
            self._error(error, rest=False)

    # ------------------------------------------------------------------ requests
    def _drain(self, length: int) -> None:
        """Read and drop a refused body so the client finishes sending and reads our answer."""
        self.close_connection = True
        if length > MAX_DRAIN:
            return
        left = length
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # what follows on this connection is the unread body
            raise LengthRequiredException("Send the request body with a Content-Length, not chunked.")
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        if not _DIGITS.fullmatch(declared.strip()):
            self.close_connection = True
            raise SerializationException(f"The Content-Length header {declared[:40]!r} is not a byte count.")
        length = int(declared)
        if length > MAX_BODY:
            self._drain(length)
            raise RequestEntityTooLargeException(
                f"The request body is {length} bytes; the limit is {MAX_BODY} bytes."
            )
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            self.close_connection = True
            raise SerializationException(
                f"The request body ended after {len(raw)} of its {length} declared bytes."
            )
        return raw

    def _check_access(self) -> None:
        expected = self.server.access_key
        if expected is None:
            return
        header = self.headers.get("Authorization") or ""
        if not header:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        key = access_key_of(header)
        if key is None or not hmac.compare_digest(key.encode(), expected.encode()):
            raise UnrecognizedClientException("The security token included in the request is invalid.")

    def _discard_request(self, rest: bool) -> bool:
        """Read (and drop) the body of a request that will not be served; False if already answered."""
        try:
            self._read_body()
        except PersonalizeError as exc:
            self._error(exc, rest)
            return False
        return True

    def _no_route(self) -> None:
        if self._discard_request(rest=True):
            self._error(RouteNotFoundException(f"No operation at {self.command} {urlparse(self.path).path}."),
                        rest=True)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once per second rather than once per answer."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = int(time.time())
        second, text = _DATE_CACHE[0]
        if second != now:
            text = super().date_time_string(now)
            _DATE_CACHE[0] = (now, text)  # one tuple: a reader never pairs a second with another's text
        return text

    def do_POST(self) -> None:
        path = self.path if self.path in _PLAIN_PATHS else urlparse(self.path).path
        target = self.headers.get("X-Amz-Target", "")
        rest_route = responses.REST_ROUTES.get(("POST", path))
        rest = rest_route is not None and not target
        try:
            raw = self._read_body()
            self._check_access()
            params = decode_json(raw)
            if target:
                if not target.startswith(TARGET_PREFIX):
                    raise UnknownOperationException(f"Unknown target {target[:100]!r}.")
                service, operation = "personalize", target[len(TARGET_PREFIX):]
            elif rest_route is not None:
                service, operation = rest_route
            else:
                raise RouteNotFoundException(f"No operation at POST {path}.")
            result = responses.dispatch(self.server.backend, service, operation, params)
        except PersonalizeError as exc:
            self._error(exc, rest)
            return
        except (TimeoutError, ConnectionError):
            raise  # the client stalled or left: handle_one_request drops the connection
        except Exception:  # a fault of the engine itself: answer as AWS does for its own faults
            log.error("internal error on %s %s:\n%s", path, target, traceback.format_exc())
            self._send(500, {"__type": "InternalFailure", "message": "The engine hit an internal error."},
                       "application/json" if rest else JSON_11)
            return
        self._send(200, result, "application/json" if rest else JSON_11)

    def do_GET(self) -> None:
        """Engine extras, not part of AWS: health, and the recent events (AWS has no read-back)."""
        url = urlparse(self.path)
        backend = self.server.backend
        if not self._discard_request(rest=True):
            return
        try:
            if url.path in ("/", "/_engine/health"):
                body = {"engine": "personalize-engine", "status": "ok"}
                if self.server.access_key is None:  # a shared engine does not tell strangers its paths
                    body["dataDir"] = str(backend.data_dir)
                self._send(200, body, "application/json")
            elif url.path == "/_engine/events":
                self._check_access()
                query = parse_qs(url.query)
                group = (query.get("datasetGroupArn") or [""])[0]
                raw_limit = (query.get("limit") or ["100"])[0]
                if not _DIGITS.fullmatch(raw_limit):
                    raise SerializationException("limit must be a whole number.")
                limit = max(1, min(int(raw_limit), 1000))
                self._send(200, {"events": backend.recent_events(group, limit)}, "application/json")
            else:
                raise RouteNotFoundException(f"No resource at GET {url.path}.")
        except PersonalizeError as exc:
            self._error(exc, rest=True)

    do_HEAD = do_GET

