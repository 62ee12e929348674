"""The simulated shop against the engine: deterministic with a seed, every event sent with its answer's
recommendationId and impression, and a stable hash split between campaigns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.evaluation.impact import compare, impact_table
from services.evaluation.simulation import Shoppers, assign_arm, simulate_day
from services.recommendations.events import ensure_tracker
from tests.support.shops import clients_for

START = 1_767_225_600.0  # a fixed day, so two runs draw the same times


@pytest.fixture(scope="module")
def shops(engine, tmp_path_factory):
    clients = clients_for(engine.url)
    out = []
    with pytest.MonkeyPatch.context() as mp:  # the demo's files are staged inside the engine's file roots
        mp.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("sim-shops")))
        for name in ("sim-shop-a", "sim-shop-b"):  # the same generated shop twice: same users, same answers
            result = create_demo_shop(clients, DemoPlan.small(name=name))
            tracker = ensure_tracker(clients.personalize, result.dataset_group_arn, f"{name}-tracker")
            out.append((result, tracker.tracking_id))
    return clients, out


def _run(clients, shop, seed, visits=120, recipes=("aws-popularity-count",)):
    result, tracking_id = shop
    shoppers = Shoppers.from_demo(DemoPlan.small().shop())
    return simulate_day(clients.runtime, clients.events, tracking_id, [result.campaigns[r] for r in recipes],
                        shoppers, visits, seed, START)


def test_the_same_seed_gives_the_same_day_and_another_seed_another(shops):
    clients, (a, b) = shops
    first, second = _run(clients, a, seed=11), _run(clients, b, seed=11)
    same = ["time", "visit", "user_id", "event_type", "item_id", "position", "price"]
    assert first.events_sent > 0
    assert first.log[same].equals(second.log[same])
    assert first.events_sent == second.events_sent
    other = _run(clients, b, seed=12)
    assert not other.log[same].equals(first.log[same])


def test_every_list_has_its_recommendation_and_clicks_are_of_shown_items(shops):
    clients, (a, _) = shops
    sim = _run(clients, a, seed=3, visits=60)
    clicks = sim.log[sim.log["event_type"] == "click"]
    shown = sim.log[sim.log["event_type"] == "impression"]
    # Every click is of an item its list showed, and every list has its own recommendationId.
    pairs = set(zip(shown["recommendation_id"], shown["item_id"], strict=True))
    assert all((r, i) in pairs for r, i in zip(clicks["recommendation_id"], clicks["item_id"], strict=True))
    assert shown.groupby("visit")["recommendation_id"].nunique().eq(1).all()
    assert shown["recommendation_id"].nunique() == 60


def test_the_hash_split_is_stable_across_processes_and_balanced():
    users = [f"U{i:05d}" for i in range(10_000)]
    arms = [assign_arm(u, "exp-1", 2) for u in users]
    assert 0.48 < sum(arms) / len(arms) < 0.52
    code = ("from services.evaluation.simulation import assign_arm; "
            "print(''.join(str(assign_arm(f'U{i:05d}', 'exp-1', 2)) for i in range(200)))")
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "".join(map(str, arms[:200]))
    other = [assign_arm(u, "exp-2", 2) for u in users]
    agreement = sum(x == y for x, y in zip(arms, other, strict=True)) / len(users)
    assert 0.47 < agreement < 0.53  # another experiment splits independently


def test_user_personalization_earns_more_clicks_than_popularity(shops):
    clients, (a, _) = shops
    sim = _run(clients, a, seed=21, visits=600, recipes=("aws-popularity-count", "aws-user-personalization"))
    table = impact_table(sim.log).set_index("campaign")
    pop = table.loc[a[0].campaigns["aws-popularity-count"]]
    up = table.loc[a[0].campaigns["aws-user-personalization"]]
    result = compare(int(pop["clicks"]), int(pop["impressions"]), int(up["clicks"]), int(up["impressions"]))
    assert result.lift > 0, (pop["click_through"], up["click_through"])
