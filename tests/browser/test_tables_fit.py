"""No column of the Overview's campaign-health table, the Training page's tables, the Audit log, Compare's
GetSolutionMetrics table, the Side by side cells or the story's before-and-after table is cut at 1,400 px:
each grid's scrollable width fits its visible width (Streamlit draws tables on a canvas, so the header text
itself is not in the DOM; a column that does not fit makes the grid's scroller wider than the grid)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.core.audit import AuditLog
from services.core.clients import Clients
from services.core.config import BackendInfo
from services.demo.shop_setup import DemoPlan, create_demo_shop
from services.models import solutions, tuning
from tests.browser.conftest import (
    Dashboard,
    open_page,
    screenshot,
    start_dashboard,
    stop_dashboard,
    wait_for_app,
)
from tests.support.engine_process import EngineProcess, wait_for

pytestmark = pytest.mark.browser

# Per grid: its scroller's scroll width and visible width, then scroll height and visible height, in CSS px.
GRID_WIDTHS = """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).map(frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    return scroller ? [scroller.scrollWidth, scroller.clientWidth, scroller.scrollHeight, scroller.clientHeight]
                    : null;
}).filter(Boolean)"""


@pytest.fixture(scope="module")
def shop_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    data_dir: Path = tmp_path_factory.mktemp("tables-fit")
    engine = EngineProcess.start(data_dir / "engine")
    mp = pytest.MonkeyPatch()
    mp.setenv("PERSONALIZE_DATA_DIR", str(data_dir))
    clients = Clients(BackendInfo("local", "us-east-1", engine.url, None))
    shop = create_demo_shop(clients, DemoPlan.small(name="demo-shop"))
    mp.undo()
    # A tuned solution: its configuration is where the solutions table used to push the status off screen.
    tuned = solutions.create_solution(clients.personalize, shop.dataset_group_arn, "demo-shop-tuned",
                                      "aws-user-personalization", hpo=tuning.hpo_config(
                                          "aws-user-personalization", "precision_at_25", 8, 1,
                                          {"ease_lambda": (10.0, 200.0)}))
    solutions.train(clients.personalize, tuned)  # its version's tuned values are a wide cell too
    wait_for(lambda: solutions.versions_table(clients.personalize, tuned), lambda t: not solutions.is_training(t),
             timeout=120)
    audit = AuditLog(data_dir / "audit.sqlite3")
    # Rows as real actions leave them: a long result and long parameters are where columns used to go.
    audit.record("ana", "operator", "import", {"dataset": "arn:aws:personalize:us-east-1:000000000000:dataset/"
                                               "demo-shop/INTERACTIONS", "mode": "INCREMENTAL", "rows": 44},
                 True, "import job demo-shop-interactions-20261201 started for 44 rows from events-fixed.csv", 0.8)
    audit.record("ana", "operator", "update campaign", {"campaign": "demo-shop-user-personalization"}, False,
                 "ResourceInUseException: the campaign is being updated; wait for it to become ACTIVE", 2.25)
    dash = start_dashboard(data_dir, {"PERSONALIZE_ENGINE_URL": engine.url})
    yield dash
    stop_dashboard(dash)
    engine.stop()


def _grids_fit(page, label: str, grids: int = 1, rows_too: bool = False) -> None:
    """Every grid's columns fit its width; with `rows_too`, every row fits its height as well."""
    page.wait_for_function(f"() => ({GRID_WIDTHS})().length >= {grids}")
    sizes = page.evaluate(GRID_WIDTHS)
    screenshot(page, f"tables-fit-{label}")
    cut = [w for w in sizes if w[0] > w[1] + 1 or (rows_too and w[2] > w[3] + 1)]
    assert not cut, f"{label}: grids larger than their view (scroll/client width, scroll/client height): {cut}"


def test_campaign_health_training_and_audit_log_columns_fit_at_1400_px(shop_dashboard, page) -> None:
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(shop_dashboard.url)
    wait_for_app(page)
    page.get_by_text("Campaign health").first.wait_for()
    page.get_by_text("is billed every hour whether or not it is used").first.wait_for()  # under the table
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    _grids_fit(page, "overview")

    page.get_by_role("link", name="Training", exact=True).first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Solutions").wait_for()
    _grids_fit(page, "training", grids=2)  # versions, solutions

    page.get_by_role("link", name="Audit log").first.click()
    wait_for_app(page)
    page.get_by_role("button", name="Download CSV").wait_for()
    _grids_fit(page, "audit-log")


def test_compare_solution_metrics_table_fits_at_1400_px(shop_dashboard, page) -> None:
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_page(page, shop_dashboard.url, "Compare recipes")
    page.get_by_role("heading", name="Reported by Personalize (GetSolutionMetrics)").wait_for()
    page.get_by_text("best value of each metric").first.wait_for()  # the caption under the table
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    _grids_fit(page, "compare", rows_too=True)  # a dozen metric rows: none behind a scroller


def test_side_by_side_cells_show_names_categories_and_prices_uncut_at_1400_px(shop_dashboard, page) -> None:
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_page(page, shop_dashboard.url, "Side by side")
    page.get_by_text("Are users getting the same items?").wait_for()
    page.get_by_text("Recommendations look personal for users with history").first.wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    _grids_fit(page, "side-by-side", grids=3, rows_too=True)  # one small grid per user and campaign


# The visible grids only: a tab's hidden grids measure 0 x 0 and say nothing.
VISIBLE_GRID_WIDTHS = GRID_WIDTHS.replace(".filter(Boolean)", ".filter(w => w && w[1] > 0)")


def _story_later_steps(data_dir: Path) -> None:
    """Steps 2 to 4 beside the page's own step 1 in the story's store, with the longest step titles and
    verdict the story writes (after step 4: "Recommendations look personal for users with history")."""
    store_file = next((data_dir / "story").glob("*.json"))
    saved = json.loads(store_file.read_text(encoding="utf-8"))
    first = saved["1"]
    personal = ("Recommendations look personal for users with history: mean pairwise Jaccard of the top-10 "
                "lists 0.07, personalization 0.89; 5% of users with history get the most common list.")
    for step, level, verdict in ((2, first["level"], first["verdict"]), (3, first["level"], first["verdict"]),
                                 (4, "ok", personal)):
        saved[str(step)] = {**first, "step": step, "level": level, "verdict": verdict}
    store_file.write_text(json.dumps(saved), encoding="utf-8")


def test_story_before_and_after_table_fits_at_1400_px(shop_dashboard, page) -> None:
    page.set_viewport_size({"width": 1400, "height": 3000})
    for attempt in ("after step 1", "after steps 1 to 4"):
        page.goto(shop_dashboard.url)
        wait_for_app(page)
        page.get_by_role("link", name="Side by side", exact=True).first.click()
        wait_for_app(page)
        page.get_by_role("tab", name="The cold-start story").click()
        page.get_by_text("Before and after: the report after each step").wait_for()  # the demo shop is step 1
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        page.wait_for_function(f"() => ({VISIBLE_GRID_WIDTHS})().length >= 1")
        sizes = page.evaluate(VISIBLE_GRID_WIDTHS)
        screenshot(page, f"tables-fit-story-{attempt.replace(' ', '-')}")
        cut = [w for w in sizes if w[0] > w[1] + 1]
        assert not cut, f"story {attempt}: grids wider than their view (scroll/client width and height): {cut}"
        if attempt == "after step 1":
            _story_later_steps(shop_dashboard.data_dir)
