"""Training page (AppTest): retrain-and-deploy to the end, versions, the recipe picker, viewers."""

from __future__ import annotations

import pytest

from services.core.audit import AuditLog
from services.core.config import sources_dir
from services.data.sources import saved
from services.pipeline import RunStore
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop, texts


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-training"), "ptrain-shop") as s:
        yield s


def test_retrain_runs_to_the_campaign_serving_the_new_version(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    solution = shop.result.solutions["aws-user-personalization"]
    at.selectbox(key="training_solution").set_value(solution).run()
    assert "No retrain has run for this solution yet" in texts(at)
    before = shop.serving("aws-user-personalization")
    at.button(key="retrain_button").click().run()
    assert any("billed per training hour" in w.value for w in at.warning)  # the cost, before anything runs
    assert RunStore(shop.data_dir / "runs").latest(solution) is None
    at.button(key="retrain_button-confirm").click().run()
    assert not at.exception, at.exception
    run = wait_for(lambda: RunStore(shop.data_dir / "runs").latest(solution), lambda r: r and r.finished,
                   timeout=60)
    at.run()  # reopening the page shows the stored run
    assert run.status == "succeeded"
    assert any("now serves" in s.value for s in at.success)
    assert shop.serving("aws-user-personalization") == run.new_version_arn != before
    assert "Verify with DescribeCampaign" in texts(at)
    # the versions table lists the new version
    assert run.new_version_arn.rsplit("/", 1)[-1] in at.dataframe[0].value["version"].tolist()
    # and the operator's retrain is in the audit log, once, with its parameters
    # ... recorded as succeeded once the run itself ended (not when it was started)
    audit = wait_for(lambda: AuditLog(shop.data_dir / "audit.sqlite3").query(action="retrain"),
                     lambda rows: len(rows) and rows["outcome"].iloc[0] != "running", timeout=30)
    assert len(audit) == 1 and audit["ok"].iloc[0] and "user-personalization" in audit["params"].iloc[0]
    assert audit["outcome"].iloc[0] == "succeeded" and "now serves" in audit["result"].iloc[0]


def test_recipe_picker_explains_and_creation_keeps_auto_training_off(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    at.selectbox(key="new_solution_recipe").set_value("aws-sims").run()
    assert any("When to use it" in i.value for i in at.info)
    at.text_input[0].set_value("ptrain-sims")
    at.button[-1].click().run()  # the form's "Create solution"
    assert not at.exception, at.exception
    arn = next(s["solutionArn"] for s in shop.p.list_solutions(datasetGroupArn=shop.result.dataset_group_arn)[
        "solutions"] if s["name"] == "ptrain-sims")
    assert shop.p.describe_solution(solutionArn=arn)["solution"]["performAutoTraining"] is False


def test_viewers_cannot_retrain(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    at.session_state["role"] = "viewer"
    at.run()
    assert at.button(key="retrain_button").disabled


def test_a_failed_retrain_is_explained_on_the_page(shop, monkeypatch):
    at = open_page(monkeypatch, shop, "pages/training.py")
    solution = shop.result.solutions["aws-popularity-count"]
    at.selectbox(key="training_solution").set_value(solution).run()
    bad = shop.data_dir / "bad-page.csv"
    bad.write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,x\n")
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(shop.data_dir))
    saved.save_source(sources_dir(), "bad-page", {"kind": "file", "path": str(bad)})
    at.run()
    at.selectbox(key="retrain_source").set_value("bad-page").run()
    before = shop.serving("aws-popularity-count")
    at.button(key="retrain_button").click().run()
    at.button(key="retrain_button-confirm").click().run()
    wait_for(lambda: RunStore(shop.data_dir / "runs").latest(solution), lambda r: r and r.finished, timeout=60)
    at.run()
    assert not at.exception
    assert any("failed at step 'Import new interactions'" in e.value for e in at.error)
    assert any("keeps serving its previous version" in e.value for e in at.error)
    assert shop.serving("aws-popularity-count") == before
    # the audit log says how the run ended: failed, not the "started" of the button press
    audit = wait_for(lambda: AuditLog(shop.data_dir / "audit.sqlite3").query(action="retrain"),
                     lambda rows: len(rows) and rows["outcome"].iloc[0] != "running", timeout=30)
    assert audit["outcome"].iloc[0] == "failed" and not audit["ok"].iloc[0]
