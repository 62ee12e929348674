"""What each campaign earned, from the log of what was shown and what shoppers did.

Attribution rule: a click or purchase of an item is the campaign's when the same shopper was shown that
item by the campaign at most `window_s` seconds before (the newest such impression wins). Clicks and
purchases of items no list showed in the window are counted as unattributed: the shopper found them
elsewhere. Figures per campaign:

- impressions: items shown (a list of 10 is 10 impressions);
- click-through: attributed clicks / impressions;
- conversion: lists with at least one attributed purchase / lists shown;
- revenue: the summed price of attributed purchases, and revenue per visit (per list shown).

Intervals of proportions are Wilson score intervals. Revenue's interval is a normal interval on the mean
revenue per visit (sample standard deviation, z = 1.96 at 95%), scaled by the visits for the total, its lower end
clipped at 0. Why
normal rather than a bootstrap over shoppers: the mean of thousands of visits is close to normal even
though one visit's revenue is mostly zero; it is exact arithmetic (no seed, the same figures on every
reload) and costs one pass at a million events, where a bootstrap costs a thousand. Like the click test it
treats visits as independent; a shopper's visits share tastes, so it is somewhat narrow.

Two campaigns compare by the two-proportion z-test on
click-through (pooled variance), and the lift's interval is the delta-method interval of the log ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_WINDOW_S = 30 * 60


def wilson_interval(successes: np.ndarray | int, trials: np.ndarray | int,
                    confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, vectorised; (nan, nan) where there were no trials."""
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def attribute(log: pd.DataFrame, window_s: float = DEFAULT_WINDOW_S) -> pd.DataFrame:
    """The clicks and purchases of the log, each with the campaign and list (`source_*`) it is
    attributed to, or NaN when no impression of the item to that shopper came within the window."""
    actions = log[log["event_type"] != "impression"].sort_values("time", kind="stable")
    shown = log[log["event_type"] == "impression"][["time", "user_id", "item_id", "campaign_arn",
                                                    "recommendation_id"]]
    shown = shown.rename(columns={"campaign_arn": "source_campaign", "recommendation_id": "source_list"})
    merged = pd.merge_asof(actions.drop(columns=["campaign_arn", "recommendation_id"]),
                           shown.sort_values("time", kind="stable"), on="time", by=["user_id", "item_id"],
                           direction="backward", tolerance=window_s)
    return merged


def impact_table(log: pd.DataFrame, window_s: float = DEFAULT_WINDOW_S, confidence: float = 0.95) -> pd.DataFrame:
    """One row per campaign: lists, impressions, clicks, click-through with its interval, purchases,
    conversion with its interval, revenue; plus unattributed clicks and purchases in the last row's
    columns `unattributed_*` (the same value on every row)."""
    shown = log[log["event_type"] == "impression"]
    per = shown.groupby("campaign_arn").agg(lists=("recommendation_id", "nunique"), impressions=("item_id", "size"))
    acted = attribute(log, window_s)
    done = acted.dropna(subset=["source_campaign"])
    clicks = done[done["event_type"] == "click"].groupby("source_campaign").size()
    bought = done[done["event_type"] == "purchase"]
    per["clicks"] = clicks.reindex(per.index, fill_value=0).astype(int)
    per["purchases"] = bought.groupby("source_campaign").size().reindex(per.index, fill_value=0).astype(int)
    per["converted_lists"] = (bought.groupby("source_campaign")["source_list"].nunique()
                              .reindex(per.index, fill_value=0).astype(int))
    per["revenue"] = bought.groupby("source_campaign")["price"].sum().reindex(per.index, fill_value=0.0)
    per["click_through"] = per["clicks"] / per["impressions"]
    per["click_through_low"], per["click_through_high"] = wilson_interval(per["clicks"], per["impressions"],
                                                                          confidence)
    per = per.join(revenue_per_visit(shown, bought, confidence))
    per["revenue_low"] = per["revenue_per_visit_low"] * per["lists"]
    per["revenue_high"] = per["revenue_per_visit_high"] * per["lists"]
    per["conversion"] = per["converted_lists"] / per["lists"]
    per["conversion_low"], per["conversion_high"] = wilson_interval(per["converted_lists"], per["lists"], confidence)
    missing = acted[acted["source_campaign"].isna()]
    per["unattributed_clicks"] = int((missing["event_type"] == "click").sum())
    per["unattributed_purchases"] = int((missing["event_type"] == "purchase").sum())
    return per.reset_index().rename(columns={"campaign_arn": "campaign"})


