"""Clicks the dashboard must not lose, in Debian's Chromium: each test clicks ONCE and waits for the
effect. What the browser sends is recorded (Streamlit's BackMsg over the websocket), so a failure says
whether the click never left the browser or the server ignored it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.demo.shop_setup import DemoPlan
from tests.browser.conftest import (
    Dashboard,
    dashboard_with_demo_shop,
    screenshot,
    start_dashboard,
    stop_dashboard,
    wait_for_app,
)

pytestmark = pytest.mark.browser

SHOP = DemoPlan.small(name="demo-shop")
# A lost click never shows its effect, however long the wait: this only bounds how long a slow, loaded
# machine may take to run the rerun the click sent (20 s was exceeded once on a 2-core VM in a full run).
EFFECT_TIMEOUT_MS = 90_000


class SentReruns:
    """The rerun requests the page sends: which widgets each carries as triggered (a button click)."""

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", self._sent))

    def _sent(self, payload: bytes | str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if not isinstance(payload, bytes):
            return
        msg = BackMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") != "rerun_script":
            return
        rerun = msg.rerun_script
        widgets = [f"{w.id.rsplit('-', 1)[-1]}={w.WhichOneof('value')}:{getattr(w, w.WhichOneof('value') or 'id')}"
                   for w in rerun.widget_states.widgets]
        self.messages.append(f"rerun fragment={rerun.fragment_id or '-'} widgets={widgets}")

    def __str__(self) -> str:
        return "\n".join(self.messages) or "(nothing sent)"


@pytest.fixture(scope="module")
def shop_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with dashboard_with_demo_shop(tmp_path_factory.mktemp("lost-clicks"), SHOP) as dash:
        yield dash


def open_app(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("link", name="Compare recipes").first.wait_for()  # app.py's navigation is drawn


def test_the_first_click_on_create_a_demo_shop_after_opening_the_expander_runs_it(shop_dashboard, page) -> None:
    sent = SentReruns(page)
    page.set_viewport_size({"width": 1400, "height": 2000})
    open_app(page, shop_dashboard.url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Demo data").click()
    before = len(sent.messages)
    sidebar.get_by_role("button", name="Create a demo shop").click()
    try:
        sidebar.get_by_text("Setting up the demo shop").first.wait_for(timeout=EFFECT_TIMEOUT_MS)
    except Exception as exc:
        screenshot(page, "lost-click-demo")
        raise AssertionError(f"one click did not start the demo shop; sent since the click:\n"
                             f"{chr(10).join(sent.messages[before:]) or '(nothing)'}\nall:\n{sent}") from exc


def test_the_first_click_after_a_retrain_finishes_is_not_lost(shop_dashboard, page) -> None:
    sent = SentReruns(page)
    page.set_viewport_size({"width": 1440, "height": 2200})
    open_app(page, shop_dashboard.url)
    page.get_by_role("link", name="Training", exact=True).first.click()
    wait_for_app(page)
    page.get_by_text("Retrain and deploy").first.wait_for()
    retrain = page.locator('[data-testid="stMain"]').get_by_role("button", name="Retrain ")
    retrain.first.click()
    page.get_by_role("button", name="Confirm").click()
    # at once, while the progress fragment's closing full rerun may still be on its way
    page.get_by_text("Retrain finished:").first.wait_for(timeout=120_000)
    before = len(sent.messages)
    retrain.first.click()  # once: it asks again, stating what it costs
    try:
        page.get_by_text("switches every campaign of this solution").first.wait_for(timeout=EFFECT_TIMEOUT_MS)
    except Exception as exc:
        screenshot(page, "lost-click-retrain")
        raise AssertionError(f"one click after the retrain finished did nothing; sent since the click:\n"
                             f"{chr(10).join(sent.messages[before:]) or '(nothing)'}") from exc


@pytest.fixture(scope="module")
def guarded_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    data_dir: Path = tmp_path_factory.mktemp("lost-clicks-sign-in")
    dash = start_dashboard(data_dir, {"PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD": "correct horse"})
    yield dash
    stop_dashboard(dash)


def test_the_first_sign_in_after_a_page_load_signs_in(guarded_dashboard, page) -> None:
    sent = SentReruns(page)
    page.goto(guarded_dashboard.url)
    wait_for_app(page)
    page.get_by_label("Your name (for the audit log)").fill("Ada")
    page.get_by_label("Password", exact=True).fill("correct horse")
    before = len(sent.messages)
    page.get_by_role("button", name="Sign in").click()  # once
    try:
        page.locator('[data-testid="stSidebar"]').get_by_text("operator").first.wait_for(timeout=EFFECT_TIMEOUT_MS)
    except Exception as exc:
        screenshot(page, "lost-click-sign-in")
        raise AssertionError(f"one click on Sign in did not sign in; sent since the click:\n"
                             f"{chr(10).join(sent.messages[before:]) or '(nothing)'}") from exc
    assert page.get_by_role("link", name="Compare recipes").count() >= 1
