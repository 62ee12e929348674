"""Behaviours that mutation testing (`python -m bench.mutation`) showed no test checked: each test here
kills mutants that survived the module's own tests."""

from __future__ import annotations

import pytest

from services.core import access


# -- access: where passwords and roles come from ---------------------------------------------------------
def test_the_operator_password_can_come_from_secrets_and_the_viewer_password_from_the_environment():
    config = access.load_config({"passwords": {"operator": "act"}},
                                {"PERSONALIZE_DASHBOARD_VIEWER_PASSWORD": "look"})
    assert config.operator_password == "act"
    assert config.viewer_password == "look"
    assert access.role_for_password(config, "act") == access.OPERATOR
    assert access.role_for_password(config, "look") == access.VIEWER


def test_the_environment_wins_over_secrets():
    config = access.load_config({"passwords": {"operator": "old", "viewer": "old-look"}},
                                {"PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD": "new",
                                 "PERSONALIZE_DASHBOARD_VIEWER_PASSWORD": "new-look"})
    assert (config.operator_password, config.viewer_password) == ("new", "new-look")


def test_malformed_secrets_sections_are_ignored_not_raised():
    config = access.load_config({"passwords": "hunter2", "roles": ["ana@example.com"]}, {})
    assert config.operator_password is None and config.viewer_password is None
    assert config.operators == ()
    assert not config.sign_in_required


def test_without_an_env_mapping_the_process_environment_is_read(monkeypatch):
    monkeypatch.setenv("PERSONALIZE_DASHBOARD_ROLE", "viewer")
    monkeypatch.setenv("PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD", "from-env")
    config = access.load_config({})
    assert config.forced_role == access.VIEWER
    assert config.operator_password == "from-env"


@pytest.mark.parametrize("forced", [None, "operator"])
def test_a_signed_in_role_stands_unless_viewer_is_forced(forced):
    env = {"PERSONALIZE_DASHBOARD_ROLE": forced} if forced else {}
    config = access.load_config({}, env)
    assert access.effective_role(config, access.OPERATOR) == access.OPERATOR
    assert access.effective_role(config, access.VIEWER) == access.VIEWER


# -- duplication report: the verdict's thresholds and words ----------------------------------------------
def _lists(same: int, distinct: int, k: int = 5) -> dict[str, list[str]]:
    """`same` users share one list; `distinct` users each get items nobody else gets."""
    shared = [f"pop{j}" for j in range(k)]
    out = {f"s{i}": shared for i in range(same)}
    out.update({f"d{i}": [f"d{i}-{j}" for j in range(k)] for i in range(distinct)})
    return out


def test_half_the_users_on_one_list_is_critical_and_a_fifth_is_a_warning():
    from services.recommendations.duplication import duplication_report

    half = duplication_report(_lists(5, 5))
    assert half.overall.same_list_share == 0.5 and half.overall.mean_jaccard < 0.3
    assert half.level == "critical"
    fifth = duplication_report(_lists(2, 8))
    assert fifth.overall.same_list_share == 0.2 and fifth.overall.mean_jaccard < 0.3
    assert fifth.level == "warning"
    assert fifth.verdict == "Duplication: 20% of users get the same top 5 — most likely the popularity fallback."
    assert duplication_report(_lists(1, 9)).level == "ok"


def test_the_verdict_in_words_for_cold_start_and_for_users_with_history():
    import pandas as pd

    from services.recommendations import duplication as d

    lists = _lists(8, 2)
    popularity = pd.Series({f"pop{j}": 100 - j for j in range(5)} | {"other": 1})
    history = {f"s{i}": 0 if i < 4 else 1 for i in range(8)} | {"d0": 20, "d1": 20}
    cold = d.duplication_report(lists, history_lengths=history, item_popularity=popularity, campaign="shop-up")
    assert cold.level == "critical"
    assert cold.verdict == ("Cold-start duplication: 100% of users with ≤2 interactions get the same top 5 — "
                            "the model falls back to popularity.")
    assert cold.remedies[0] == d.REMEDY_PUT_EVENTS
    frame = cold.to_frame()
    assert list(frame.columns[:2]) == ["campaign", "group"]
    assert set(frame["campaign"]) == {"shop-up"}
    assert frame["group"].tolist() == ["all", "none", "1–2", "10+", "≤2"]

    warm = d.duplication_report(lists, history_lengths={u: 12 for u in lists})
    assert warm.verdict == ("Duplication beyond cold start: 80% of users with 10 or more interactions get the "
                            "same top 5 — the served model is not personalising (a popularity recipe, or a "
                            "campaign on an old solution version).")
    assert warm.remedies[0] == d.REMEDY_NEWEST_VERSION


def test_heavy_overlap_without_identical_lists_is_named_by_jaccard():
    from services.recommendations.duplication import duplication_report

    lists = {f"u{i}": [f"c{j}" for j in range(8)] + [f"u{i}-a", f"u{i}-b"] for i in range(6)}
    report = duplication_report(lists)
    assert report.overall.same_list_share == 0 and report.overall.mean_jaccard >= 0.6
    assert report.level == "critical"
    assert report.verdict.startswith("Duplication: the top-10 lists of users overlap heavily "
                                     "(mean pairwise Jaccard 0.67)")


