"""Mixed load with a retrain running: GetRecommendations and PutEvents from concurrent client
processes while a new solution version trains, then the campaign update. Loopback only.

    python -m bench.bench_load [--clients 8] [--seconds 20]

Prints zero-or-more errors, p50/p95/p99 per operation and the throughput; the reference is the same
clients' GetRecommendations latency on the idle engine, measured first in the same run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tests.support.engine_process import EngineProcess
from tests.support.engine_shop import build_shop, deploy, settle
from tests.support.load import pct, run_load


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
