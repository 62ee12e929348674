"""Retrain in Debian's Chromium on a demo shop: press Retrain, watch the steps complete, see the campaign
serve the new version; reopening the page (a new tab) still shows the run. A screenshot is kept.

The dashboard is pointed at the test engine (PERSONALIZE_ENGINE_URL), so the small seeded demo shop can be
made beforehand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import (
    Dashboard,
    dashboard_with_small_shop,
    screenshot,
    wait_for_app,
)
from tests.support.shops import Shop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop_dashboard(engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, Shop]]:
    with dashboard_with_small_shop(engine, tmp_path_factory.mktemp("retrain-flow"), "rt-shop") as (dash, shop):
        yield dash, shop


def open_training(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    # app.py's navigation (sections, titles) replaces Streamlit's file list once the script has run
    page.get_by_role("link", name="Compare recipes").first.wait_for()
    page.get_by_role("link", name="Training", exact=True).first.click()
    wait_for_app(page)
    try:
        page.get_by_text("Retrain and deploy").first.wait_for()
    except Exception:
        screenshot(page, "retrain-flow-failed")
        raise


def test_retrain_ends_with_the_campaign_on_the_new_version(shop_dashboard, page, browser):
    dash, shop = shop_dashboard
    before = shop.serving("aws-user-personalization")
    page.set_viewport_size({"width": 1440, "height": 2200})
    open_training(page, dash.url)
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="rt-shop-user-personalization").click()
    wait_for_app(page)
    page.get_by_role("button", name="Retrain rt-shop-user-personalization").click()
    page.get_by_text("switches every campaign of this solution").first.wait_for()  # the cost is stated first
    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text("Retrain finished: rt-shop-user-personalization now serves").first
    done.wait_for(timeout=90_000)  # the page polls the stored run once a second
    for step in ("Create a solution version", "Wait until the version is ACTIVE",
                 "Update the campaigns to the new version", "Verify with DescribeCampaign"):
        assert page.get_by_text(step).first.is_visible()
    after = shop.serving("aws-user-personalization")
    assert after != before and after.rsplit("/", 1)[-1] in done.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert screenshot(page, "retrain-flow").stat().st_size > 10_000

    # a new tab (the browser was closed and reopened) shows the same run from the server's store
    other = browser.new_context(viewport={"width": 1440, "height": 2200}).new_page()
    try:
        open_training(other, dash.url)
        other.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
        other.get_by_role("option", name="rt-shop-user-personalization").click()
        wait_for_app(other)
        other.get_by_text("Retrain finished: rt-shop-user-personalization now serves").first.wait_for()
    finally:
        other.context.close()
