"""Compare page (AppTest): the noise statement agrees with the spread the README measured, and the
dashboard's metric definitions are a list, never "Higher is better.; Hit rate@K"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.models.comparison import SPLIT_SPREAD
from tests.support.shops import open_page, small_shop

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-compare-words"), "pcw-shop") as s:
        yield s


def test_noise_statement_matches_the_readme_and_metrics_read_as_a_list(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/compare.py")
    captions = "\n".join(c.value for c in at.caption)
    assert "0.015" not in captions
    stated = re.search(r"±(\d\.\d+)", captions)
    assert stated is not None, captions
    readme = README.read_text(encoding="utf-8")
    measured = re.search(r"varies by ±(\d\.\d+) between\s+split seeds", readme)
    assert measured is not None and float(stated.group(1)) == float(measured.group(1)) == SPLIT_SPREAD
    shown = "\n".join(m.value for m in at.markdown)
    assert ".; " not in shown
    assert re.search(r"^- Hit rate\\?@K: ", shown, re.MULTILINE), shown
