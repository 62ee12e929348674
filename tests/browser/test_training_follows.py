"""The Training page's solutions table follows work it started until it settles, in Debian's Chromium: after
a training is confirmed (and the versions panel moved to another solution, so only the solutions table can
notice), the trained solution's row turns from pending to ACTIVE without another click. AppTest cannot fire
a fragment's timed reruns; a browser does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.models import solutions, tuning
from tests.browser.conftest import (
    Dashboard,
    dashboard_with_small_shop,
    open_page,
    screenshot,
    wait_for_app,
)
from tests.support.shops import Shop

pytestmark = pytest.mark.browser

UP = "aws-user-personalization"
# The text of a grid's cells: Streamlit draws them on a canvas and keeps an accessible table beside it.
GRID_TEXT = """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).map(
    frame => Array.from(frame.querySelectorAll('tr')).map(
        row => Array.from(row.querySelectorAll('th, td')).map(c => c.textContent.trim())))"""


@pytest.fixture(scope="module")
def shop_dashboard(engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, Shop]]:
    with dashboard_with_small_shop(engine, tmp_path_factory.mktemp("training-follows"), "tf-shop") as (dash, shop):
        yield dash, shop


def latest_version(page, solution: str) -> str | None:
    """The solutions table's "latest version" cell of `solution`, read from the page."""
    for grid in page.evaluate(GRID_TEXT):
        if grid and "latest version" in grid[0]:
            column = grid[0].index("latest version")
            return next((row[column] for row in grid[1:] if row and row[0] == solution), None)
    return None


def pick_solution(page, name: str) -> None:
    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=name).click()
    page.get_by_role("button", name=f"Retrain {name}").wait_for()  # the page below has been redrawn for it
    wait_for_app(page)
    try:
        page.wait_for_function(f"() => ({GRID_TEXT})().some(g => g.length > 1 && g[0].includes('latest version'))")
    except Exception:
        screenshot(page, "training-follows-failed")
        raise


def test_a_confirmed_training_is_followed_in_the_solutions_table_without_a_click(shop_dashboard, page) -> None:
    dash, shop = shop_dashboard
    trained = f"{shop.plan.name}-user-personalization"
    page.set_viewport_size({"width": 1400, "height": 2200})
    open_page(page, dash.url, "Training")
    page.get_by_role("heading", name="Solutions").wait_for()
    pick_solution(page, trained)
    assert latest_version(page, trained) == "ACTIVE"

    # The engine trains one version at a time: tuned trainings queued first keep the page's training
    # pending long enough to be seen pending, however fast the small shop trains.
    for n in range(3):  # one training at a time per solution, as on AWS
        queued = solutions.create_solution(
            shop.p, shop.result.dataset_group_arn, f"{shop.plan.name}-queue-{n}", UP,
            hpo=tuning.hpo_config(UP, "precision_at_25", tuning.MAX_TRIALS, 1, {"ease_lambda": (10.0, 200.0)}))
        solutions.train(shop.p, queued)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("billed per training hour").first.wait_for()  # asked once, with the cost
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("started; the table refreshes until it ends").first.wait_for()
    # The versions panel now shows another solution: only the solutions table can notice the training end.
    pick_solution(page, f"{shop.plan.name}-similar-items")
    pending = latest_version(page, trained)
    screenshot(page, "training-follows-pending")
    assert pending in solutions.TRAINING_STATUSES, pending
    # No click from here on: the table must rerun by itself until the training settles.
    page.wait_for_function(
        f"""() => ({GRID_TEXT})().some(g => g.length > 1 && g[0].includes('latest version') && g.slice(1).some(
            r => r[0] === {trained!r} && r[g[0].indexOf('latest version')] === 'ACTIVE'))""", timeout=180_000)
    screenshot(page, "training-follows-settled")
    assert latest_version(page, f"{shop.plan.name}-queue-2") == "ACTIVE"  # the queue ahead of it settled too
    assert page.locator('[data-testid="stException"]').count() == 0