def revenue_per_visit(shown: pd.DataFrame, bought: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per campaign: mean attributed revenue per visit (list shown; a list nothing was bought from earns
    0) with its normal interval; nan bounds with fewer than two visits (no spread to estimate)."""
    list_campaign = shown.groupby("recommendation_id")["campaign_arn"].first()
    earned = bought.groupby("source_list")["price"].sum().reindex(list_campaign.index, fill_value=0.0)
    per = earned.groupby(list_campaign).agg(["mean", "std", "size"])
    half = stats.norm.ppf(0.5 + confidence / 2) * per["std"] / np.sqrt(per["size"])
    # clipped at 0: with few visits the normal interval reaches below what any visit can earn
    return pd.DataFrame({"revenue_per_visit": per["mean"], "revenue_per_visit_low": (per["mean"] - half).clip(lower=0),
                         "revenue_per_visit_high": per["mean"] + half}, index=per.index)


@dataclass(frozen=True)
class Comparison:
    control: str
    treatment: str
    control_rate: float
    treatment_rate: float
    lift: float  # treatment / control - 1
    lift_low: float
    lift_high: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def verdict(self, control_name: str, treatment_name: str) -> str:
        if not self.significant:
            return (f"No significant difference in click-through between {treatment_name} and {control_name} "
                    f"(p = {self.p_value:.3f}, threshold {self.alpha}); the lift could be anywhere from "
                    f"{self.lift_low:+.1%} to {self.lift_high:+.1%}.")
        better = treatment_name if self.lift > 0 else control_name
        return (f"{better} earns more clicks per impression: lift {self.lift:+.1%} "
                f"({self.lift_low:+.1%} to {self.lift_high:+.1%}), p = {self.p_value:.2g}.")


def compare(clicks_a: int, impressions_a: int, clicks_b: int, impressions_b: int, control: str = "A",
            treatment: str = "B", alpha: float = 0.05) -> Comparison:
    """Two-proportion z-test (two-sided, pooled) of B's click-through against A's, and B's lift."""
    if min(impressions_a, impressions_b) <= 0:
        raise ValueError("Both arms need impressions to compare.")
    pa, pb = clicks_a / impressions_a, clicks_b / impressions_b
    pooled = (clicks_a + clicks_b) / (impressions_a + impressions_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / impressions_a + 1 / impressions_b))
    p_value = float(2 * stats.norm.sf(abs(pb - pa) / se)) if se > 0 else 1.0
    if clicks_a == 0 or clicks_b == 0:
        low = high = float("nan")
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        se_log = np.sqrt(1 / clicks_a - 1 / impressions_a + 1 / clicks_b - 1 / impressions_b)
        ratio = np.log(pb / pa)
        low, high = float(np.exp(ratio - z * se_log) - 1), float(np.exp(ratio + z * se_log) - 1)
    lift = pb / pa - 1 if pa > 0 else float("nan")
    return Comparison(control, treatment, pa, pb, lift, low, high, p_value, alpha)


def hourly_table(log: pd.DataFrame, window_s: float = DEFAULT_WINDOW_S, confidence: float = 0.95) -> pd.DataFrame:
    """Per campaign and simulated hour (counted from the first impression's hour): impressions, attributed
    clicks and purchases, click-through with its Wilson interval, revenue. A click belongs to the hour of
    the impression it is attributed to, so an hour's click-through is about the lists shown in it."""
    shown = log[log["event_type"] == "impression"]
    columns = ["campaign", "hour", "impressions", "clicks", "purchases", "revenue", "click_through",
               "click_through_low", "click_through_high"]
    if shown.empty:
        return pd.DataFrame(columns=columns)
    origin = float(shown["time"].min()) // 3600 * 3600
    hour_of_list = (shown.groupby("recommendation_id")["time"].min() - origin) // 3600
    shown = shown.assign(hour=shown["recommendation_id"].map(hour_of_list).astype(int))
    per = shown.groupby(["campaign_arn", "hour"]).size().rename("impressions").to_frame()
    done = attribute(log, window_s).dropna(subset=["source_campaign"])
    done = done.assign(hour=done["source_list"].map(hour_of_list).astype(int))
    keys = ["source_campaign", "hour"]
    clicks = done[done["event_type"] == "click"].groupby(keys).size()
    bought = done[done["event_type"] == "purchase"]
    per["clicks"] = clicks.reindex(per.index, fill_value=0).astype(int).to_numpy()
    per["purchases"] = bought.groupby(keys).size().reindex(per.index, fill_value=0).astype(int).to_numpy()
    per["revenue"] = bought.groupby(keys)["price"].sum().reindex(per.index, fill_value=0.0).to_numpy()
    per["click_through"] = per["clicks"] / per["impressions"]
    per["click_through_low"], per["click_through_high"] = wilson_interval(per["clicks"], per["impressions"],
                                                                          confidence)
    return per.reset_index().rename(columns={"campaign_arn": "campaign"})[columns]
