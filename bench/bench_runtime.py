"""GetRecommendations over loopback with boto3: latency against the transport's floor, and throughput.

    python -m bench.bench_runtime [--calls 2000] [--seconds 10] [--clients 8]

The floor is a trivial HTTP server (keep-alive, one asyncio loop in its own process: the engine's
transport model) that answers every request with a canned 25-item GetRecommendations response; the
same boto3 client setup calls both, so the ratio is what the engine adds on top of HTTP + boto3.
Targets: median ≤ 1.5× the floor; ≥ 1,000 requests/s from 8 concurrent client processes on
2 cores. Loopback only. The throughput runs also print the CPU time each request costs the server and
the boto3 clients: on 2 cores the clients' share decides how far any server can go.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.engine_process import CREDENTIALS, EngineProcess
from tests.support.engine_shop import build_shop, deploy

CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30, max_pool_connections=4)
CANNED = json.dumps({
    "itemList": [{"itemId": f"item-{i:05d}", "score": round(0.04 - i * 0.001, 7)} for i in range(25)],
    "recommendationId": "RID-00000000-0000-0000-0000-000000000000",
}, separators=(",", ":")).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(CANNED)).encode()
    + b"\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n\r\n" + CANNED
)


class FloorProtocol(asyncio.Protocol):
    """A trivial HTTP/1.1 keep-alive server: frames each request by its Content-Length and answers with
    the canned bytes. No parsing beyond that, no routing, no JSON: what any server must at least do."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(RESPONSE)  # one write for status, headers and body


def _serve_floor(conn: Connection) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(FloorProtocol, "127.0.0.1", 0))
    conn.send(server.sockets[0].getsockname()[1])
    loop.run_forever()


def start_floor() -> tuple[mp.Process, str]:
    """The floor in its own process, as the engine is: one asyncio loop, like the engine's transport."""
    parent, child = mp.get_context("fork").Pipe()
    process = mp.get_context("fork").Process(target=_serve_floor, args=(child,), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{parent.recv()}"


def runtime_client(url: str):
    return boto3.client("personalize-runtime", endpoint_url=url, config=CONFIG, **CREDENTIALS)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(url: str, campaign: str, users: list[str], calls: int) -> list[float]:
    client = runtime_client(url)
    for u in users[:20]:  # warm the connection and the engine's caches
        client.get_recommendations(campaignArn=campaign, userId=u)
    out = []
    for k in range(calls):
        t0 = time.perf_counter()
        client.get_recommendations(campaignArn=campaign, userId=users[k % len(users)])
        out.append(time.perf_counter() - t0)
    return out


def _worker(url: str, campaign: str, users: list[str], start_at: float, seconds: float, seed: int,
            results: mp.Queue) -> None:
    client = runtime_client(url)
    client.get_recommendations(campaignArn=campaign, userId=users[0])
    while time.time() < start_at:
        time.sleep(0.001)
    done = errors = 0
    k = seed
    end = start_at + seconds
    cpu = time.process_time()
    while time.time() < end:
        try:
            client.get_recommendations(campaignArn=campaign, userId=users[k % len(users)])
            done += 1
        except Exception:
            errors += 1
        k += 7
    results.put((done, errors, time.process_time() - cpu))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Throughput:
    rate: float  # requests a second over the window
    errors: int
    server_cpu_ms: float  # the server's CPU time per request
    client_cpu_ms: float  # one boto3 client's CPU time per request


def throughput(url: str, campaign: str, users: list[str], clients: int, seconds: float,
               server_pid: int) -> Throughput:
    ctx = mp.get_context("fork")
    results: mp.Queue = ctx.Queue()
    start_at = time.time() + 3.0  # every process has its client and connection before the clock starts
    procs = [ctx.Process(target=_worker, args=(url, campaign, users, start_at, seconds, i, results))
             for i in range(clients)]
    for p in procs:
        p.start()
    time.sleep(max(0.0, start_at - time.time()))
    server_cpu = cpu_seconds(server_pid)
    counts = [results.get(timeout=seconds + 60) for _ in procs]
    server_cpu = cpu_seconds(server_pid) - server_cpu  # idle again once the clients are done
    for p in procs:
        p.join()
    done = max(1, sum(c for c, _, _ in counts))
    return Throughput(sum(c for c, _, _ in counts) / seconds, sum(e for _, e, _ in counts),
                      server_cpu / done * 1e3, sum(t for _, _, t in counts) / done * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess.start(Path(tmp) / "engine")
        floor, floor_url = start_floor()
        try:
            personalize = engine.client("personalize")
            shop = deploy(personalize, build_shop(personalize, Path(tmp), "bench-runtime"), "bench-runtime")
            users = shop.users[:500]
            print(f"cpus: {os.cpu_count()}; campaign {shop.campaign} (aws-user-personalization, "
                  f"{len(shop.users)} users, {len(shop.items)} items)")
            engine_lat, floor_lat = [], []
            for _ in range(5):  # interleaved blocks: both see the same machine state
                engine_lat += latencies(engine.url, shop.campaign, users, args.calls // 5)
                floor_lat += latencies(floor_url, shop.campaign, users, args.calls // 5)
            em, fm = statistics.median(engine_lat), statistics.median(floor_lat)
            print(f"latency over {len(engine_lat)} sequential calls (ms): "
                  f"engine p50 {em * 1e3:.2f} p95 {percentile(engine_lat, .95) * 1e3:.2f} "
                  f"p99 {percentile(engine_lat, .99) * 1e3:.2f}; "
                  f"floor p50 {fm * 1e3:.2f} p95 {percentile(floor_lat, .95) * 1e3:.2f}")
            print(f"median ratio engine/floor: {em / fm:.2f}x (target <= 1.5x)")
            ours = throughput(engine.url, shop.campaign, users, args.clients, args.seconds, engine.process.pid)
            base = throughput(floor_url, shop.campaign, users, args.clients, args.seconds, floor.pid)
            print(f"throughput, {args.clients} client processes x {args.seconds:g}s: engine {ours.rate:,.0f} req/s "
                  f"({ours.errors} errors), floor {base.rate:,.0f} req/s; ratio {ours.rate / base.rate:.2f} "
                  f"(target >= 1,000 req/s)")
            # Where the two cores went: the server's CPU and the boto3 clients' CPU for each request.
            print(f"CPU a request (ms): engine {ours.server_cpu_ms:.3f} + clients {ours.client_cpu_ms:.3f}; "
                  f"floor {base.server_cpu_ms:.3f} + clients {base.client_cpu_ms:.3f}")
        finally:
            floor.kill()
            engine.stop()


if __name__ == "__main__":
    main()
