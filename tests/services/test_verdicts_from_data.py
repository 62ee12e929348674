"""Verdicts say what the data says: figures from the data, baselines as baselines, cohorts named for
when their history was counted."""

from __future__ import annotations

from services.recommendations.duplication import duplication_report


def _cold_lists(n_cold: int, n_warm: int) -> tuple[dict[str, list[str]], dict[str, int]]:
    lists = {f"c{j}": ["a", "b", "c", "d"] for j in range(n_cold)}
    lists |= {f"w{j}": [f"x{4 * j + t}" for t in range(4)] for j in range(n_warm)}
    history = {f"c{j}": 1 for j in range(n_cold)} | {f"w{j}": 40 for j in range(n_warm)}
    return lists, history


def _wait_advice(remedies: list[str]) -> str:
    return next(r for r in remedies if r.startswith("Wait for more interactions"))


def test_wait_advice_carries_the_datas_own_figures():
    lists, history = _cold_lists(12, 4)
    small = duplication_report(lists, history_lengths=history, k=4)
    assert small.level == "critical"
    assert "172 interactions over 16 users" in _wait_advice(small.remedies)
    assert "75% of them have only one or two" in _wait_advice(small.remedies)
    # The same lists over a much larger history: the advice follows the data, not a fixed sentence.
    bigger = {u: n * 200 if u.startswith("w") else n for u, n in history.items()}
    large = duplication_report(lists, history_lengths=bigger, k=4)
    assert "32,012 interactions" in _wait_advice(large.remedies)
    assert "7,000" not in " ".join(small.remedies + large.remedies)


def test_popularity_baseline_is_labelled_a_baseline_not_a_fault():
    lists = {f"u{j}": ["a", "b", "c"] for j in range(10)}
    history = {f"u{j}": 20 for j in range(10)}
    served = duplication_report(lists, history_lengths=history, recipe="aws-user-personalization")
    assert served.level == "critical" and not served.baseline  # a personal recipe doing this is a fault
    baseline = duplication_report(lists, history_lengths=history, recipe="aws-popularity-count")
    assert baseline.baseline
    assert baseline.level == "ok"
    assert baseline.verdict.startswith("Baseline: aws-popularity-count gives every user")
    assert "not personalising" not in baseline.verdict and baseline.remedies == []


def test_cohorts_named_for_when_their_history_was_counted():
    lists, history = _cold_lists(12, 4)
    report = duplication_report(lists, history_lengths=history, k=4, history_as_of="when the story began")
    assert "of users with ≤2 interactions when the story began get the same top 4" in report.verdict
    assert report.history_as_of == "when the story began"
