"""The side-by-side grid in Debian's Chromium, on a demo shop: the verdict is visible; a screenshot is kept.

The dashboard is pointed at an engine of this module's own (PERSONALIZE_ENGINE_URL) rather than starting
one, so the demo shop (`demo-shop`, the first group the sidebar picks) is made beforehand, small and seeded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan, create_demo_shop
from tests.browser.conftest import Dashboard, screenshot, start_dashboard, stop_dashboard, wait_for_app
from tests.support.engine_process import EngineProcess


@pytest.fixture(scope="module")
def shop_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    data_dir: Path = tmp_path_factory.mktemp("side-by-side")
    engine = EngineProcess.start(data_dir / "engine")
    mp = pytest.MonkeyPatch()
    mp.setenv("PERSONALIZE_DATA_DIR", str(data_dir))  # the demo's staged files, read by the dashboard
    create_demo_shop(Clients(BackendInfo("local", "us-east-1", engine.url, None)), DemoPlan.small(name="demo-shop"))
    mp.undo()
    dash = start_dashboard(data_dir, {"PERSONALIZE_ENGINE_URL": engine.url})
    yield dash
    stop_dashboard(dash)
    engine.stop()


def test_side_by_side_shows_the_verdict(shop_dashboard, page):
    page.set_viewport_size({"width": 1440, "height": 3000})  # Streamlit scrolls inside its own container
    page.goto(shop_dashboard.url)
    wait_for_app(page)
    page.get_by_role("link", name="Side by side").first.click()
    wait_for_app(page)
    page.get_by_text("Are users getting the same items?").wait_for()
    # users with history get personal lists; users with none share the cold-start list, said as expected
    verdict = page.get_by_text("Recommendations look personal for users with history").first
    verdict.wait_for()
    note = page.get_by_text("of users with no interactions get the same top 10: expected, not a fault").first
    assert note.is_visible()
    assert page.get_by_text("Baseline: aws-popularity-count gives every user much the same list").first.is_visible()
    assert page.get_by_text("No history: a new user.").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    path = screenshot(page, "side-by-side")
    assert path.stat().st_size > 10_000
