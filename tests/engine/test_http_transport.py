"""The engine's HTTP/1.1 framing: the strict head parser on its own, then the asyncio transport over a
raw socket (pipelined requests keep their order across the loop and the worker threads, HTTP/1.0,
100-continue, split writes, HEAD, half-sent requests). Malformed requests and body limits are in
test_bad_input.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine import http11
from tests.support.engine_process import EngineProcess, wait_for
from tests.support.signing import sign_raw

LIST_SCHEMAS = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonPersonalize.ListSchemas\r\n"
                b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}")
UNKNOWN_CAMPAIGN = json.dumps({"campaignArn": "arn:aws:personalize:us-east-1:000000000000:campaign/none",
                               "userId": "u1"}).encode()
RECOMMEND = (b"POST /recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: " + str(len(UNKNOWN_CAMPAIGN)).encode() + b"\r\n\r\n" + UNKNOWN_CAMPAIGN)
HEALTH = b"GET /_engine/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


# ---------------------------------------------------------------- the parser
def test_parse_head_reads_what_sdks_send() -> None:
    request = http11.parse_head(b"POST /recommendations HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n"
                                b"Content-Type:application/json\r\nX-Amz-Date:  20261129T000000Z \t\r\n"
                                b"Accept: a\r\nAccept: b\r\nContent-Length: 17")
    assert request.method == "POST" and request.target == "/recommendations"
    assert request.headers == {"host": "127.0.0.1:8765", "content-type": "application/json",
                               "x-amz-date": "20261129T000000Z", "accept": "a, b", "content-length": "17"}
    assert request.keep_alive


@pytest.mark.parametrize("head, keep_alive", [
    (b"GET / HTTP/1.1", True),
    (b"GET / HTTP/1.1\r\nConnection: close", False),
    (b"GET / HTTP/1.1\r\nConnection: Keep-Alive, Close", False),
    (b"GET / HTTP/1.0", False),
    (b"GET / HTTP/1.0\r\nConnection: keep-alive", True),
])
def test_keep_alive_follows_the_version_and_connection_header(head: bytes, keep_alive: bool) -> None:
    assert http11.parse_head(head).keep_alive is keep_alive


@pytest.mark.parametrize("head, status, fragment", [
    (b"GET /", 400, "request line"),
    (b"GET  / HTTP/1.1", 400, "request line"),
    (b"G(T / HTTP/1.1", 400, "method"),
    (b"GET /\x01 HTTP/1.1", 400, "target"),
    (b"GET / HTTX/1.1", 400, "HTTP version"),
    (b"GET / HTTP/2.0", 505, "HTTP/1.x"),
    (b"GET / HTTP/1.1\r\n folded: value", 400, "folded"),
    (b"GET / HTTP/1.1\r\nNo colon here", 400, "No colon"),
    (b"GET / HTTP/1.1\r\nA: b\nC: d", 400, "Name: value"),
    (b"GET / HTTP/1.1\r\nBad Name: v", 400, "Bad Name"),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2", 400, "twice"),
    (b"GET / HTTP/1.1\r\n" + b"\r\n".join(b"H%d: v" % i for i in range(101)), 431, "header fields"),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1", 414, "request line"),
    (b"GET / HTTP/1.1\r\nBig: " + b"v" * 70_000, 431, "header section"),
])
def test_parse_head_refuses_with_a_reason(head: bytes, status: int, fragment: str) -> None:
    with pytest.raises(http11.HttpError) as refused:
        http11.parse_head(head)
    assert refused.value.status == status
    assert fragment in refused.value.reason


def test_unfinished_heads_are_refused_once_past_the_limits() -> None:
    assert http11.head_too_long(b"GET /" + b"a" * 1000) is None
    assert http11.head_too_long(b"GET /" + b"a" * 70_000).status == 414
    assert http11.head_too_long(b"GET / HTTP/1.1\r\nBig: " + b"v" * 140_000).status == 431


def test_answers_are_one_buffer_with_length_and_close() -> None:
    data = http11.answer(404, b'{"a":1}', "application/json", {"x-amzn-ErrorType": "X"}, close=True)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 404 Not Found" and body == b'{"a":1}'
    assert b"Content-Length: 7" in lines and b"Connection: close" in lines and b"x-amzn-ErrorType: X" in lines
    assert any(line.startswith(b"Date: ") and line.endswith(b" GMT") for line in lines)
    assert http11.answer(200, b"{}", "application/json", head_only=True).endswith(b"\r\n\r\n")


# ---------------------------------------------------------------- the transport
class RawClient:
    """A keep-alive socket that reads answers one at a time, framed by their Content-Length."""

    def __init__(self, engine: EngineProcess) -> None:
        url = urlparse(engine.url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=30)
        self.pending = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.pending += chunk
        return bool(chunk)

    def answer(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.pending:
            assert self._fill(), f"connection closed before an answer; got {self.pending[:200]!r}"
        head, _, self.pending = self.pending.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = 0 if head_only else int(headers.get("content-length", "0"))
        while len(self.pending) < length:
            assert self._fill(), "connection closed inside a body"
        body, self.pending = self.pending[:length], self.pending[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """True once the server has closed its side (everything it sent already read)."""
        return not self.pending and not self._fill()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def raw_client(engine: EngineProcess):
    client = RawClient(engine)
    yield client
    client.close()


@pytest.fixture(scope="module")
def warm_recommend(personalize, personalize_runtime, tmp_path_factory) -> bytes:
    """A GetRecommendations request for a campaign already answered once: it is answered on the loop."""
    from tests.support.engine_shop import build_shop, deploy

    shop = deploy(personalize, build_shop(personalize, tmp_path_factory.mktemp("transport"), "transport"),
                  "transport")
    personalize_runtime.get_recommendations(campaignArn=shop.campaign, userId=shop.users[0])
    body = json.dumps({"campaignArn": shop.campaign, "userId": shop.users[1]}).encode()
    return sign_raw(b"POST /recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def test_pipelined_requests_are_answered_in_order_across_the_loop_and_the_workers(raw_client, warm_recommend) -> None:
    # ListSchemas runs on a worker thread, the warm runtime call on the event loop: the loop's answer must
    # still come second, the cold one (a worker) third and the health check (a worker again) fourth.
    raw_client.send(sign_raw(LIST_SCHEMAS) + warm_recommend + sign_raw(RECOMMEND) + HEALTH)
    status, _, body = raw_client.answer()
    assert status == 200 and "schemas" in json.loads(body)
    status, _, body = raw_client.answer()
    assert status == 200 and len(json.loads(body)["itemList"]) == 25
    status, headers, body = raw_client.answer()
    assert status == 404 and json.loads(body)["__type"] == "ResourceNotFoundException"
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    status, _, body = raw_client.answer()
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_a_request_split_across_writes_and_stray_line_ends(raw_client) -> None:
    request = sign_raw(RECOMMEND)
    for piece in (request[:7], request[7:40], request[40:-5], request[-5:]):
        raw_client.send(piece)
    assert raw_client.answer()[0] == 404
    raw_client.send(b"\r\n\r\n" + HEALTH)  # empty lines between requests are tolerated (RFC 9112 2.2)
    assert raw_client.answer()[0] == 200


def test_http_1_0_closes_unless_asked_to_keep_alive(raw_client, engine: EngineProcess) -> None:
    raw_client.send(b"GET /_engine/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    status, headers, _ = raw_client.answer()
    assert status == 200 and "connection" not in headers
    raw_client.send(b"GET /_engine/health HTTP/1.0\r\n\r\n")
    status, headers, _ = raw_client.answer()
    assert status == 200 and headers["connection"] == "close"
    assert raw_client.closed()


def test_expect_100_continue_and_head(raw_client) -> None:
    raw_client.send(sign_raw(LIST_SCHEMAS.replace(b"Content-Length: 2\r\n",
                                                  b"Expect: 100-continue\r\nContent-Length: 2\r\n"))
                    [:-2])  # the head alone: the client waits for the interim answer before its body
    assert raw_client.answer(head_only=True)[0] == 100
    raw_client.send(b"{}")
    assert raw_client.answer()[0] == 200
    raw_client.send(b"HEAD /_engine/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, _ = raw_client.answer(head_only=True)
    assert status == 200 and int(headers["content-length"]) > 0
    raw_client.send(HEALTH)  # nothing of the HEAD answer's body was sent: the next answer starts clean
    assert raw_client.answer()[0] == 200


def test_a_half_sent_head_is_answered_when_the_client_stops(engine: EngineProcess) -> None:
    client = RawClient(engine)
    try:
        client.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        client.sock.shutdown(socket.SHUT_WR)
        status, headers, body = client.answer()
        assert status == 400 and json.loads(body)["__type"] == "SerializationException"
        assert "ended inside its head" in json.loads(body)["message"] and headers["connection"] == "close"
        assert client.closed()
    finally:
        client.close()


def test_clients_leaving_mid_request_do_not_disturb_the_next(engine: EngineProcess, warm_recommend) -> None:
    for _ in range(20):  # their answers are computed on the loop and on workers after they are gone
        client = RawClient(engine)
        client.send(sign_raw(LIST_SCHEMAS) + warm_recommend + sign_raw(RECOMMEND) + sign_raw(LIST_SCHEMAS))
        client.close()
    client = RawClient(engine)
    try:
        client.send(sign_raw(RECOMMEND) + warm_recommend + sign_raw(LIST_SCHEMAS))
        assert [client.answer()[0] for _ in range(3)] == [404, 200, 200]
    finally:
        client.close()
    assert engine.process.poll() is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_target_that_is_not_a_url_is_a_client_error(raw_client, method: str) -> None:
    raw_client.send(f"{method} http://[x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    status, headers, body = raw_client.answer(head_only=method == "HEAD")
    assert status == 400 and headers["x-amzn-errortype"] == "SerializationException"
    if method == "GET":
        assert "not a URL" in json.loads(body)["message"]
    raw_client.send(HEALTH)  # a HEAD answer carried no body: the connection is still in step
    assert raw_client.answer()[0] == 200


def test_bare_line_feeds_are_refused_at_once(raw_client) -> None:
    raw_client.send(b"GET /_engine/health HTTP/1.1\nHost: 127.0.0.1\n\n")
    status, headers, body = raw_client.answer()
    assert status == 400 and "CRLF" in json.loads(body)["message"] and headers["connection"] == "close"


def test_a_too_large_body_announced_with_100_continue_is_refused_without_waiting(raw_client) -> None:
    raw_client.sock.settimeout(5)  # the server must close at once: the client will not send that body
    raw_client.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonPersonalize.ListSchemas\r\n"
                    b"Expect: 100-continue\r\nContent-Length: 6291456\r\n\r\n")
    status, _, body = raw_client.answer()
    assert status == 413 and json.loads(body)["__type"] == "RequestEntityTooLargeException"
    assert raw_client.closed()


def test_worker_threads_do_not_hold_up_the_engine_exiting() -> None:
    """A call still running when the engine stops must not keep the process alive (daemon workers)."""
    import subprocess
    import sys
    import time

    script = ("import threading\nfrom engine.workers import DaemonPool\n"
              "pool = DaemonPool(4, 't')\nstarted = threading.Event()\n"
              "pool.submit(lambda: (started.set(), threading.Event().wait(60)))\n"
              "assert pool.submit(lambda x: x * 2, 21).result(timeout=10) == 42\n"
              "started.wait(10)\npool.shutdown()\n")
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], timeout=30)
    assert done.returncode == 0 and time.monotonic() - t0 < 20


def test_runtime_calls_stay_off_the_loop_until_their_data_is_in_memory(tmp_path) -> None:
    """The first call of a campaign (and of each filter on it) loads from disk, so it goes to a worker;
    once answered, calls are answered on the loop, until the campaign changes."""
    from engine.backend import Backend
    from tests.support.engine_shop import build_shop, deploy

    engine = EngineProcess.start(tmp_path / "engine")
    try:
        personalize = engine.client("personalize")
        shop = deploy(personalize, build_shop(personalize, tmp_path, "onloop"), "onloop")
    finally:
        engine.stop()
    backend = Backend(tmp_path / "engine", region="us-east-1")
    try:
        assert not backend.serves_from_memory(shop.campaign, None)
        backend.serving.get_recommendations(campaign_arn=shop.campaign, user_id=shop.users[0])
        assert backend.serves_from_memory(shop.campaign, None)
        assert not backend.serves_from_memory(shop.campaign, "arn:aws:personalize:us-east-1:000000000000:filter/x")
        assert not backend.serves_from_memory(shop.campaign.replace("onloop", "other"), None)
        # A filter is warm once used, until PutItems changes the item metadata it reads.
        filter_arn = backend.filters.create(name="onloop-no-toys", dataset_group_arn=shop.group,
                                            filter_expression='EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("toys")')
        wait_for(lambda: backend.store.peek(filter_arn)["status"], lambda status: status == "ACTIVE", timeout=30)
        backend.serving.get_recommendations(campaign_arn=shop.campaign, user_id=shop.users[0], filter_arn=filter_arn)
        assert backend.serves_from_memory(shop.campaign, filter_arn)
        backend.trackers.put_items(dataset_arn=shop.datasets["Items"],
                                   items=[{"itemId": shop.items[0], "properties": '{"categoryL1": "toys"}'}])
        assert not backend.serves_from_memory(shop.campaign, filter_arn)
        assert not backend.serves_from_memory(shop.campaign, None, needs_items=True)
        assert backend.serves_from_memory(shop.campaign, None)  # what it reads did not change
        backend.serving.get_recommendations(campaign_arn=shop.campaign, user_id=shop.users[0], filter_arn=filter_arn)
        assert backend.serves_from_memory(shop.campaign, filter_arn)
        backend.campaigns.update(campaign_arn=shop.campaign, min_provisioned_tps=2)  # a new record: cold again
        assert not backend.serves_from_memory(shop.campaign, None)
    finally:
        backend.shutdown()


def test_a_runtime_path_with_a_query_still_answers_in_rest_json(raw_client) -> None:
    raw_client.send(sign_raw(RECOMMEND.replace(b"POST /recommendations ", b"POST /recommendations?debug=1 ")))
    status, headers, body = raw_client.answer()
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(body)["__type"] == "ResourceNotFoundException"
