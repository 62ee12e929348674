"""Mixed load with a retrain running: GetRecommendations and PutEvents from concurrent client
processes while a new solution version trains, then the campaign update. Loopback only.

    python -m bench.bench_load [--clients 8] [--seconds 20]

Prints zero-or-more errors, p50/p95/p99 per operation and the throughput; the reference is the same
clients' GetRecommendations latency on the idle engine, measured first in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from bench.engine_shop import LiveShop, build_shop, deploy, settle
from tests.engine_process import CREDENTIALS, EngineProcess

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
    while time.time() < start_at:
        time.sleep(0.001)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess.start(Path(tmp) / "engine")
        try:
            personalize = engine.client("personalize")
            shop = deploy(personalize, build_shop(personalize, Path(tmp), "bench-load", n_users=3_000,
                                                  n_items=1_000, n_interactions=100_000, seed=5), "bench-load")
            print(f"cpus: {os.cpu_count()}; shop: {len(shop.users)} users, {len(shop.items)} items, "
                  "100,000 interactions; recipe aws-user-personalization")
            idle = run_load(engine.url, shop, args.clients, min(5.0, args.seconds), events_share=0.0)
            print(f"reference: GetRecommendations only, idle engine, {args.clients} clients:")
            print(idle.summary())
            version = personalize.create_solution_version(solutionArn=shop.solution)["solutionVersionArn"]
            t0 = time.perf_counter()
            loaded = run_load(engine.url, shop, args.clients, args.seconds)
            trained = settle(lambda: personalize.describe_solution_version(solutionVersionArn=version),
                             "solutionVersion")
            print(f"mixed load (70% GetRecommendations, 30% PutEvents) with a retrain running "
                  f"(version {trained['status']} {time.perf_counter() - t0:.1f}s after it started):")
            print(loaded.summary())
            p50_ratio = pct(loaded.latencies["GetRecommendations"], .5) / pct(idle.latencies["GetRecommendations"], .5)
            print(f"GetRecommendations p50 under load+retrain / idle: {p50_ratio:.2f}x")
            for line in sorted(set(loaded.errors + idle.errors))[:10]:
                print("  error:", line)
        finally:
            engine.stop()


if __name__ == "__main__":
    main()
