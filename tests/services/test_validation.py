"""Validation findings on small hand-made frames, the timestamp fix, and a 1M-row run."""

import numpy as np
import pandas as pd
import pytest

from services.data.schemas import build_schema, demo_shop_schema, ecommerce_schema
from services.data.validation import fix_timestamps, to_unix_seconds, validate
from services.demo.shop_data import generate_shop

NOW = 1_750_000_000  # a fixed "now" keeps the future-timestamp check deterministic
INTERACTIONS = ecommerce_schema("Interactions")


@pytest.fixture(scope="module")
def small_shop():
    return generate_shop(n_users=200, n_items=120, n_interactions=3_000, seed=0)


def frame(**overrides) -> pd.DataFrame:
    base = {
        "USER_ID": ["u1", "u2", "u3", "u4"],
        "ITEM_ID": ["i1", "i2", "i3", "i4"],
        "TIMESTAMP": [1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300],
        "EVENT_TYPE": ["view", "click", "purchase", "view"],
        "EVENT_VALUE": [np.nan, np.nan, 19.99, np.nan],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_clean_frame_is_ok():
    report = validate(frame(), INTERACTIONS, "Interactions", now=NOW)
    assert report.ok and report.findings == []


def test_demo_shop_passes_its_schema(small_shop):
    for kind, df in (
        ("Interactions", small_shop.interactions),
        ("Items", small_shop.items),
        ("Users", small_shop.users),
    ):
        report = validate(df, demo_shop_schema(kind), kind, now=NOW)
        assert report.ok, report.summary()
        assert not report.warnings, report.summary()


def test_missing_required_column_is_an_error_naming_it():
    report = validate(frame().drop(columns=["TIMESTAMP"]), INTERACTIONS, "Interactions", now=NOW)
    finding = report.by_code("missing_column")
    assert not report.ok and "TIMESTAMP" in finding.message


def test_missing_optional_column_is_info_only():
    report = validate(frame().drop(columns=["EVENT_VALUE"]), INTERACTIONS, "Interactions", now=NOW)
    assert report.ok and report.by_code("missing_optional_column").severity == "info"


def test_extra_column_warns():
    report = validate(frame(COLOR=["r", "g", "b", "k"]), INTERACTIONS, "Interactions", now=NOW)
    assert report.ok
    assert "COLOR" in report.by_code("extra_column").message


def test_schema_without_required_field():
    schema = build_schema("Items", [{"name": "PRICE", "type": "float"}])
    report = validate(frame(), schema.__class__(schema.name, schema.fields[1:]), "Items", now=NOW)
    assert "schema_missing_required_field" in report.codes()


@pytest.mark.parametrize(
    ("factor", "code"),
    [
        (1_000, "timestamp_milliseconds"),
        (1_000_000, "timestamp_microseconds"),
        (10**9, "timestamp_nanoseconds"),
    ],
)
def test_timestamp_units_detected_with_rows_and_fixed(factor, code):
    ts = np.array([1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300], dtype=np.int64)
    ts_mixed = ts.copy()
    ts_mixed[[1, 3]] *= factor
    df = frame(TIMESTAMP=ts_mixed)
    report = validate(df, INTERACTIONS, "Interactions", now=NOW)
    finding = report.by_code(code)
    assert finding is not None and finding.severity == "error"
    assert finding.row_numbers.tolist() == [3, 5]  # data rows 2 and 4, after the header line
    assert finding.sample.index.tolist() == [3, 5]
    assert "future_timestamp" not in report.codes()  # milliseconds are not also "in the future"
    fixed = fix_timestamps(df)
    assert fixed["TIMESTAMP"].tolist() == ts.tolist()
    assert validate(fixed, INTERACTIONS, "Interactions", now=NOW).ok
    assert df["TIMESTAMP"].tolist() == ts_mixed.tolist()  # the input is left alone


def test_fix_converts_datetimes_and_iso_text():
    df = frame(TIMESTAMP=pd.to_datetime([1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300], unit="s"))
    assert fix_timestamps(df)["TIMESTAMP"].tolist() == [
        1_700_000_000,
        1_700_000_100,
        1_700_000_200,
        1_700_000_300,
    ]
    text = pd.Series(["2023-11-14T22:13:20Z", "1700000000", "not a date", None])
    assert to_unix_seconds(text).tolist() == [1_700_000_000, 1_700_000_000, pd.NA, pd.NA]


def test_non_numeric_timestamp_and_price():
    report = validate(
        frame(TIMESTAMP=["1700000000", "yesterday", "1700000200", "1700000300"]),
        INTERACTIONS,
        "Interactions",
        now=NOW,
    )
    finding = report.by_code("wrong_type")
    assert finding.column == "TIMESTAMP" and finding.row_numbers.tolist() == [3]
    items = pd.DataFrame(
        {
            "ITEM_ID": ["a", "b"],
            "PRICE": ["9.99", "free"],
            "CATEGORY_L1": ["x", "y"],
            "CATEGORY_L2": [None, "z"],
            "CREATION_TIMESTAMP": [1_700_000_000, 1_700_000_000],
        }
    )
    report = validate(items, ecommerce_schema("Items"), "Items", now=NOW)
    assert report.by_code("wrong_type").column == "PRICE"
    assert report.by_code("wrong_type").row_numbers.tolist() == [3]


def test_fractional_long_is_flagged():
    report = validate(
        frame(TIMESTAMP=[1_700_000_000.5, 1_700_000_100, 1_700_000_200, 1_700_000_300]),
        INTERACTIONS,
        "Interactions",
        now=NOW,
    )
    assert report.by_code("not_whole_number").row_numbers.tolist() == [2]


def test_future_timestamps_warn():
    report = validate(
        frame(TIMESTAMP=[NOW - 10, NOW + 3600, NOW - 5, NOW + 7200]), INTERACTIONS, "Interactions", now=NOW
    )
    finding = report.by_code("future_timestamp")
    assert report.ok and finding.severity == "warning" and finding.row_numbers.tolist() == [3, 5]


def test_empty_ids_and_event_types():
    df = frame(USER_ID=["u1", "", None, "u4"], EVENT_TYPE=["view", " ", "click", None])
    report = validate(df, INTERACTIONS, "Interactions", now=NOW)
    assert report.by_code("empty_id").row_numbers.tolist() == [3, 4]
    assert report.by_code("empty_event_type").row_numbers.tolist() == [3, 5]
    assert not report.ok


def test_empty_event_type_ignored_when_schema_lacks_it():
    schema = build_schema("Interactions", [])
    report = validate(frame(EVENT_TYPE=["", "", "", ""]), schema, "Interactions", now=NOW)
    assert "empty_event_type" not in report.codes()


def test_exact_duplicates_listed_after_first_copy():
    df = pd.concat([frame(), frame().iloc[[1]], frame().iloc[[1]]], ignore_index=True)
    report = validate(df, INTERACTIONS, "Interactions", now=NOW)
    finding = report.by_code("duplicate_events")
    assert finding.row_numbers.tolist() == [6, 7] and report.ok


def test_ids_longer_than_256_chars():
    report = validate(frame(ITEM_ID=["i1", "x" * 257, "x" * 256, "i4"]), INTERACTIONS, "Interactions", now=NOW)
    assert report.by_code("field_too_long").row_numbers.tolist() == [3]


def test_empty_frame():
    report = validate(frame().iloc[:0], INTERACTIONS, "Interactions", now=NOW)
    assert not report.ok and "empty_file" in report.codes()


def test_summary_table_has_one_line_per_finding():
    df = frame(
        TIMESTAMP=[1_700_000_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300],
        USER_ID=["", "a", "b", "c"],
    )
    report = validate(df, INTERACTIONS, "Interactions", now=NOW)
    summary = report.summary()
    assert len(summary) == len(report.findings) and summary["severity"].iloc[0] == "error"


def test_one_million_rows_find_planted_problems():
    rng = np.random.default_rng(7)
    n = 1_000_000
    df = pd.DataFrame(
        {
            "USER_ID": pd.Series(rng.integers(0, 50_000, n)).astype(str).radd("u"),
            "ITEM_ID": pd.Series(rng.integers(0, 5_000, n)).astype(str).radd("i"),
            "TIMESTAMP": rng.integers(1_690_000_000, 1_700_000_000, n),
            "EVENT_TYPE": np.array(["view", "click", "purchase"], dtype=object)[rng.integers(0, 3, n)],
            "EVENT_VALUE": np.nan,
        }
    )
    bad = rng.choice(n, 40, replace=False)
    df.loc[bad[:20], "TIMESTAMP"] *= 1000
    df.loc[bad[20:], "USER_ID"] = ""
    report = validate(df, INTERACTIONS, "Interactions", now=NOW)
    assert sorted(report.by_code("timestamp_milliseconds").row_numbers) == sorted(bad[:20] + 2)
    assert sorted(report.by_code("empty_id").row_numbers) == sorted(bad[20:] + 2)
