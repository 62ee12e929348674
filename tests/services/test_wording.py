"""Counts and shares in words wherever the dashboard states them: "1 row repeats", never "1 rows repeat";
"under 0.1%", never "(0.0%)"; the Campaigns page's own advice does not send the reader to itself."""

from __future__ import annotations

import time

import pandas as pd

from services.core.wording import count, share, verb
from services.data import dataset_status
from services.data.file_profile import profile_frame
from services.data.schemas import ecommerce_schema
from services.data.validation import validate
from services.demo.shop_data import generate_shop
from tests.services.test_mutation_gaps import _health


def test_helpers() -> None:
    assert count(1, "row") == "1 row" and count(2_000, "row") == "2,000 rows"
    assert count(1, "day") == "1 day" and count(3, "entry", "entries") == "3 entries"
    assert share(1, 5_000) == "under 0.1%" and share(0, 10) == "0.0%" and share(1, 4) == "25.0%"
    assert share(4_999, 5_000) == "over 99.9%" and share(1, 0) == "n/a"
    assert verb(1, "serves", "serve") == "serves" and verb(2, "serves", "serve") == "serve"


def test_one_duplicate_in_a_big_file_reads_as_one_row_and_a_real_share() -> None:
    base = generate_shop(300, 150, 6_000, seed=2).interactions
    doubled = pd.concat([base, base.iloc[:1]], ignore_index=True)
    status = dataset_status.DatasetStatus("INTERACTIONS", "x", "arn", "ACTIVE", None, None,
                                          profile=profile_frame(doubled), empty_values={"USER_ID": 1})
    text = " ".join(f.message for f in dataset_status.quality_findings(status, time.time()))
    assert "1 row repeats an earlier row exactly (under 0.1%)" in text, text
    assert "1 rows" not in text and "(0.0%)" not in text
    assert "USER_ID is empty in 1 row;" in text


def test_validation_says_one_row_repeats() -> None:
    base = generate_shop(60, 30, 1_200, seed=2).interactions
    doubled = pd.concat([base, base.iloc[:1]], ignore_index=True)
    report = validate(doubled, ecommerce_schema("Interactions"), "Interactions")
    finding = report.by_code("duplicate_events")
    assert finding is not None and finding.message.startswith("1 row repeats an earlier row"), finding


def test_stale_advice_on_the_campaigns_page_points_at_its_button() -> None:
    assert "(Campaigns page)" in _health().advice()
    here = _health().advice(on_campaigns_page=True)
    assert "Campaigns page" not in here and "Update to newest" in here
