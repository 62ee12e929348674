"""Experiments: the sample size against scipy's binomial draws, the stopping rule on a hand-made log, the
saved experiment and log, and the site-side arm command in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from services.evaluation.experiment import Experiment, ExperimentStore, impressions_per_arm, readout
from services.evaluation.impact import compare, hourly_table
from services.evaluation.simulation import assign_arm


def _rejection_rate(p1: float, p2: float, n: int, alpha: float, runs: int = 20_000) -> float:
    rng = np.random.default_rng(7)
    a = stats.binom.rvs(n, p1, size=runs, random_state=rng)
    b = stats.binom.rvs(n, p2, size=runs, random_state=rng)
    pooled = (a + b) / (2 * n)
    z = (b - a) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    return float(np.mean(2 * stats.norm.sf(np.abs(z)) < alpha))


@pytest.mark.parametrize("baseline, lift, alpha, power", [(0.05, 0.2, 0.05, 0.8), (0.1, 0.5, 0.05, 0.9),
                                                          (0.02, 0.3, 0.01, 0.8)])
def test_the_sample_size_gives_the_power_it_promises(baseline, lift, alpha, power):
    n = impressions_per_arm(baseline, lift, alpha, power)
    assert _rejection_rate(baseline, baseline * (1 + lift), n, alpha) == pytest.approx(power, abs=0.015)
    # and under no difference the test rejects at α, no more
    assert _rejection_rate(baseline, baseline, n, alpha) == pytest.approx(alpha, abs=0.006)
    # a smaller lift needs more, a bigger one fewer
    assert impressions_per_arm(baseline, lift / 2, alpha, power) > 3 * n
    assert impressions_per_arm(baseline, lift * 2, alpha, power) < n


@pytest.mark.parametrize("bad", [(0.0, 0.2), (1.0, 0.2), (0.05, 0.0), (0.05, -0.1), (0.6, 1.0)])
def test_impossible_settings_are_refused_in_words(bad):
    with pytest.raises(ValueError, match=r"between 0 and 1|lift"):
        impressions_per_arm(*bad)


def _experiment(**kw) -> Experiment:
    base = {"name": "exp-1", "dataset_group": "g", "control": "A", "treatment": "B", "baseline": 0.1,
            "min_lift": 1.0, "list_length": 2}
    return Experiment(**{**base, **kw})


def _log(experiment: Experiment, visits: int, rate: dict[str, float], seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(visits):
        user = f"u{v}"
        arm = experiment.campaign_for(user)
        for k in range(experiment.list_length):
            item = f"i{k}"
            rows.append((v * 100.0, v, user, arm, f"r{v}", "impression", item, k, 1.0))
            if rng.random() < rate[arm]:
                rows.append((v * 100.0 + 5, v, user, arm, f"r{v}", "click", item, k, 1.0))
    return pd.DataFrame(rows, columns=["time", "visit", "user_id", "campaign_arn", "recommendation_id",
                                       "event_type", "item_id", "position", "price"])


def test_no_verdict_before_the_decision_point_and_nothing_counted_after_it():
    experiment = _experiment()
    needed = experiment.impressions_needed
    assert experiment.visits_needed == 2 * -(-needed // 2)
    early = readout(experiment, _log(experiment, experiment.visits_needed - 1, {"A": 0.1, "B": 0.3}))
    assert not early.decided and early.comparison is None
    assert early.stopping_rule.startswith(f"{experiment.visits_needed - 1:,} of {experiment.visits_needed:,} "
                                          f"visits; decide at {experiment.visits_needed:,}")
    log = _log(experiment, needed * 3, {"A": 0.1, "B": 0.3})
    done = readout(experiment, log, {"A": "popularity", "B": "personal"})
    assert done.decided
    assert done.visits == experiment.visits_needed
    assert sum(done.impressions) == experiment.visits_needed * experiment.list_length
    assert abs(done.impressions[0] - needed) < 0.2 * needed  # the hash split: balanced on average
    # the figures are those of the counted visits only, and the test is the plain z-test on them
    counted = log[log["visit"] < done.visits]
    table = done.table.set_index("campaign")
    shown_a = (counted["campaign_arn"] == "A") & (counted["event_type"] == "impression")
    assert table.loc["A", "impressions"] == shown_a.sum()
    expected = compare(int(table.loc["A", "clicks"]), int(table.loc["A", "impressions"]),
                       int(table.loc["B", "clicks"]), int(table.loc["B", "impressions"]))
    assert done.comparison.p_value == pytest.approx(expected.p_value)
    assert done.comparison.significant
    assert "personal earns more clicks" in done.comparison.verdict("popularity", "personal")


def test_an_experiment_and_its_log_survive_a_new_store(tmp_path):
    experiment = _experiment()
    ExperimentStore(tmp_path).save(experiment)
    with pytest.raises(ValueError, match="exists already"):
        ExperimentStore(tmp_path).save(experiment)
    store = ExperimentStore(tmp_path)
    assert store.load("exp-1") == experiment and store.names("g") == ["exp-1"] and store.names("other") == []
    first = _log(experiment, 5, {"A": 0.5, "B": 0.5})
    store.append_log("exp-1", first)
    both = ExperimentStore(tmp_path).append_log("exp-1", first)
    assert len(both) == 2 * len(first) and both["visit"].nunique() == 10
    with pytest.raises(ValueError, match="not an experiment name"):
        store.load("../../etc/passwd")
    with pytest.raises(ValueError, match="name"):
        _experiment(name="a b/c")
    with pytest.raises(ValueError, match="two different campaigns"):
        _experiment(treatment="A")


def test_the_arm_command_answers_as_the_hash_does(tmp_path):
    experiment = _experiment(name="home-page", control="arn:control", treatment="arn:treatment")
    ExperimentStore(tmp_path / "experiments").save(experiment)
    env = {**os.environ, "PERSONALIZE_DATA_DIR": str(tmp_path), "PYTHONHASHSEED": "99"}
    for user in ("U00001", "U00002", "U00003", "U00004"):
        out = subprocess.run([sys.executable, "-m", "services.evaluation.arm", "--experiment", "home-page",
                              "--user", user], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.strip() == experiment.arms[assign_arm(user, "home-page", 2)]
    out = subprocess.run([sys.executable, "-m", "services.evaluation.arm", "--experiment", "home-page", "--user",
                          "U00001", "--json"], capture_output=True, text=True, env=env, check=True)
    answer = json.loads(out.stdout)
    assert answer["arm"] == assign_arm("U00001", "home-page", 2) and answer["campaignArn"].startswith("arn:")
    missing = subprocess.run([sys.executable, "-m", "services.evaluation.arm", "--experiment", "nope", "--user",
                              "U1"], capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "No experiment named nope" in missing.stderr


def test_hourly_figures_add_up_to_the_day():
    experiment = _experiment()
    log = _log(experiment, 200, {"A": 0.2, "B": 0.4})  # a visit every 100 s: 20,000 s, six hours
    hours = hourly_table(log)
    assert sorted(hours["hour"].unique()) == list(range(6))
    assert hours["impressions"].sum() == (log["event_type"] == "impression").sum()
    assert hours["clicks"].sum() == (log["event_type"] == "click").sum()
    assert (hours["click_through_low"] <= hours["click_through"]).all()
    assert (hours["click_through"] <= hours["click_through_high"]).all()
