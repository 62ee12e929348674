"""Browser tests: the real dashboard (`streamlit run app.py`, which starts its own engine) in Debian's
headless Chromium driven by Playwright. Never `playwright install`: it cannot download here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.core.waiting import poll_until
from tests.support.engine_process import CREDENTIALS, REPO, TEST_CONFIG

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", REPO / "screenshots"))


def _required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dashboard:
    url: str
    data_dir: Path
    process: subprocess.Popen

    def engine_url(self, timeout: float = 60) -> str:
        """The engine the dashboard started (it writes its URL into its data dir)."""
        path = self.data_dir / "engine" / "engine.url"
        # The file appears once the engine listens.
        poll_until(path.exists, bool, timeout, interval=0.1,
                   timeout_message=lambda _: "the dashboard did not start its engine")
        return path.read_text().strip()

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.engine_url(), config=TEST_CONFIG, **CREDENTIALS)


def start_dashboard(data_dir: Path, extra_env: dict[str, str] | None = None) -> Dashboard:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PERSONALIZE_ENGINE_URL"}
    env.update({"PERSONALIZE_BACKEND": "local", "PERSONALIZE_DATA_DIR": str(data_dir), **(extra_env or {})})
    log = (data_dir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        up = poll_until(lambda: _answers(f"{url}/_stcore/health"), lambda ok: ok or proc.poll() is not None, 60,
                        interval=0.2)
    except TimeoutError:
        up = False
    if not up:
        proc.kill()
        raise RuntimeError("streamlit did not start: " + (data_dir / "streamlit.log").read_text()[-2000:])
    return Dashboard(url, data_dir, proc)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def stop_dashboard(dash: Dashboard) -> None:
    dash.process.terminate()
    try:
        dash.process.wait(15)
    except subprocess.TimeoutExpired:
        dash.process.kill()


@contextmanager
def dashboard_with_demo_shop(data_dir: Path, plan) -> Iterator[Dashboard]:
    """A dashboard on an engine of its own (PERSONALIZE_ENGINE_URL) holding a demo shop made beforehand,
    small and seeded; the shop's staged files sit in `data_dir`, where the dashboard reads them."""
    from services.core.clients import Clients
    from services.core.config import BackendInfo
    from services.demo.shop_setup import create_demo_shop
    from tests.support.engine_process import EngineProcess

    engine = EngineProcess.start(data_dir / "engine")
    try:
        mp = pytest.MonkeyPatch()
        mp.setenv("PERSONALIZE_DATA_DIR", str(data_dir))
        create_demo_shop(Clients(BackendInfo("local", "us-east-1", engine.url, None)), plan)
        mp.undo()
        dash = start_dashboard(data_dir, {"PERSONALIZE_ENGINE_URL": engine.url})
        try:
            yield dash
        finally:
            stop_dashboard(dash)
    finally:
        engine.stop()


@contextmanager
def dashboard_with_small_shop(engine, data_dir: Path, name: str) -> Iterator[tuple[Dashboard, object]]:
    """A dashboard on the session's engine holding `small_shop`'s seeded, trained shop `name` (its
    staged files in `data_dir`, where the dashboard reads them); yields the dashboard and the shop."""
    from tests.support.shops import small_shop

    with small_shop(engine, data_dir, name) as shop:
        pass
    dash = start_dashboard(data_dir, {"PERSONALIZE_ENGINE_URL": engine.url})
    try:
        yield dash, shop
    finally:
        stop_dashboard(dash)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    dash = start_dashboard(tmp_path_factory.mktemp("dashboard"))
    yield dash
    stop_dashboard(dash)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if _required():
            pytest.fail(f"Chromium is required for browser tests but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page) -> None:
    """Streamlit renders after its websocket connects; wait until no script is running."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )


def open_page(page, url: str, link: str) -> None:
    """Load the dashboard at `url` and go to one page by its sidebar link, waiting until it has rendered."""
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("link", name=link, exact=True).first.click()
    wait_for_app(page)
