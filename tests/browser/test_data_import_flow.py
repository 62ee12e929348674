"""The story's schema failure in a real browser: a CSV with millisecond timestamps is explained before
upload, fixed with one click, and imported to ACTIVE. The dashboard starts with a fresh data dir, so it
also proves the first start builds the demo shop (the import goes into its Interactions dataset)."""

from __future__ import annotations

import pytest

from services.demo.shop_data import generate_shop
from tests.browser.conftest import screenshot, wait_for_app
from tests.support.engine_process import wait_for

pytestmark = pytest.mark.browser


def test_millisecond_csv_is_explained_fixed_and_imported(dashboard, page, tmp_path) -> None:
    events = generate_shop(60, 30, 1_200, seed=11).interactions
    events["TIMESTAMP"] = events["TIMESTAMP"] * 1000  # what a MongoDB or JavaScript export gives
    csv = tmp_path / "events-ms.csv"
    events.to_csv(csv, index=False)

    page.goto(dashboard.url)
    wait_for_app(page)
    page.get_by_text("demo-shop", exact=True).first.wait_for(timeout=120_000)  # first start built the shop

    page.get_by_role("link", name="Data & imports").click()
    wait_for_app(page)
    page.get_by_text("1. Choose the data").wait_for()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text("TIMESTAMP looks like milliseconds").first.wait_for()
    stage = page.get_by_role("button", name="Stage and import")
    assert stage.is_disabled()  # nothing is uploaded while the validation finds errors
    screenshot(page, "data-import-ms-warning")

    page.get_by_role("button", name="Convert timestamps to Unix seconds").click()
    page.get_by_text("Timestamps converted to Unix seconds.").wait_for()
    assert page.get_by_text("TIMESTAMP looks like milliseconds").count() == 0
    page.get_by_role("button", name="Stage and import").click()
    page.get_by_text("Import job").first.wait_for()

    personalize = dashboard.client("personalize")

    def incremental_jobs() -> list[dict]:
        groups = personalize.list_dataset_groups()["datasetGroups"]
        demo = next(g["datasetGroupArn"] for g in groups if g["name"] == "demo-shop")
        datasets = personalize.list_datasets(datasetGroupArn=demo)["datasets"]
        inter = next(d["datasetArn"] for d in datasets if d["datasetType"].upper() == "INTERACTIONS")
        jobs = personalize.list_dataset_import_jobs(datasetArn=inter)["datasetImportJobs"]
        return [j for j in jobs if not j["jobName"].endswith("-initial")]

    jobs = wait_for(incremental_jobs, lambda js: js and js[0]["status"] in ("ACTIVE", "CREATE FAILED"), timeout=60)
    assert jobs[0]["status"] == "ACTIVE"
    # The job list is a fragment that refreshes itself: the "running" note goes without a reload.
    page.get_by_text("import running").wait_for(state="detached", timeout=30_000)
    screenshot(page, "data-import-active")
