"""A/B experiments: two campaigns (or recommenders), a stable hash split of shoppers between them, and a
sample size fixed before the first visit.

The stopping rule is decided up front: from the baseline click-through, the smallest relative lift worth
detecting, α and the power, `impressions_per_arm` is the classic two-proportion sample size (two-sided
z-test, pooled variance under the null):

    n = (z[1-α/2]·√(2·p̄·(1-p̄)) + z[power]·√(p1·(1-p1) + p2·(1-p2)))² / (p2 - p1)²,  p2 = p1·(1 + lift)

The planned horizon is `visits_needed` visits in all (both arms' impressions at `list_length` a visit;
the hash split balances the arms on average, not exactly). The test is read once, when that many visits
are in; before then the page shows the running figures but no verdict, so looking at them does not
inflate false positives. Visits after the decision point are not counted. Experiments are small JSON
files in the data directory, so the page, the site-side command (`python -m services.evaluation.arm`)
and every process agree.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from scipy import stats

from services.core.config import data_dir
from services.evaluation.impact import Comparison, compare, impact_table
from services.evaluation.simulation import assign_arm

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def impressions_per_arm(baseline: float, min_lift: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Impressions each arm needs so a relative lift of `min_lift` over `baseline` click-through is found
    with probability `power` by a two-sided test at `alpha`."""
    if not 0 < baseline < 1:
        raise ValueError("The baseline click-through must be between 0 and 1 (e.g. 0.05 for 5%).")
    if min_lift <= 0 or baseline * (1 + min_lift) >= 1:
        raise ValueError("The minimum detectable lift must be positive and keep the click-through below 100%.")
    if not 0 < alpha < 0.5 or not 0.5 <= power < 1:
        raise ValueError("α must be between 0 and 0.5, and the power between 0.5 and 1.")
    p1, p2 = baseline, baseline * (1 + min_lift)
    pooled = (p1 + p2) / 2
    z_alpha, z_power = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    root = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root * root / (p2 - p1) ** 2)


@dataclass(frozen=True)
class Experiment:
    name: str
    dataset_group: str
    control: str  # campaign or recommender ARN of arm 0
    treatment: str  # arm 1
    baseline: float
    min_lift: float
    alpha: float = 0.05
    power: float = 0.8
    list_length: int = 10
    start: float = 0.0  # the first simulated day (Unix seconds)
    created: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError("An experiment's name is 1-63 letters, digits, '.', '_' or '-', starting with a "
                             "letter or digit.")
        if self.control == self.treatment:
            raise ValueError("An experiment compares two different campaigns.")
        impressions_per_arm(self.baseline, self.min_lift, self.alpha, self.power)  # refuses bad settings

    @property
    def arms(self) -> tuple[str, str]:
        return self.control, self.treatment

    @property
    def impressions_needed(self) -> int:
        """Per arm: the decision point."""
        return impressions_per_arm(self.baseline, self.min_lift, self.alpha, self.power)

    @property
    def visits_needed(self) -> int:
        """Both arms together, at `list_length` items a visit: the planned horizon in visits."""
        return 2 * math.ceil(self.impressions_needed / self.list_length)

    def arm_of(self, user_id: str) -> int:
        return assign_arm(str(user_id), self.name, 2)

    def campaign_for(self, user_id: str) -> str:
        return self.arms[self.arm_of(user_id)]


class ExperimentStore:
    """Experiments (`<name>.json`) and their simulated logs (`<name>.parquet`) under the data directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root

    @property
    def folder(self) -> Path:
        path = self.root or data_dir() / "experiments"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _path(self, name: str, suffix: str) -> Path:
        if not NAME_PATTERN.match(name):
            raise ValueError(f"{name[:70]!r} is not an experiment name.")
        return self.folder / f"{name}{suffix}"

    def save(self, experiment: Experiment, replace: bool = False) -> None:
        path = self._path(experiment.name, ".json")
        if path.exists() and not replace:
            raise ValueError(f"An experiment named {experiment.name} exists already; choose another name.")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(experiment), indent=2), encoding="utf-8")
        tmp.replace(path)

    def load(self, name: str) -> Experiment:
        path = self._path(name, ".json")
        if not path.exists():
            raise ValueError(f"No experiment named {name}.")
        return Experiment(**json.loads(path.read_text(encoding="utf-8")))

    def names(self, dataset_group: str | None = None) -> list[str]:
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                experiment = self.load(path.stem)
            except (ValueError, TypeError, json.JSONDecodeError):
                continue  # a damaged file is skipped, not fatal to the page
            if dataset_group is None or experiment.dataset_group == dataset_group:
                out.append(path.stem)
        return out

    def log(self, name: str) -> pd.DataFrame | None:
        path = self._path(name, ".parquet")
        return pd.read_parquet(path) if path.exists() else None

    def append_log(self, name: str, log: pd.DataFrame) -> pd.DataFrame:
        """The experiment's log with `log` appended (visits renumbered after the previous ones), saved."""
        before = self.log(name)
        if before is not None and len(before):
            log = log.assign(visit=log["visit"] + int(before["visit"].max()) + 1)
            log = pd.concat([before, log], ignore_index=True)
        path = self._path(name, ".parquet")
        tmp = path.with_suffix(".parquet.tmp")
        log.to_parquet(tmp, index=False)
        tmp.replace(path)
        return log


@dataclass(frozen=True)
class Readout:
    """Where an experiment stands: its progress to the decision point, and the verdict once it is reached."""

    experiment: Experiment
    impressions: tuple[int, int]  # counted so far per arm
    visits: int  # visits counted (at most the planned horizon)
    table: pd.DataFrame  # impact_table of the counted visits
    comparison: Comparison | None  # only once both arms reached the sample size

    @property
    def decided(self) -> bool:
        return self.comparison is not None

    @property
    def stopping_rule(self) -> str:
        e = self.experiment
        return (f"{self.visits:,} of {e.visits_needed:,} visits; decide at {e.visits_needed:,} "
                f"({e.impressions_needed:,} impressions per arm, to find a {e.min_lift:.0%} lift over "
                f"{e.baseline:.1%} click-through with α = {e.alpha} and power {e.power:.0%}).")


def readout(experiment: Experiment, log: pd.DataFrame | None, names: dict[str, str] | None = None) -> Readout:
    """The experiment's figures over its first `visits_needed` visits; the verdict once they are all in."""
    names = names or {}
    log = log if log is not None else pd.DataFrame(columns=["visit", "event_type", "campaign_arn"])
    horizon = experiment.visits_needed
    visits = sorted(log["visit"].unique())
    decided = len(visits) >= horizon
    if decided:
        log = log[log["visit"] <= visits[horizon - 1]]
    shown = log[log["event_type"] == "impression"]
    counts = tuple(int((shown["campaign_arn"] == arm).sum()) for arm in experiment.arms)
    table = impact_table(log) if len(shown) else pd.DataFrame()
    result = None
    if decided:
        rows = table.set_index("campaign")
        if not all(arm in rows.index for arm in experiment.arms):
            raise ValueError("One arm of the experiment was never shown: check that both campaigns answer.")
        control, treatment = rows.loc[experiment.control], rows.loc[experiment.treatment]
        result = compare(int(control["clicks"]), int(control["impressions"]), int(treatment["clicks"]),
                         int(treatment["impressions"]), names.get(experiment.control, "control"),
                         names.get(experiment.treatment, "treatment"), experiment.alpha)
    return Readout(experiment, (counts[0], counts[1]), min(len(visits), horizon), table, result)
