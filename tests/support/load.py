"""Concurrent boto3 clients in their own processes: GetRecommendations and PutEvents against a live
engine, with latencies per operation and every error. Drives the load test and bench/bench_load.py."""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from tests.support.engine_process import CREDENTIALS
from tests.support.engine_shop import LiveShop

CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)


@dataclass
class LoadResult:
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"GetRecommendations": [], "PutEvents": []})
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def summary(self) -> str:
        lines = []
        for op, values in self.latencies.items():
            if values:
                lines.append(f"  {op:<18} n={len(values):>6}  p50 {pct(values, .5):6.2f} ms  "
                             f"p95 {pct(values, .95):6.2f} ms  p99 {pct(values, .99):6.2f} ms")
        lines.append(f"  throughput {self.requests / self.seconds:,.0f} req/s over {self.seconds:g}s; "
                     f"errors: {len(self.errors)}")
        return "\n".join(lines)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, config=CONFIG, **CREDENTIALS)


def _worker(url: str, campaign: str, tracking_id: str, users: list[str], items: list[str], start_at: float,
            seconds: float, seed: int, events_share: float, out: mp.Queue) -> None:
    runtime, events = _client(url, "personalize-runtime"), _client(url, "personalize-events")
    latencies: dict[str, list[float]] = {"GetRecommendations": [], "PutEvents": []}
    errors: list[str] = []
    k = seed
    time.sleep(max(0.0, start_at - time.time()))  # wait until the common start, so every client loads at once
    end = start_at + seconds
    while time.time() < end:
        k += 1
        user = users[(k * 7919) % len(users)]
        put = (k * 2654435761 % 1000) / 1000 < events_share
        t0 = time.perf_counter()
        try:
            if put:
                events.put_events(trackingId=tracking_id, userId=user, sessionId=f"s-{seed}-{k // 10}",
                                  eventList=[{"eventType": "click", "itemId": items[(k * 31) % len(items)],
                                              "sentAt": time.time()}])
            else:
                if not runtime.get_recommendations(campaignArn=campaign, userId=user)["itemList"]:
                    raise RuntimeError("empty recommendations")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies["PutEvents" if put else "GetRecommendations"].append(time.perf_counter() - t0)
    out.put((latencies, errors))


def run_load(url: str, shop: LiveShop, clients: int, seconds: float, events_share: float = 0.3) -> LoadResult:
    """`clients` processes (fork) hammering the engine for `seconds`; every call's latency kept."""
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()
    start_at = time.time() + 1.5
    procs = [ctx.Process(target=_worker, args=(url, shop.campaign, shop.tracking_id, shop.users, shop.items,
                                               start_at, seconds, i, events_share, out)) for i in range(clients)]
    for p in procs:
        p.start()
    result = LoadResult(seconds)
    for _ in procs:
        latencies, errors = out.get(timeout=seconds + 120)
        for op, values in latencies.items():
            result.latencies[op].extend(values)
        result.errors.extend(errors)
    for p in procs:
        p.join()
    return result
