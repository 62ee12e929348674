"""HTTP transport: one port serving the three Personalize APIs, as AWS's endpoints do.

personalize         POST /  with X-Amz-Target: AmazonPersonalize.<Operation>  (JSON 1.1)
personalize-runtime POST /recommendations, /personalize-ranking                 (rest-json)
personalize-events  POST /events, /users, /items                                (rest-json)

Errors are sent as AWS sends them: a 4xx with `{"__type": <code>, "message": ...}` (and the
x-amzn-ErrorType header for rest-json), so boto3 raises its modelled exception classes.
"""

from __future__ import annotations

import json
import logging
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from . import responses
from .backend import PersonalizeBackend
from .errors import (
    PersonalizeError,
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
)

log = logging.getLogger("personalize-engine")
MAX_BODY = 5 * 1024 * 1024
TARGET_PREFIX = "AmazonPersonalize."
# Errors the runtime/events APIs model with their own HTTP status (botocore's error shapes).
REST_STATUS = {"ResourceNotFoundException": 404, "ResourceInUseException": 409}


class EngineServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], backend: PersonalizeBackend) -> None:
        super().__init__(address, Handler)
        self.backend = backend

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses connections
    server: EngineServer
    server_version = "personalize-engine"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: dict, content_type: str, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, exc: PersonalizeError, rest: bool) -> None:
        status = REST_STATUS.get(exc.code, exc.status) if rest else exc.status
        body = {"__type": exc.code, "message": exc.message}
        content_type = "application/json" if rest else "application/x-amz-json-1.1"
        self._send(status, body, content_type, {"x-amzn-ErrorType": exc.code})

    def _read_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise RequestEntityTooLargeException(f"The request body is over {MAX_BODY} bytes.")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SerializationException(f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise SerializationException("The request body must be a JSON object.")
        return body

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path = urlparse(self.path).path
        target = self.headers.get("X-Amz-Target", "")
        rest_route = responses.REST_ROUTES.get(("POST", path))
        rest = rest_route is not None and not target
        try:
            params = self._read_json()
            if target:
                if not target.startswith(TARGET_PREFIX):
                    raise UnknownOperationException(f"Unknown target {target!r}.")
                service, operation = "personalize", target[len(TARGET_PREFIX):]
            elif rest_route is not None:
                service, operation = rest_route
            else:
                raise UnknownOperationException(f"No operation at POST {path}.")
            result = responses.dispatch(self.server.backend, service, operation, params)
        except PersonalizeError as exc:
            self._error(exc, rest)
            return
        except Exception:  # never drop the connection: answer as AWS does for its own faults
            log.error("internal error on %s %s:\n%s", path, target, traceback.format_exc())
            self._send(500, {"__type": "InternalFailure", "message": "The engine hit an internal error."},
                       "application/x-amz-json-1.1")
            return
        self._send(200, result, "application/json" if rest else "application/x-amz-json-1.1")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """Engine extras, not part of AWS: health, and the recent events (AWS has no read-back)."""
        url = urlparse(self.path)
        backend = self.server.backend
        try:
            if url.path in ("/", "/_engine/health"):
                self._send(200, {"engine": "personalize-engine", "status": "ok",
                                 "dataDir": str(backend.data_dir)}, "application/json")
            elif url.path == "/_engine/events":
                query = parse_qs(url.query)
                group = (query.get("datasetGroupArn") or [""])[0]
                limit = int((query.get("limit") or ["100"])[0])
                self._send(200, {"events": backend.recent_events(group, max(1, min(limit, 1000)))},
                           "application/json")
            else:
                raise UnknownOperationException(f"No resource at GET {url.path}.")
        except PersonalizeError as exc:
            self._error(exc, rest=True)
        except ValueError:
            self._error(SerializationException("limit must be a number."), rest=True)
