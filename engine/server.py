"""HTTP transport: one port serving the three Personalize APIs, as AWS's endpoints do.

personalize         POST /  with X-Amz-Target: AmazonPersonalize.<Operation>  (JSON 1.1)
personalize-runtime POST /recommendations, /personalize-ranking                 (rest-json)
personalize-events  POST /events, /users, /items                                (rest-json)

Errors are sent as AWS sends them: a 4xx with `{"__type": <code>, "message": ...}` (and the
x-amzn-ErrorType header for rest-json), so boto3 raises its modelled exception classes. Nothing a
client sends (a malformed request line, a lying Content-Length, a body that is not JSON, an unknown
method or path) may end in a 500 or a connection dropped without an answer: the transport answers
those itself before the domain is reached.

One asyncio event loop owns every connection. GetRecommendations and GetPersonalizedRanking, the
calls a shop makes on every page view, are answered on the loop itself once their campaign's model,
events and filter are in memory: a thread per connection (http.server's model) spent more on handing
the GIL between threads than on scoring. Everything else (control plane, PutEvents, which write
files, and a campaign's first calls, which load from disk) runs on worker threads, and a connection
reads its next request only after the current one is answered, so answers keep their order.

Every request passes the browser checks of `engine.auth` (Host, Origin), and every API call must carry
a valid SigV4 signature made with the engine's key pair unless the engine was started with --no-auth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
import traceback
from concurrent.futures import Future
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson

from . import http11, responses
from .auth import BrowserCheck, SignatureCheck
from .backend import Backend
from .errors import (
    LengthRequiredException,
    PersonalizeError,
    RequestEntityTooLargeException,
    RouteNotFoundException,
    SerializationException,
    UnknownOperationException,
)
from .workers import DaemonPool

log = logging.getLogger("personalize-engine")
MAX_BODY = 5 * 1024 * 1024
# A too-large body is read and thrown away up to this size so that the client, still sending, sees
# the 413 instead of a reset connection; past it the connection is simply closed after the answer.
MAX_DRAIN = 64 * 1024 * 1024
# Idle keep-alive connections and stalled requests are closed after this many seconds.
SOCKET_TIMEOUT = 60
# Threads for the calls that may touch disk, started as needed; more than clients ever run at once.
WORKER_THREADS = 64
# On SIGTERM, calls still running get this long to answer before the engine exits without them.
SHUTDOWN_GRACE = 5.0
TARGET_PREFIX = "AmazonPersonalize."
# Errors the runtime/events APIs model with their own HTTP status (botocore's error shapes).
REST_STATUS = {"ResourceNotFoundException": 404, "ResourceInUseException": 409}
JSON_11 = "application/x-amz-json-1.1"
REST_JSON = "application/json"
_DIGITS = re.compile(r"[0-9]{1,18}")
# Request paths that are already just a path (urlparse would return them unchanged).
_PLAIN_PATHS = frozenset({"/"} | {path for _, path in responses.REST_ROUTES})
# Answered on the event loop when the backend has what they need in memory (see the module docstring).
_ON_LOOP = frozenset({"/recommendations", "/personalize-ranking"})
_SCORED = frozenset({"GetRecommendations", "GetPersonalizedRanking"})


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
    raise ValueError(f"{name} is not a valid JSON value")


# One decoder for every request: json.loads builds a new one per call whenever a hook is given.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _loads(raw: bytes) -> Any:
    """json.loads(raw, parse_constant=_reject_constant), step for step, on the shared decoder."""
    text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def decode_json(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        body = _loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, >4300-digit ints, nesting
        raise SerializationException(f"The request body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object.")
    return body


def encode_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def encode_scored(body: dict) -> bytes:
    """A recommendation or ranking answer. orjson writes the 25 scored items in a tenth of json.dumps's
    time; it is kept to these answers, whose scores are finite by construction (orjson would write
    NaN as null where json.dumps writes NaN, which botocore reads back)."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError: an integer past 64 bits, a lone surrogate in an id
        return encode_json(body)


def error_answer(exc: PersonalizeError, rest: bool, close: bool = False, head_only: bool = False) -> bytes:
    status = REST_STATUS.get(exc.code, exc.status) if rest else exc.status
    payload = encode_json({"__type": exc.code, "message": exc.message})
    return http11.answer(status, payload, REST_JSON if rest else JSON_11, {"x-amzn-ErrorType": exc.code},
                         close=close, head_only=head_only)


