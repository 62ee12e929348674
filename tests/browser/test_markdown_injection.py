"""Data is shown as text in a real browser: an import failure reason quoting a CSV header that carries
Markdown (an image pointing at a local "beacon" server, bold text) and HTML shows literally on Data &
imports and on the Overview, and no request ever reaches the beacon."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot, wait_for_app
from tests.support.engine_process import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def beacon() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()


def _failed_import(dashboard, header: str) -> None:
    """An import into the demo shop whose failure reason quotes `header` (made through the API)."""
    personalize = dashboard.client("personalize")

    def interactions() -> str | None:
        groups = personalize.list_dataset_groups()["datasetGroups"]
        demo = next((g["datasetGroupArn"] for g in groups if g["name"] == "demo-shop"), None)
        if demo is None:
            return None
        datasets = personalize.list_datasets(datasetGroupArn=demo)["datasets"]
        return next((d["datasetArn"] for d in datasets if d["datasetType"].upper() == "INTERACTIONS"), None)

    dataset = wait_for(interactions, bool, timeout=120)
    staging = dashboard.data_dir / "staging"  # inside the folder the dashboard's engine may read
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / "injection.csv"
    path.write_text(f'USER_ID,ITEM_ID,TIMESTAMP,"{header}"\nu1,i1,1700000000,x\n', encoding="utf-8")
    job = personalize.create_dataset_import_job(
        jobName="injection-import", datasetArn=dataset, dataSource={"dataLocation": path.resolve().as_uri()},
        roleArn="arn:aws:iam::000000000000:role/personalize", importMode="INCREMENTAL")["datasetImportJobArn"]
    wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]["status"],
             lambda s: s in ("ACTIVE", "CREATE FAILED"), timeout=60)


def test_a_markdown_failure_reason_is_shown_literally_and_fetches_nothing(dashboard, page, beacon) -> None:
    port, hits = beacon
    header = f"![x](http://127.0.0.1:{port}/beacon.png) **BOLD** <b>HTML</b>"
    page.goto(dashboard.url)
    wait_for_app(page)
    page.get_by_text("demo-shop", exact=True).first.wait_for(timeout=120_000)  # the first start built the shop
    _failed_import(dashboard, header)

    for link, name in (("Data & imports", "data"), ("Overview", "overview")):
        page.get_by_role("link", name=link).click()
        wait_for_app(page)
        if name == "overview":  # its figures were read (and cached) before the import failed
            page.get_by_role("button", name="Refresh").click()
            wait_for_app(page)
        shown = page.locator('[data-testid="stAlert"]', has_text="**BOLD**").first
        shown.wait_for(timeout=60_000)
        assert f"![x](http://127.0.0.1:{port}/beacon.png) **BOLD** <b>HTML</b>" in shown.inner_text()
        assert page.locator(f'img[src*="127.0.0.1:{port}"]').count() == 0
        assert page.locator("strong", has_text="BOLD").count() == 0
        assert page.locator("b", has_text="HTML").count() == 0
        screenshot(page, f"markdown-injection-{name}")
    page.wait_for_load_state("networkidle")  # a late image request, had one been made, would have gone out
    assert hits == []
