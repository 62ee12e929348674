"""services.models.recommenders and the runtime call on a domain group's recommenders, against the engine:
health and cost, use cases, create/stop/start/delete, Side by side's list, and the call each use case takes."""

from __future__ import annotations

import pytest

from services.core.resources import describe_group, recommenders_of
from services.models import recommenders as rs
from services.recommendations import runtime_call as rc
from services.recommendations.side_by_side import list_campaigns
from tests.support.domain_shop import domain_shop
from tests.support.engine_process import wait_for


@pytest.fixture(scope="module")
def shop(personalize, tmp_path_factory) -> dict:
    return domain_shop(personalize, tmp_path_factory.mktemp("svc-domain"), "svc-domain", "svc")


def health(personalize, shop) -> dict[str, rs.RecommenderHealth]:
    return {h.name: h for h in rs.recommender_health(personalize, shop["group"], "us-east-1", {"us-east-1": 0.5})}


def test_health_states_use_case_cost_and_metrics(personalize, shop):
    assert describe_group(personalize, shop["group"]).domain == "ECOMMERCE"
    found = health(personalize, shop)
    mine = found["svc-for-you"]
    assert mine.status == "ACTIVE" and mine.use_case == "aws-ecomm-recommended-for-you"
    assert mine.min_rps == 2 and mine.monthly_cost == pytest.approx(2 * 0.5 * 730)
    assert mine.kind == rc.USER and found["svc-also-viewed"].kind == rc.ITEM
    assert found["svc-popular-views"].kind == rc.POPULAR
    assert 0 < mine.model_metrics["coverage"] <= 1
    table = rs.metrics_table(list(found.values()))
    assert set(table["recommender"]) == set(found) and "NDCG@10" in table.columns


def test_use_cases_follow_the_group_domain(personalize, shop):
    names = {u.name for u in rs.use_cases(personalize, shop["group"])}
    assert "aws-ecomm-frequently-bought-together" in names and not any("vod" in n for n in names)
    plain = personalize.create_dataset_group(name="svc-plain-group")["datasetGroupArn"]
    assert rs.use_cases(personalize, plain) == []
    assert recommenders_of(personalize, plain) == []


def test_each_use_case_gets_the_call_it_needs(personalize_runtime, shop):
    arns = shop["recommenders"]
    popular = rc.recommend(personalize_runtime, arns["svc-popular-views"], rc.POPULAR, num_results=5)
    assert popular[0].id == "i1"  # the most viewed item, with no user given
    related = rc.recommend(personalize_runtime, arns["svc-also-viewed"], rc.ITEM, item_id="i5", num_results=5)
    assert len(related) == 5 and "i5" not in [r.id for r in related]
    personal = rc.recommend(personalize_runtime, arns["svc-for-you"], rc.USER, user_id="u3", num_results=5)
    assert len(personal) == 5
    with pytest.raises(rc.CallInputError, match="enter an item ID"):
        rc.recommend(personalize_runtime, arns["svc-also-viewed"], rc.ITEM, user_id="u3")
    with pytest.raises(rc.CallInputError, match="GetRecommendations only"):
        rc.recommend(personalize_runtime, arns["svc-for-you"], rc.RANKING, user_id="u3", candidates=["i1"])


def test_side_by_side_lists_active_recommenders(personalize, shop):
    listed = {c.name: c for c in list_campaigns(personalize, shop["group"])}
    assert set(shop["recommenders"]) <= set(listed)
    assert listed["svc-for-you"].call == rc.USER and not listed["svc-also-viewed"].serves_users
    assert listed["svc-popular-views"].serves_users


def test_refused_input_loses_nothing(personalize, shop):
    with pytest.raises(ValueError, match="name"):
        rs.create_recommender(personalize, "  ", shop["group"], rs.use_cases(personalize, shop["group"])[0].arn)
    with pytest.raises(ValueError, match="at least 1"):
        rs.create_recommender(personalize, "x", shop["group"], rs.use_cases(personalize, shop["group"])[0].arn, 0)
    assert len(recommenders_of(personalize, shop["group"])) == len(shop["recommenders"])


def test_create_stop_start_delete(personalize, shop):
    case = next(u for u in rs.use_cases(personalize, shop["group"]) if u.name.endswith("by-purchases"))
    arn = rs.create_recommender(personalize, "svc-purchases", shop["group"], case.arn, 1)
    settle = lambda: wait_for(lambda: health(personalize, shop)["svc-purchases"],  # noqa: E731
                              lambda h: not h.busy, timeout=90)
    assert settle().status == "ACTIVE"
    rs.stop_recommender(personalize, arn)
    assert health(personalize, shop)["svc-purchases"].busy
    stopped = settle()
    assert stopped.stopped and "serves nothing" in stopped.advice()
    assert "svc-purchases" not in {c.name for c in list_campaigns(personalize, shop["group"])}
    rs.start_recommender(personalize, arn)
    assert settle().status == "ACTIVE"
    rs.delete_recommender(personalize, arn)
    wait_for(lambda: [r.name for r in recommenders_of(personalize, shop["group"])],
             lambda names: "svc-purchases" not in names, timeout=90)