def unreadable(exc: http11.HttpError) -> bytes:
    """The answer to a request the framing refused (bad request line, huge head, HTTP/2 preface...)."""
    error = SerializationException(f"The request could not be read: {exc.reason}.")
    error.status = exc.status if 400 <= exc.status < 600 and exc.status != 500 else 400
    return error_answer(error, rest=False, close=True)


def body_length(request: http11.Request) -> int:
    """The declared body size. Refusals are answered on a connection that then closes: what follows
    a chunked or unreadable length cannot be framed."""
    headers = request.headers
    if "transfer-encoding" in headers:
        raise LengthRequiredException("Send the request body with a Content-Length, not chunked.")
    declared = headers.get("content-length")
    if declared is None:
        return 0
    if not _DIGITS.fullmatch(declared):
        raise SerializationException(f"The Content-Length header {declared[:40]!r} is not a byte count.")
    return int(declared)


def is_rest(request: http11.Request, path: str | None = None) -> bool:
    """Whether errors for this request take the rest-json form (runtime and events APIs); `path`: the
    target's path when the target carries more (a query, an absolute URL)."""
    return request.method != "POST" or (
        ("POST", path or request.target) in responses.REST_ROUTES and "x-amz-target" not in request.headers
    )


class EngineServer:
    """The listening socket, the event loop that serves it and the worker threads."""

    def __init__(self, address: tuple[str, int], backend: Backend, signatures: SignatureCheck | None,
                 browsers: BrowserCheck | None = None) -> None:
        """`signatures`: None only when the operator asked for no authentication (--no-auth)."""
        self.backend = backend
        self.signatures = signatures
        self.browsers = browsers or BrowserCheck(address[0])
        # One IPv4 socket, as http.server bound: `server_address[0]` is the address clients use.
        sock = socket.create_server(address, backlog=128)
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self.loop = asyncio.new_event_loop()
        self.workers = DaemonPool(WORKER_THREADS, "engine-request")
        self.connections: set[Connection] = set()
        self._closing = False  # serve_forever has returned: server_close is giving calls their grace
        self._grace_over = False
        self._server = self.loop.run_until_complete(
            self.loop.create_server(lambda: Connection(self), sock=sock)
        )

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.loop.run_forever()

    def shutdown(self) -> None:
        """Stop serve_forever; safe from any thread, from a signal handler, and more than once. Asked
        again while server_close waits for calls still running, it stops waiting."""
        if self._closing:
            self._grace_over = True
            return
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing left to stop
            self.loop.call_soon_threadsafe(self.loop.stop)

    @property
    def grace_over(self) -> bool:
        """Asked to stop a second time: whatever is still running is not waited for any more."""
        return self._grace_over

    def server_close(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop accepting, let calls still running answer for up to `grace` seconds, then drop the rest."""
        self._closing = True
        self._server.close()
        deadline = time.monotonic() + grace

        async def answered() -> None:
            while any(c.busy for c in self.connections) and time.monotonic() < deadline and not self._grace_over:
                await asyncio.sleep(0.02)

        self.loop.run_until_complete(answered())
        for connection in list(self.connections):
            connection.abort()
        self.workers.shutdown()
        self.loop.run_until_complete(self._server.wait_closed())
        self.loop.close()

    # ------------------------------------------------------------------ requests
    def respond_on_loop(self, request: http11.Request, body: bytes) -> bytes | None:
        """The answer to a runtime call, if it can be given without touching disk (see
        Backend.serves_from_memory); None sends the request to a worker thread."""
        try:
            params = decode_json(body)
        except SerializationException:
            return None  # the worker answers it, with the same error
        campaign, filter_arn = params.get("campaignArn"), params.get("filterArn")
        if (not isinstance(campaign, str) or not isinstance(filter_arn, str | None) or params.get("promotions")
                or not self.backend.serves_from_memory(campaign, filter_arn, bool(params.get("metadataColumns")))):
            return None
        return self.respond(request, body, params)

    def respond(self, request: http11.Request, body: bytes, params: dict | None = None) -> bytes:
        """The whole answer to one complete request (`params`: its body, already decoded). Never raises:
        faults become AWS's 500."""
        close = not request.keep_alive
        method = request.method
        head_only = method == "HEAD"
        amz_target = request.headers.get("x-amz-target", "")
        rest = is_rest(request)
        path = request.target
        try:
            self.browsers.verify(request.headers)
            if path not in _PLAIN_PATHS:
                try:
                    path = urlparse(request.target).path
                except ValueError as exc:  # e.g. "http://[x": not a URL at all
                    raise SerializationException(f"The request target {request.target[:100]!r} is not a URL.") from exc
                rest = is_rest(request, path)
            if method == "POST":
                rest_route = responses.REST_ROUTES.get(("POST", path))
                return self._post(request, path, amz_target, rest_route, body, params, rest, close)
            if method in ("GET", "HEAD"):
                return self._get(request, close, head_only)
            raise RouteNotFoundException(f"No operation at {method[:20]} {path[:200]}.")
        except PersonalizeError as exc:
            return error_answer(exc, rest, close, head_only)
        except Exception:  # a fault of the engine itself: answer as AWS does for its own faults
            log.error("internal error on %s %s %s:\n%s", method, path, amz_target, traceback.format_exc())
            payload = b'{"__type":"InternalFailure","message":"The engine hit an internal error."}'
            return http11.answer(500, payload, REST_JSON if rest else JSON_11, close=close, head_only=head_only)

    def _check_access(self, request: http11.Request, body: bytes) -> None:
        if self.signatures is not None:
            self.signatures.verify(request.method, request.target, request.headers, body)

    def _post(self, request: http11.Request, path: str, amz_target: str, rest_route: tuple[str, str] | None,
              body: bytes, params: dict | None, rest: bool, close: bool) -> bytes:
        self._check_access(request, body)
        if params is None:
            params = decode_json(body)
        if amz_target:
            if not amz_target.startswith(TARGET_PREFIX):
                raise UnknownOperationException(f"Unknown target {amz_target[:100]!r}.")
            service, operation = "personalize", amz_target[len(TARGET_PREFIX):]
        elif rest_route is not None:
            service, operation = rest_route
        else:
            raise RouteNotFoundException(f"No operation at POST {path[:200]}.")
        result = responses.dispatch(self.backend, service, operation, params)
        payload = encode_scored(result) if operation in _SCORED else encode_json(result)
        return http11.answer(200, payload, REST_JSON if rest else JSON_11, close=close)

    def _get(self, request: http11.Request, close: bool, head_only: bool) -> bytes:
        """Engine extras, not part of AWS: health, and the recent events (AWS has no read-back)."""
        url = urlparse(request.target)
        if url.path in ("/", "/_engine/health"):
            body: dict[str, Any] = {"engine": "personalize-engine", "status": "ok"}
            if self.signatures is None:  # unauthenticated callers learn no paths of a guarded engine
                body["dataDir"] = str(self.backend.data_dir)
        elif url.path == "/_engine/events":
            self._check_access(request, b"")
            query = parse_qs(url.query)
            group = (query.get("datasetGroupArn") or [""])[0]
            raw_limit = (query.get("limit") or ["100"])[0]
            if not _DIGITS.fullmatch(raw_limit):
                raise SerializationException("limit must be a whole number.")
            limit = max(1, min(int(raw_limit), 1000))
            body = {"events": self.backend.recent_events(group, limit)}
        else:
            raise RouteNotFoundException(f"No resource at GET {url.path[:200]}.")
        return http11.answer(200, encode_json(body), REST_JSON, close=close, head_only=head_only)


class Connection(asyncio.Protocol):
    """One client connection: frames requests, answers them in order, closes when told or idle."""

    def __init__(self, server: EngineServer) -> None:
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: tuple[http11.Request, int] | None = None  # a parsed head waiting for its body
        self.busy = False  # a request is on a worker thread
        self.write_paused = False
        self.closing = False  # the last answer said Connection: close
        self.eof = False
        self.discard = 0  # bytes of a refused body still to read and drop before closing
        self.last_active = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # create_server hands a Transport
        self.server.connections.add(self)
        self.last_active = self.loop.time()
        self.idle_timer = self.loop.call_later(SOCKET_TIMEOUT, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        if self.idle_timer is not None:
            self.idle_timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        if self.discard:
            self.discard = max(0, self.discard - len(data))
            if not self.discard:
                self.close()
            return
        if self.closing:
            return
        self.buffer += data
        self._serve_buffer()

    def eof_received(self) -> bool:
        self.eof = True
        if self.busy:
            return True  # keep the socket to send the answer being computed; closed after it
        self._answer_leftovers()
        return False  # the transport closes, after sending what was written

    def pause_writing(self) -> None:
        # A client that does not read its answers gets no more of them, and is not read from either.
        self.write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is not None and not self.busy:
            self.transport.resume_reading()
            self._serve_buffer()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once, unsent answers included (the engine is stopping)."""
        if self.transport is not None:
            self.transport.abort()

    # ------------------------------------------------------------------ framing
    def _serve_buffer(self) -> None:
        while not (self.busy or self.closing or self.write_paused) and self.transport is not None:
            if self.pending is None:
                while self.buffer[:2] == b"\r\n":  # stray line ends between requests are allowed
                    del self.buffer[:2]
                end = self.buffer.find(http11.HEAD_END)
                if end < 0:
                    refusal = http11.head_too_long(self.buffer) or http11.bare_line_feeds(self.buffer)
                    if refusal is not None:
                        self._write(unreadable(refusal), close=True)
                    return
                head = bytes(self.buffer[:end])
                del self.buffer[:end + 4]
                try:
                    request = http11.parse_head(head)
                    length = body_length(request)
                except http11.HttpError as exc:
                    self._write(unreadable(exc), close=True)
                    return
                except PersonalizeError as exc:
                    self._write(error_answer(exc, is_rest(request), close=True), close=True)
                    return
                if length > MAX_BODY:
                    self._refuse_body(request, length)
                    return
                self.pending = (request, length)
                if length > len(self.buffer) and request.headers.get("expect", "").lower() == "100-continue":
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request, length = self.pending
            if len(self.buffer) < length:
                return
            body = bytes(self.buffer[:length])
            del self.buffer[:length]
            self.pending = None
            answer = None
            if request.method == "POST" and request.target in _ON_LOOP and "x-amz-target" not in request.headers:
                answer = self.server.respond_on_loop(request, body)
            if answer is not None:
                self._write(answer, close=not request.keep_alive)
            else:
                self._off_loop(request, body)

    def _off_loop(self, request: http11.Request, body: bytes) -> None:
        assert self.transport is not None
        self.busy = True
        self.transport.pause_reading()
        try:
            future = self.server.workers.submit(self.server.respond, request, body)
        except RuntimeError:  # stopping: no worker takes new calls
            future = Future()
            future.set_exception(RuntimeError("stopping"))
            self._answered(future, request)
            return

        def done(finished: Future) -> None:  # on the worker thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: the engine stopped meanwhile
                self.loop.call_soon_threadsafe(self._answered, finished, request)

        future.add_done_callback(done)

    def _answered(self, future: Future, request: http11.Request) -> None:
        self.busy = False
        if self.transport is None:
            return  # the client left while its request was served
        try:
            data = future.result()
        except Exception:  # respond() answers its own faults; this is the pool refusing (shutting down)
            data = http11.answer(500, b'{"__type":"InternalFailure","message":"The engine is stopping."}',
                                 JSON_11, close=True)
            request = request._replace(keep_alive=False)
        self._write(data, close=not request.keep_alive)
        if self.transport is None or self.closing:
            return
        if not self.write_paused:
            self.transport.resume_reading()
        self._serve_buffer()
        if self.eof and not self.busy:
            self._answer_leftovers()
            self.close()

    def _answer_leftovers(self) -> None:
        """The client stopped sending: answer a request it left unfinished."""
        if self.closing:
            return
        if self.pending is not None:
            request, length = self.pending
            error = SerializationException(
                f"The request body ended after {len(self.buffer)} of its {length} declared bytes.")
            self._write(error_answer(error, is_rest(request), close=True), close=True)
        elif self.buffer.strip(b"\r\n"):
            self._write(unreadable(http11.HttpError(400, "the request ended inside its head")), close=True)

    def _refuse_body(self, request: http11.Request, length: int) -> None:
        """413, then read and drop the rest of the body (up to MAX_DRAIN) so that the client, still
        sending, reads the answer rather than a reset connection."""
        error = RequestEntityTooLargeException(f"The request body is {length} bytes; the limit is {MAX_BODY} bytes.")
        left = length - len(self.buffer)
        if not self.buffer and request.headers.get("expect", "").lower() == "100-continue":
            left = 0  # no 100 Continue was sent: the client sends no body, there is nothing to wait for
        self.discard = left if 0 < left <= MAX_DRAIN else 0
        self._write(error_answer(error, is_rest(request), close=True), close=True)

    def _write(self, data: bytes, close: bool) -> None:
        """Send an answer; `close` answers (which say Connection: close) end the connection after it."""
        if self.transport is None:
            return
        self.transport.write(data)
        self.last_active = self.loop.time()  # idle from the answer on, not from the request's last byte
        if close:
            self.closing = True
            self.buffer.clear()
            if not self.discard:
                self.transport.close()

    def _check_idle(self) -> None:
        if self.transport is None:
            return
        idle = self.loop.time() - self.last_active
        if idle >= SOCKET_TIMEOUT and not self.busy:
            self.transport.close()
            return
        self.idle_timer = self.loop.call_later(max(1.0, SOCKET_TIMEOUT - idle), self._check_idle)
