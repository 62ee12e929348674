"""Side by side after a retrain: users with no interactions at all share the cold-start list from any
model. That cohort is the expected baseline (neutral, with the reason), never the reason for red; users
with history who still share one list keep the report red."""

from __future__ import annotations

from services.recommendations.duplication import COLD_START, duplication_report


def _after_retrain(history_users_share: bool) -> tuple[dict[str, list[str]], dict[str, int]]:
    """10 users with no history on the popular list; 20 with history on personal lists (or all on one)."""
    popular = ["p1", "p2", "p3", "p4"]
    lists = {f"new{j}": popular for j in range(10)}
    history: dict[str, int] = {}
    for j in range(20):
        user = f"old{j}"
        lists[user] = ["s1", "s2", "s3", "s4"] if history_users_share else [f"x{4 * j + t}" for t in range(4)]
        history[user] = 1 + j % 2 if j < 10 else 12  # ten with 1–2 interactions, ten with 10+
    return lists, history


def test_the_no_history_cohort_is_expected_not_red():
    lists, history = _after_retrain(history_users_share=False)
    report = duplication_report(lists, history_lengths=history, k=4, recipe="aws-user-personalization")
    none = report.cohorts["none"]
    assert none.same_list_share == 1.0  # the figures stay what they are
    assert none.expected and none.level == "ok"
    # ≤2 mixes the ten new users with ten personal ones: judged on those with history, so not red.
    assert report.cohorts[COLD_START].same_list_share == 0.5
    assert report.cohorts[COLD_START].level == "ok"
    assert report.level == "ok"
    assert report.verdict.startswith("Recommendations look personal for users with history")
    assert "no two users with history get the same list" in report.verdict
    assert report.no_history_note.startswith("100% of users with no interactions get the same top 4: expected")
    assert "from any model" in report.no_history_note


def test_users_with_history_sharing_one_list_stay_red():
    lists, history = _after_retrain(history_users_share=True)
    report = duplication_report(lists, history_lengths=history, k=4, recipe="aws-user-personalization")
    assert report.level == "critical"
    assert report.cohorts["1–2"].level == "critical" and report.cohorts["10+"].level == "critical"
    assert report.verdict.startswith("Duplication beyond cold start")
    assert report.no_history_note  # the new users are still explained apart


def test_no_note_when_new_users_do_not_share_and_none_for_a_baseline():
    lists, history = _after_retrain(history_users_share=False)
    varied = {u: ([f"{u}-{t}" for t in range(4)] if u.startswith("new") else items) for u, items in lists.items()}
    assert duplication_report(varied, history_lengths=history, k=4).no_history_note == ""
    baseline = duplication_report(lists, history_lengths=history, k=4, recipe="aws-popularity-count")
    assert baseline.baseline and baseline.no_history_note == ""