def test_personal_lists_and_too_few_users_are_ok_in_words():
    from services.recommendations.duplication import duplication_report

    personal = duplication_report(_lists(0, 6))
    assert personal.level == "ok" and personal.remedies == []
    assert personal.verdict == ("Recommendations look personal: mean pairwise Jaccard of the top-5 lists 0.00, "
                                "personalization 1.00; no two users get the same list.")
    few = duplication_report(_lists(2, 0))
    assert few.verdict == "Too few users (2) to judge duplication."


def test_cohorts_popular_items_and_shared_items_at_their_edges():
    import numpy as np
    import pandas as pd

    from services.recommendations.duplication import history_cohorts, shared_items, top_popular_items

    assert history_cohorts(np.array([-1, 0, 1, 2, 3, 9, 10, 500])).tolist() == [
        "none", "none", "1–2", "1–2", "3–9", "3–9", "10+", "10+"]
    popularity = pd.Series({"a": 5, "b": 9, "c": 9, "d": 1})
    assert list(top_popular_items(popularity, 50)) == ["b"]  # 1% of 50 rounds up to one item
    assert list(top_popular_items(popularity, 150)) == ["b", "c"]  # ties keep the order given
    assert shared_items([[1, 2], [1, 3], [4, 5], [1, 2]], 0.5) == {1, 2}  # exactly half counts
    assert shared_items([]) == set()


# -- campaign health: the advice in words and the auto-training flags --------------------------------------
def _health(**overrides):
    from services.models.campaign_health import CampaignHealth

    base = dict(name="shop-up", campaign_arn="arn:aws:personalize:us-east-1:1:campaign/shop-up",
                solution_arn="arn:aws:personalize:us-east-1:1:solution/shop-up", status="ACTIVE",
                serving_version="arn:aws:personalize:us-east-1:1:solution/shop-up/aaaa1111",
                newest_active_version="arn:aws:personalize:us-east-1:1:solution/shop-up/bbbb2222",
                update_status=None, update_failure=None, sync_with_latest=False, min_provisioned_tps=1,
                monthly_tps_cost=146.0)
    return CampaignHealth(**(base | overrides))


def test_stale_advice_names_both_versions_and_what_to_do():
    assert _health().advice() == (
        "Campaign shop-up still serves solution/shop-up/aaaa1111 although solution/shop-up/bbbb2222 is newer and "
        "ACTIVE: recommendations do not reflect the latest training. Update the campaign to the newest version "
        "(Campaigns page), or turn on syncWithLatestSolutionVersion.")
    assert _health(update_status="CREATE IN_PROGRESS").advice() == "An update to a newer version is in progress."
    assert _health(update_status="CREATE PENDING").updating
    assert not _health(update_status="ACTIVE").updating


def _flags(solutions: list[dict]):
    import boto3
    from botocore.stub import Stubber

    from services.models.campaign_health import auto_training_flags

    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    group = "arn:aws:personalize:us-east-1:1:dataset-group/shop"
    with Stubber(client) as stub:
        stub.add_response("list_solutions", {"solutions": [
            {"name": s["name"], "solutionArn": s["solutionArn"]} for s in solutions]}, {"datasetGroupArn": group})
        for s in solutions:
            stub.add_response("describe_solution", {"solution": s}, {"solutionArn": s["solutionArn"]})
        return auto_training_flags(client, group)


def test_auto_training_flags_cost_by_schedule():
    arn = "arn:aws:personalize:us-east-1:1:solution/"
    flags = _flags([
        {"name": "weekly", "solutionArn": arn + "weekly", "performAutoTraining": True},
        {"name": "every3", "solutionArn": arn + "every3", "performAutoTraining": True,
         "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "rate(3 days)"}}},
        {"name": "odd", "solutionArn": arn + "odd", "performAutoTraining": True,
         "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "cron(0 0 * * ? *)"}}},
        {"name": "off", "solutionArn": arn + "off", "performAutoTraining": False},
    ])
    by_name = {f.solution_name: f for f in flags}
    assert set(by_name) == {"weekly", "every3", "odd"}
    assert by_name["weekly"].schedule == "rate(7 days)"
    assert by_name["weekly"].weekly_cost_estimate == pytest.approx(0.24)
    assert by_name["every3"].weekly_cost_estimate == pytest.approx(0.24 * 7 / 3)
    assert by_name["odd"].weekly_cost_estimate == pytest.approx(0.24)  # unreadable: a weekly guess
    assert by_name["every3"].solution_arn == arn + "every3"
    assert by_name["every3"].advice() == (
        "Solution every3 has performAutoTraining on (rate(3 days)): AWS trains a new version on that "
        "schedule, about $0.56 a week on top of any nightly retrain. Turn it off (UpdateSolution) if a "
        "pipeline already retrains.")


def test_schedules_shorter_than_a_day_or_unreadable():
    from services.models.campaign_health import _days

    assert _days("rate(1 day)") == 1.0
    assert _days("rate(0.5 days)") == 1.0
    assert _days("rate()") == 7.0
    assert _days("rate(12 hours)") == 7.0  # not AWS's syntax: a weekly guess, never 12 days
    assert _days("rate(30 days)") == 30.0
