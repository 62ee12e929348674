"""A simulated shop: shoppers with hidden tastes ask a campaign for recommendations, look at the list,
click and buy by a documented click model, and send every event through PutEvents.

The tastes are the demo generator's own ground truth (`DemoShop.tastes`: each established user's share of
interest per L1 category), so a campaign that learnt them earns more clicks than one that did not. The
click model, per visit:

- the shopper is shown the campaign's top `list_length` items (`GetRecommendations`);
- looks at position k (0 = top) with probability `examine_decay ** k` (position bias);
- clicks a looked-at item with probability `min(0.9, click_base * affinity)`, where affinity is the
  shopper's taste for the item's category relative to an even spread (1 = average; 0.85 of interest on
  one category gives 6.8);
- buys a clicked item with probability `purchase_rate`.

Clicks come 5-120 s after the list, purchases 1-10 min after their click. Every click and purchase is
sent with the answer's `recommendationId` and the shown list as `impression`. A list without a click
sends nothing (PutEvents needs an item), so the impressions are kept in the simulation's own log, which
is what the impact figures are computed from. Everything is drawn from one seeded Generator in a fixed
order: the same seed and the same answers give the same day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.demo.shop_data import CATALOG, DemoShop

DAY_S = 86_400
LOG_COLUMNS = ("time", "visit", "user_id", "campaign_arn", "recommendation_id", "event_type", "item_id",
               "position", "price")
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ClickModel:
    list_length: int = 10
    examine_decay: float = 0.8
    click_base: float = 0.06
    purchase_rate: float = 0.2


@dataclass(frozen=True)
class Shoppers:
    """Who can visit and what they like: user ids with a taste row each, and the catalogue's facts."""

    user_ids: list[str]
    tastes: np.ndarray  # users x categories, rows sum to 1
    item_category: dict[str, int]
    item_price: dict[str, float]

    @classmethod
    def from_demo(cls, shop: DemoShop) -> Shoppers:
        if shop.tastes is None:
            raise ValueError("This shop carries no hidden tastes; generate it with the demo generator.")
        n = shop.tastes.shape[0]
        codes = pd.Categorical(shop.items["CATEGORY_L1"], categories=list(CATALOG)).codes
        ids = shop.items["ITEM_ID"].astype(str)
        return cls(shop.users["USER_ID"].iloc[:n].astype(str).tolist(), shop.tastes,
                   dict(zip(ids, codes.tolist(), strict=True)),
                   dict(zip(ids, shop.items["PRICE"].astype(float), strict=True)))


def assign_arm(user_id: str, experiment: str, arms: int) -> int:
    """The arm (0..arms-1) a user sees in an experiment: a stable hash, the same on every call, in every
    process and on a shop's own site (sha256 of "<experiment>:<user id>", first 8 bytes, modulo arms)."""
    digest = hashlib.sha256(f"{experiment}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % arms


@dataclass
class SimulationResult:
    log: pd.DataFrame  # LOG_COLUMNS: one row per impression (item shown), click and purchase
    events_sent: int
    calls: int


def simulate_day(
    runtime: Any, events: Any, tracking_id: str, campaigns: Sequence[str], shoppers: Shoppers, visits: int,
    seed: int, start: float, experiment: str = "impact", model: ClickModel | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """`visits` visits spread over the day from `start` (Unix seconds). With several campaigns each
    shopper is assigned one by `assign_arm`, so a shopper always sees the same campaign."""
    if not campaigns:
        raise ValueError("Choose at least one campaign to simulate.")
    if visits < 1:
        raise ValueError("Simulate at least one visit.")
    model = model or ClickModel()
    rng = np.random.default_rng(seed)
    who = rng.integers(0, len(shoppers.user_ids), visits)
    when = np.sort(start + rng.random(visits) * DAY_S)
    rows: list[tuple] = []
    sent = calls = 0
    for visit in range(visits):
        user = shoppers.user_ids[who[visit]]
        campaign = campaigns[assign_arm(user, experiment, len(campaigns))]
        answer = runtime.get_recommendations(campaignArn=campaign, userId=user, numResults=model.list_length)
        rid, shown = answer["recommendationId"], [i["itemId"] for i in answer["itemList"]]
        t = float(when[visit])
        rows.extend((t, visit, user, campaign, rid, "impression", item, k, shoppers.item_price.get(item, 0.0))
                    for k, item in enumerate(shown))
        acted = _act(rng, model, shoppers, who[visit], shown, t)
        batch = []
        for event_type, item, k, at in acted:
            rows.append((at, visit, user, campaign, rid, event_type, item, k, shoppers.item_price.get(item, 0.0)))
            batch.append({"eventType": event_type, "itemId": item, "sentAt": at, "recommendationId": rid,
                          "impression": shown[:25]})
        for i in range(0, len(batch), 10):  # PutEvents takes at most 10 events per call
            events.put_events(trackingId=tracking_id, userId=user, sessionId=f"sim-{seed}-{visit}",
                              eventList=batch[i : i + 10])
            calls += 1
        sent += len(batch)
        calls += 1
        if progress is not None and (visit + 1) % max(1, visits // 50) == 0:
            progress(f"Visit {visit + 1:,} of {visits:,}: {sent:,} events sent", (visit + 1) / visits)
    log = pd.DataFrame(rows, columns=list(LOG_COLUMNS)).sort_values(["time", "visit"], kind="stable",
                                                                    ignore_index=True)
    return SimulationResult(log, sent, calls)


def _act(rng: np.random.Generator, model: ClickModel, shoppers: Shoppers, user_row: int, shown: list[str],
         t: float) -> list[tuple[str, str, int, float]]:
    """The clicks and purchases of one visit by the click model, in time order."""
    n = len(shown)
    n_cats = shoppers.tastes.shape[1]
    # Draw the same number of randoms per visit whatever happens, so one choice never shifts the others.
    looks, clicks, buys = rng.random(n), rng.random(n), rng.random(n)
    click_delay, buy_delay = rng.uniform(5, 120, n), rng.uniform(60, 600, n)
    out: list[tuple[str, str, int, float]] = []
    for k, item in enumerate(shown):
        if looks[k] >= model.examine_decay ** k:
            continue
        category = shoppers.item_category.get(item, -1)
        affinity = shoppers.tastes[user_row, category] * n_cats if category >= 0 else 1.0
        if clicks[k] >= min(0.9, model.click_base * affinity):
            continue
        clicked_at = t + click_delay[k]
        out.append(("click", item, k, clicked_at))
        if buys[k] < model.purchase_rate:
            out.append(("purchase", item, k, clicked_at + buy_delay[k]))
    return sorted(out, key=lambda e: e[3])
