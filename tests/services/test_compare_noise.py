"""Noise from the data: bootstrap intervals over users, and a "within noise" verdict only when the
interval of the paired difference says so (planted per-user values, then the own-metrics sentence)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.models import noise
from services.models.comparison import OwnMetrics, own_cells, winner_by_metric
from services.models.ranking_metrics import compute, per_user


def _hits(rate: float, n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < rate).astype(float)


def _planted(base: np.ndarray, wins: int, losses: int) -> np.ndarray:
    """base, better on `wins` users and worse on `losses` others: the paired difference per user is planted."""
    out = base.copy()
    out[np.flatnonzero(base == 0)[:wins]] = 1.0
    out[np.flatnonzero(base == 1)[:losses]] = 0.0
    return out


def test_interval_follows_the_data_and_is_seeded():
    wide = noise.bootstrap_mean(_hits(0.3, 100, 1))
    narrow = noise.bootstrap_mean(_hits(0.3, 10_000, 1))
    assert wide.low < wide.value < wide.high and narrow.low < narrow.value < narrow.high
    assert (wide.high - wide.low) > 5 * (narrow.high - narrow.low)  # 100× the users: ~10× narrower
    assert noise.bootstrap_mean(_hits(0.3, 100, 1)) == wide  # the same values and seed: the same interval
    constant = noise.bootstrap_mean(np.full(50, 0.2))
    assert constant.low == pytest.approx(0.2) and constant.high == pytest.approx(0.2)


def test_a_small_lead_is_within_noise_and_a_large_one_is_not():
    base = _hits(0.30, 300, 2)
    # Planted: "close" wins on 20 users and loses on 17 (+0.01: within what 37 changed users can do by
    # chance); "far" wins on 70 and loses on 10 (+0.20).
    close, far = _planted(base, 20, 17), _planted(base, 70, 10)
    near = noise.lead({"recipe-a": close, "recipe-b": base})
    assert near.leader == "recipe-a" and near.runner_up == "recipe-b"
    assert near.difference.value == pytest.approx(0.01)
    assert near.difference.low < 0 < near.difference.high
    assert near.within_noise and "recipe-b is within noise of it" in near.words()
    assert "recipe-a" in noise.lead({"recipe-b": base, "recipe-a": close}).leader  # order given does not matter
    apart = noise.lead({"recipe-b": base, "recipe-a": far})
    assert apart.leader == "recipe-a" and apart.difference.low > 0
    assert not apart.within_noise and apart.words().startswith("ahead of recipe-b beyond noise")
    assert noise.lead({"alone": base}) is None
    with pytest.raises(ValueError, match="same users"):
        noise.bootstrap_difference(base, base[:10])


def test_per_user_values_average_to_the_reported_metrics():
    topk = {"u1": ["a", "b"], "u2": ["c", "d"], "u3": ["a", "e"], "u4": []}
    truth = {"u1": {"a", "x"}, "u2": {"z"}, "u3": {"e"}, "u4": {"a"}}
    popularity = pd.Series({"a": 5, "b": 1, "c": 2, "d": 1, "e": 1})
    values = per_user(topk, truth, popularity, 10, k=2)
    assert list(values.index) == ["u1", "u2", "u3", "u4"]
    assert values["recall_at_k"].tolist() == [0.5, 0.0, 1.0, 0.0]
    assert values["hit_rate_at_k"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert np.isnan(values.loc["u4", "novelty"])  # an empty list has no novelty
    means = compute(topk, truth, popularity, 10, k=2)
    assert values["recall_at_k"].mean() == pytest.approx(means["recall_at_k"])
    assert values["hit_rate_at_k"].mean() == pytest.approx(means["hit_rate_at_k"])
    assert values["novelty"].mean() == pytest.approx(means["novelty"])


def _own(values: dict[str, np.ndarray]) -> OwnMetrics:
    users = [f"u{j}" for j in range(len(next(iter(values.values()))))]
    rows, per_user_values = [], {}
    for recipe, hits in values.items():
        arn = f"arn:aws:personalize:us-east-1:0:solution/{recipe}/v1"
        per_user_values[arn] = pd.DataFrame({"recall_at_k": hits, "hit_rate_at_k": hits, "novelty": hits},
                                            index=users)
        interval = noise.bootstrap_mean(hits)
        rows.append({"solution": recipe, "recipe": recipe, "solution_version_arn": arn, "metric": "recall_at_k",
                     "metric_name": "Recall@25", "value": float(hits.mean()), "low": interval.low,
                     "high": interval.high})
        rows.append({"solution": recipe, "recipe": recipe, "solution_version_arn": arn,
                     "metric": "personalization", "metric_name": "Personalization", "value": 0.5,
                     "low": np.nan, "high": np.nan})
    return OwnMetrics(pd.DataFrame(rows), users=len(users), per_user=per_user_values)


def test_the_own_metrics_sentence_says_within_noise_only_when_the_interval_does():
    base = _hits(0.30, 300, 3)
    close, far = _planted(base, 20, 17), _planted(base, 70, 10)
    near = winner_by_metric(_own({"aws-user-personalization": close, "aws-similar-items": base}))
    assert near.startswith("aws-user-personalization leads on Recall@25: ")
    assert "(90% interval " in near and "aws-similar-items is within noise of it" in near
    apart = winner_by_metric(_own({"aws-user-personalization": far, "aws-similar-items": base,
                                   "aws-popularity-count": np.zeros(300)}))
    assert "ahead of aws-similar-items beyond noise" in apart and "within noise" not in apart
    assert "1,000 resamples, seed 0" in apart
    cells = own_cells(_own({"aws-user-personalization": close, "aws-similar-items": base}))
    recall = cells.set_index("recipe").loc["aws-similar-items", "Recall@25"]
    interval = noise.bootstrap_mean(base)
    assert recall == f"{base.mean():.3f} ({interval.low:.3f}–{interval.high:.3f})"
    assert cells.set_index("recipe").loc["aws-similar-items", "Personalization"] == "0.500"  # no interval
