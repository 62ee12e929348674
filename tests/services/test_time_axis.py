"""The per-day chart's time axis: clipped to the bulk of the data, with the outliers named."""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.data.file_profile import profile_frame
from services.data.time_axis import clip_days

DAY = 86_400
START = 1_735_689_600  # 2025-01-01


def _per_day(timestamps: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"USER_ID": "u", "ITEM_ID": "i", "TIMESTAMP": timestamps})
    return profile_frame(frame).events_per_day


def test_one_event_in_2030_is_named_not_drawn() -> None:
    rng = np.random.default_rng(7)
    stamps = [START + int(s) for s in rng.integers(0, 90 * DAY, 7_000)] + [1_893_456_000]  # 2030-01-01
    clipped = clip_days(_per_day(stamps))
    assert clipped.shown["date"].max() < pd.Timestamp("2025-04-01")
    assert list(clipped.outliers["date"]) == [pd.Timestamp("2030-01-01")]
    assert clipped.outlier_events == 1
    assert "2030-01-01 (1)" in clipped.note() and "Check their timestamps" in clipped.note()
    assert int(clipped.shown["events"].sum()) == 7_000


def test_little_data_with_a_far_outlier_is_clipped_too() -> None:
    stamps = [START + d * DAY for d in range(40)] + [START - 3_000 * DAY]  # one event 8 years early
    clipped = clip_days(_per_day(stamps))
    assert clipped.outlier_events == 1 and clipped.shown["date"].min() == pd.Timestamp("2025-01-01")


def test_a_ramp_up_is_not_an_outlier() -> None:
    # Few events in the first weeks, many later: thin days at the start are data, not errors.
    stamps = [START + d * DAY for d in range(30)] + [START + (30 + d % 60) * DAY for d in range(20_000)]
    clipped = clip_days(_per_day(stamps))
    assert not clipped.clipped and clipped.note() == ""
    assert len(clipped.shown) == 90


def test_never_more_than_a_sliver_is_hidden() -> None:
    # A year of thin history (5 % of events) before a busy fortnight: far from the quartiles, but data.
    history = [START + (d % 365) * DAY for d in range(1_000)]
    busy = [START + (365 + d % 14) * DAY for d in range(19_000)]
    clipped = clip_days(_per_day(history + busy))
    assert clipped.outlier_events <= 0.005 * 20_000
    assert int(clipped.shown["events"].sum()) + clipped.outlier_events == 20_000
