"""A short mixed load on the real engine while a retrain runs: zero errors (latencies are printed,
never asserted; the full version is bench/bench_load.py)."""

from __future__ import annotations

import pytest

from tests.support.engine_shop import LiveShop, build_shop, deploy, settle
from tests.support.load import run_load


@pytest.fixture(scope="module")
def load_shop(personalize, tmp_path_factory) -> LiveShop:
    return deploy(personalize, build_shop(personalize, tmp_path_factory.mktemp("load"), "load",
                                          n_users=1_000, n_items=400, n_interactions=30_000, seed=9), "load")


def test_mixed_load_during_a_retrain_has_no_errors(engine, personalize, personalize_runtime, load_shop) -> None:
    version = personalize.create_solution_version(solutionArn=load_shop.solution)["solutionVersionArn"]
    result = run_load(engine.url, load_shop, clients=4, seconds=3)
    print("\nshort load, 4 clients x 3 s, retrain running:\n" + result.summary())
    assert result.errors == []
    assert result.latencies["GetRecommendations"] and result.latencies["PutEvents"]
    trained = settle(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    # The events sent under load changed nothing that was ACTIVE: the campaign still serves.
    assert personalize_runtime.get_recommendations(campaignArn=load_shop.campaign,
                                                   userId=load_shop.users[0])["itemList"]
