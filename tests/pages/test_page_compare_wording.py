"""Compare page (AppTest): no fixed noise figure, the noise measured per user (an interval on each of the
dashboard's values, and the headline's "within noise" from the interval of the difference), and the
dashboard's metric definitions as a list, never "Higher is better.; Hit rate@K"."""

from __future__ import annotations

import re

import pytest

from tests.support.shops import open_page, small_shop

INTERVAL_CELL = re.compile(r"^\d\.\d{3} \((\d\.\d{3})–(\d\.\d{3})\)$")


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-compare-words"), "pcw-shop") as s:
        yield s


def test_no_fixed_noise_figure_and_metrics_read_as_a_list(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/compare.py")
    captions = "\n".join(c.value for c in at.caption)
    assert "0.015" not in captions and "±0.05" not in captions
    assert "not the per-user values behind it" in captions and "bootstrap interval" in captions
    assert "within noise" not in at.success[0].value  # one number per version: no noise claim
    shown = "\n".join(m.value for m in at.markdown)
    assert ".; " not in shown
    assert re.search(r"^- Hit rate\\?@K: ", shown, re.MULTILINE), shown


def test_the_dashboards_metrics_carry_intervals_and_the_headline_uses_them(shop, monkeypatch):
    _, later = shop.plan.phases()
    assert shop.import_frame(later, "pcw-later") == "ACTIVE"  # what users did next: the truth
    at = open_page(monkeypatch, shop, "pages/compare.py", timeout=240)
    next(b for b in at.button if "Compute the dashboard" in b.label).click().run(timeout=240)
    assert not at.exception, at.exception
    table = at.dataframe[-1].value.set_index("recipe")
    for recipe in ("aws-user-personalization", "aws-popularity-count"):
        cell = table.loc[recipe, "Recall@25"]
        found = INTERVAL_CELL.match(cell)
        assert found, cell
        low, high = float(found.group(1)), float(found.group(2))
        assert low <= float(cell.split()[0]) <= high and low < high  # a real spread, around the value
    assert not INTERVAL_CELL.match(table.loc["aws-user-personalization", "Personalization"])  # a set metric
    sentence = next(s.value for s in at.success if "computed by this dashboard" in s.value)
    assert "90% interval" in sentence and ("beyond noise" in sentence or "within noise" in sentence)
    # The headline at the top carries the same measured verdict.
    top = next(i.value for i in at.info if i.value.startswith("Measured per user on this dashboard"))
    assert ("beyond noise" in top) == ("beyond noise" in sentence)
    assert any("bootstrap resamples of these users" in c.value for c in at.caption)
