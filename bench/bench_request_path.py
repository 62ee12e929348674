"""A whole GetRecommendations request through the engine's own connection code, in process, with and
without an idle gap before each request: the server's share of `bench_runtime`'s latency, without the
client, the socket and the other processes' noise.

    python -m bench.bench_request_path [--shop runtime-50000x20000x1000000] [--calls 1500] [--gap-ms 1]

boto3 signs each variant's requests (as `bench_runtime` sends them; captured before they are sent,
never sent) and their bytes are fed to `engine.server.Connection.data_received`, which frames, checks
the signature, decodes, validates, scores and writes the answer to a stand-in transport. The reference
is `bench_runtime`'s floor protocol fed the same bytes. Blocks of the two alternate.

Why the idle gap: a request costs the engine about twice as much when the server has been idle for a
millisecond (as it is between a client's requests) as back to back, where the CPU's caches and
predictors still hold the last request's code and data. The figure after a gap is the one that tracks
the engine's CPU time a request in `bench_runtime` (issue 16); back to back it is the best case.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse

from bench.bench_runtime import CACHE, VARIANTS, FloorProtocol, cached_shop_copy, requests_for
from engine.auth import SignatureCheck
from engine.backend import Backend
from engine.server import Connection, EngineServer
from tests.support.engine_process import ACCESS_KEY_ID, CREDENTIALS, SECRET_ACCESS_KEY


class Transport:
    """What Connection and FloorProtocol write to: the answers, kept until read."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class _Unsent:
    """The body of the answer boto3 gets instead of sending: the requests are only captured."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}

    def stream(self, **_: Any):
        yield b'{"itemList":[]}'


def signed_requests(calls: list[dict[str, Any]]) -> list[bytes]:
    """Each call's request as boto3 would put it on the wire (the headers urllib3 adds included)."""
    raw: list[bytes] = []

    def capture(request, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        headers = {"Host": url.netloc, "Accept-Encoding": "identity", **dict(request.headers),
                   "Content-Length": str(len(body))}
        head = "".join(f"{k}: {v.decode() if isinstance(v, bytes) else v}\r\n" for k, v in headers.items())
        raw.append(f"{request.method} {url.path} HTTP/1.1\r\n{head}\r\n".encode() + body)
        return AWSResponse(request.url, 200, {}, _Unsent())

    client = boto3.client("personalize-runtime", endpoint_url="http://127.0.0.1:9", **CREDENTIALS)
    client.meta.events.register("before-send", capture)
    for call in calls:
        client.get_recommendations(**call)
    return raw


def per_request(feed, requests: list[bytes], transport: Transport, gap: float) -> list[float]:
    """Wall seconds of each request, fed one at a time, `gap` seconds idle before each."""
    out = []
    for raw in requests:
        if gap:
            time.sleep(gap)
        t0 = time.perf_counter()
        feed(raw)
        out.append(time.perf_counter() - t0)
        transport.written.clear()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shop", default="runtime-50000x20000x1000000", help=f"a directory in {CACHE}")
    parser.add_argument("--calls", type=int, default=1500, help="requests per variant and mode")
    parser.add_argument("--gap-ms", type=float, default=1.0, help="idle time before each request")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    with cached_shop_copy(args.shop) as (work, shop):
        server = EngineServer(("127.0.0.1", 0), Backend(work / "engine", region="us-east-1"),
                              SignatureCheck(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
        try:
            engine_out, floor_out = Transport(), Transport()
            connection, floor = Connection(server), FloorProtocol()
            connection.connection_made(engine_out)  # type: ignore[arg-type]
            floor.connection_made(floor_out)  # type: ignore[arg-type]
            users = random.Random(0).sample(shop["users"], min(500, len(shop["users"])))
            print(f"{args.shop}: {len(users)} users, {args.calls} requests per variant and mode, "
                  f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            for variant in args.variants.split(","):
                requests = signed_requests(requests_for(shop["campaign"], users, variant, shop))
                for raw in requests[:50]:  # load the model and the filter, compile the loops
                    connection.data_received(raw)
                    while connection.busy:  # answered on a worker thread (the model was not loaded yet)
                        server.loop.run_until_complete(asyncio.sleep(0.001))
                    answer = engine_out.written[-1]
                    if not answer.startswith(b"HTTP/1.1 200"):
                        raise SystemExit(f"{variant}: the engine answered {answer[:300]!r}")
                    engine_out.written.clear()
                line = [f"{variant:>10}:"]
                for name, gap in (("back to back", 0.0), (f"after {args.gap_ms:g} ms idle", args.gap_ms / 1e3)):
                    engine: list[float] = []
                    floor_times: list[float] = []
                    blocks = 5
                    for b in range(blocks):  # interleaved: both see the same machine state
                        chunk = [requests[(b * args.calls // blocks + k) % len(requests)]
                                 for k in range(args.calls // blocks)]
                        engine += per_request(connection.data_received, chunk, engine_out, gap)
                        floor_times += per_request(floor.data_received, chunk, floor_out, gap)
                    e, f = statistics.median(engine), statistics.median(floor_times)
                    line.append(f"{name}: engine p50 {e * 1e6:.0f} µs, floor {f * 1e6:.0f} µs "
                                f"({e / f:.1f}×; engine − floor {(e - f) * 1e6:.0f} µs);")
                print(" ".join(line))
        finally:
            server.server_close(grace=0)


if __name__ == "__main__":
    main()
