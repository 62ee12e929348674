"""The simulated shop's speed against a real engine, and the impact figures' computation on a large log.

    python -m bench.bench_simulation [--visits 2000] [--rows 1000000]

Part 1 starts an engine, builds the small demo shop (popularity-count and user-personalization
campaigns, an event tracker) and simulates `--visits` visits split between the two campaigns: it prints
visits/s and PutEvents events/s (each visit is one GetRecommendations call plus its PutEvents calls).
Part 2 times `impact_table` on a synthetic log of `--rows` rows (impressions, clicks and purchases).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.evaluation.impact import impact_table
from services.evaluation.simulation import Shoppers, simulate_day
from services.recommendations.events import ensure_tracker
from tests.support.engine_process import EngineProcess
from tests.support.shops import clients_for


def bench_simulator(visits: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess.start(Path(tmp) / "engine")
        try:
            clients = clients_for(engine.url)
            plan = DemoPlan.small(name="bench-sim")
            shop = create_demo_shop(clients, plan)
            tracker = ensure_tracker(clients.personalize, shop.dataset_group_arn, "bench-sim-tracker")
            arms = [shop.campaigns["aws-popularity-count"], shop.campaigns["aws-user-personalization"]]
            shoppers = Shoppers.from_demo(plan.shop())
            began = time.perf_counter()
            result = simulate_day(clients.runtime, clients.events, tracker.tracking_id, arms, shoppers, visits,
                                  seed=1, start=1_767_225_600.0)
            took = time.perf_counter() - began
        finally:
            engine.stop()
    print(f"simulator: {visits:,} visits, {result.events_sent:,} events, {result.calls:,} calls in {took:.1f} s: "
          f"{visits / took:,.0f} visits/s, {result.events_sent / took:,.0f} events/s, "
          f"{result.calls / took:,.0f} calls/s")


def synthetic_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """About `rows` rows: lists of 10 impressions by 2 campaigns, 8% of impressions clicked, a fifth of
    clicks bought, over one day."""
    rng = np.random.default_rng(seed)
    lists = int(rows / 10.96)  # 10 impressions + 0.8 clicks + 0.16 purchases per list
    n_imp = lists * 10
    visit = np.repeat(np.arange(lists), 10)
    t = np.repeat(np.sort(rng.random(lists) * 86_400), 10)
    user = np.repeat(rng.integers(0, 50_000, lists), 10)
    item = rng.integers(0, 5_000, n_imp)
    campaign = np.repeat(rng.integers(0, 2, lists), 10)
    clicked = np.flatnonzero(rng.random(n_imp) < 0.08)
    bought = clicked[rng.random(clicked.size) < 0.2]
    parts = []
    for kind, idx, delay in (("impression", np.arange(n_imp), 0.0), ("click", clicked, 30.0),
                             ("purchase", bought, 300.0)):
        parts.append(pd.DataFrame({
            "time": t[idx] + delay, "visit": visit[idx], "user_id": user[idx].astype(str),
            "campaign_arn": np.where(campaign[idx] == 0, "A", "B"), "recommendation_id": visit[idx].astype(str),
            "event_type": kind, "item_id": item[idx].astype(str), "position": idx % 10,
            "price": rng.uniform(5, 100, idx.size)}))
    return pd.concat(parts, ignore_index=True)


def bench_impact(rows: int) -> None:
    log = synthetic_log(rows)
    began = time.perf_counter()
    table = impact_table(log)
    took = time.perf_counter() - began
    print(f"impact_table: {len(log):,} log rows in {took:.2f} s ({len(log) / took:,.0f} rows/s); "
          f"click-through {', '.join(f'{r.campaign}={r.click_through:.3%}' for r in table.itertuples())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_impact(args.rows)
    bench_simulator(args.visits)


if __name__ == "__main__":
    main()
