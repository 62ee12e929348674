"""A product manager's first hour in Debian's Chromium, on the small demo shop (the story's first phase):
upload a CSV with bad rows and read the validation report, upload the corrected file, import it
INCREMENTAL (the default for a dataset that holds data), retrain, see the Campaigns page serve the new
version, and open Side by side. The new events are the story's second phase, so their ids are the shop's.

The dashboard is pointed at an engine of this module's own (PERSONALIZE_ENGINE_URL), so the demo shop is
made beforehand, small and seeded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.demo.shop_setup import DemoPlan
from tests.browser.conftest import (
    Dashboard,
    dashboard_with_demo_shop,
    screenshot,
    wait_for_app,
)
from tests.support.engine_process import wait_for

pytestmark = pytest.mark.browser

PLAN = DemoPlan.small(name="demo-shop")
SOLUTION = "demo-shop-user-personalization"


@pytest.fixture(scope="module")
def shop_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with dashboard_with_demo_shop(tmp_path_factory.mktemp("first-hour"), PLAN) as dash:
        yield dash


def go(page, link: str) -> None:
    page.get_by_role("link", name=link, exact=True).first.click()
    wait_for_app(page)


def no_traceback(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_first_hour_bad_rows_fixed_imported_retrained_and_served(shop_dashboard, page, tmp_path) -> None:
    dash = shop_dashboard
    personalize = dash.client("personalize")
    new_events = PLAN.phases()[1]
    bad = new_events.copy()
    bad.loc[[3, 7, 11], "USER_ID"] = ""  # what a spreadsheet export with gaps gives
    bad_csv, fixed_csv = tmp_path / "new-events.csv", tmp_path / "new-events-fixed.csv"
    bad.to_csv(bad_csv, index=False)
    new_events.to_csv(fixed_csv, index=False)
    page.set_viewport_size({"width": 1400, "height": 2400})  # Streamlit scrolls inside its own container
    page.goto(dash.url)
    wait_for_app(page)
    page.get_by_role("link", name="Compare recipes").first.wait_for()  # app.py's navigation is drawn

    # 1. the bad file: the report names the problem and nothing can be uploaded
    go(page, "Data & imports")
    page.get_by_text("1. Choose the data").wait_for()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad_csv))
    page.get_by_text("USER_ID is empty").first.wait_for()
    page.get_by_text("blocks the import; nothing has been uploaded").first.wait_for()
    assert page.get_by_role("button", name="Stage and import").is_disabled()
    screenshot(page, "first-hour-bad-rows")

    # 2. the corrected file: it fits, and a dataset that holds data imports INCREMENTAL unless told
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(fixed_csv))
    page.get_by_text("new-events-fixed.csv").first.wait_for()
    page.get_by_text("USER_ID is empty").first.wait_for(state="detached")
    assert page.get_by_role("radio", name="INCREMENTAL").is_checked()
    page.get_by_role("button", name="Stage and import").click()
    page.get_by_text("(INCREMENTAL) started from").first.wait_for()

    group = next(g["datasetGroupArn"] for g in personalize.list_dataset_groups()["datasetGroups"]
                 if g["name"] == PLAN.name)
    inter = next(d["datasetArn"] for d in personalize.list_datasets(datasetGroupArn=group)["datasets"]
                 if d["datasetType"].upper() == "INTERACTIONS")

    def added() -> list[dict]:
        jobs = personalize.list_dataset_import_jobs(datasetArn=inter)["datasetImportJobs"]
        return [j for j in jobs if not j["jobName"].endswith("-initial")]

    jobs = wait_for(added, lambda js: js and js[0]["status"] in ("ACTIVE", "CREATE FAILED"), timeout=60)
    assert len(jobs) == 1 and jobs[0]["status"] == "ACTIVE"
    described = personalize.describe_dataset_import_job(datasetImportJobArn=jobs[0]["datasetImportJobArn"])
    assert described["datasetImportJob"]["importMode"] == "INCREMENTAL"
    page.get_by_text("import running").wait_for(state="detached", timeout=30_000)  # the job list follows it
    no_traceback(page)

    # 3. retrain: the cost is stated, then the run is followed to the campaign serving the new version
    campaign = next(c for c in personalize.list_campaigns()["campaigns"] if c["name"] == SOLUTION)
    before = personalize.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"]["solutionVersionArn"]
    go(page, "Training")
    page.get_by_text("Retrain and deploy").first.wait_for()
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=SOLUTION).click()
    wait_for_app(page)
    page.get_by_role("button", name=f"Retrain {SOLUTION}").click()
    page.get_by_text("switches every campaign of this solution").first.wait_for()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text(f"Retrain finished: {SOLUTION} now serves").first.wait_for(timeout=90_000)
    # The versions table stops refreshing once nothing trains (a rerun of the page): navigation waits for it,
    # as a user's click after the page has settled would.
    page.get_by_role("button", name="Stop training").first.wait_for(state="detached")
    wait_for_app(page)
    after = personalize.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"]["solutionVersionArn"]
    assert after != before
    no_traceback(page)

    # 4. the Campaigns page shows the campaign on the new version
    go(page, "Campaigns")
    try:
        page.locator("h1").filter(has_text="Campaigns").wait_for()
    except Exception:
        screenshot(page, "first-hour-campaigns-failed")
        raise
    serving = page.locator('[data-testid="stMetric"]').filter(has_text="Serving")
    serving.filter(has_text=after.rsplit("/", 1)[-1]).first.wait_for()  # version ids are unique
    page.get_by_text("Serves the newest ACTIVE solution version.", exact=True).first.wait_for()
    # the campaigns not retrained say that the imported rows do not reach them yet
    stale = page.get_by_text(f"{len(new_events):,} interactions (1 import) arrived after the serving version")
    assert stale.count() == 2
    no_traceback(page)
    screenshot(page, "first-hour-campaigns")

    # 5. Side by side, on the data the campaigns now serve from
    go(page, "Side by side")
    page.get_by_role("heading", name="Recommendations side by side").wait_for()
    page.get_by_text("Are users getting the same items?").wait_for()
    # the report counts the cohorts on the data as it is now: the story's 6,000 events, not the first phase
    page.get_by_text(f"in the data as it is now ({PLAN.n_interactions:,} interactions)").first.wait_for()
    # green for users with history; the cold-start list of users with none is said to be expected
    page.get_by_text("Recommendations look personal for users with history").first.wait_for()
    page.get_by_text("of users with no interactions get the same top 10: expected, not a fault").first.wait_for()
    no_traceback(page)
    screenshot(page, "first-hour-side-by-side")
