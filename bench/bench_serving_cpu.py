"""CPU time of the engine's scoring path for one request, in process, on a shop the runtime benchmark
cached (`python -m bench.bench_runtime --scale`, or e.g. `--users 301` for a 150-item one).

    python -m bench.bench_serving_cpu [--shop runtime-50000x20000x1000000] [--calls 2000]

A copy of the cached engine data is loaded into this process; `runtime.recommend` is called for a
seeded sample of the shop's users (their events included, no filter) and its wall time, this thread's
CPU time and all threads' CPU time per call are printed with the load average. All threads counts work
a library hands to its own threads (implicit's OpenMP, BLAS), which the first figure would miss.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench.bench_runtime import CACHE, cached_shop_copy
from engine import runtime
from engine.backend import Backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shop", default="runtime-50000x20000x1000000", help=f"a directory in {CACHE}")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with cached_shop_copy(args.shop) as (work, shop):
        serving = Backend(work / "engine", region="us-east-1").serving
        serving.get_recommendations(campaign_arn=shop["campaign"], user_id=shop["users"][0])
        campaign, bundle, group = serving.campaign(shop["campaign"])
        users = random.Random(0).sample(shop["users"], min(500, len(shop["users"])))
        events = [serving.user_events(group, u) for u in users]
        for k in range(50):  # warm caches
            runtime.recommend(bundle, campaign, users[k % len(users)], None, 25, events[k % len(users)], None)
        wall, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
        for k in range(args.calls):
            runtime.recommend(bundle, campaign, users[k % len(users)], None, 25, events[k % len(users)], None)
        n = args.calls
        print(f"{args.shop} ({bundle.model.engine}): recommend {(time.perf_counter() - wall) / n * 1e3:.3f} ms wall, "
              f"{(time.thread_time() - thread) / n * 1e3:.3f} ms CPU this thread, "
              f"{(time.process_time() - process) / n * 1e3:.3f} ms CPU all threads; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
