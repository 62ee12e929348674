"""The Data page in AppTest against a real engine: set-up forms, validation with the one-click fix,
staging and import, the job list with failures in words, and the empty state."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from services.core.waiting import Failed, wait_until
from services.data import imports
from services.demo.shop_data import generate_shop
from tests.support.apptest import make_app
from tests.support.engine_process import EngineProcess, wait_for
from tests.support.shops import interactions_dataset

REPO = Path(__file__).resolve().parents[2]
PENDING = "data_pending"


def _app(engine_url: str, monkeypatch, group_arn: str | None = None,
         pending: pd.DataFrame | None = None) -> AppTest:
    at = make_app(monkeypatch, engine_url, group_arn=group_arn)
    if pending is not None:  # what an upload leaves behind (AppTest cannot drive a file uploader)
        at.session_state[PENDING] = {"frame": pending, "label": "events.csv", "version": 1}
    at.run()
    return at.switch_page("pages/data.py").run()


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_milliseconds_are_explained_fixed_and_imported(engine, clients, monkeypatch) -> None:
    group, _ = interactions_dataset(clients, "page-data-happy")
    frame = generate_shop(60, 30, 1_200, seed=8).interactions
    frame["TIMESTAMP"] *= 1000
    at = _app(engine.url, monkeypatch, group, frame)
    assert not at.exception
    assert "TIMESTAMP looks like milliseconds" in _texts(at.error)
    assert "nothing has been uploaded" in _texts(at.error)
    assert _button(at, "Stage and import").disabled
    assert imports.list_import_jobs(clients.personalize, group) == []

    _button(at, "Convert timestamps to Unix seconds").click().run()
    assert not at.exception
    assert "Timestamps converted to Unix seconds." in _texts(at.success)
    assert "milliseconds" not in _texts(at.error)
    assert at.session_state[PENDING]["frame"]["TIMESTAMP"].max() < 10**11

    _button(at, "Stage and import").click().run()
    assert not at.exception
    assert "started from `file://" in _texts(at.success)
    jobs = wait_for(lambda: imports.list_import_jobs(clients.personalize, group),
                    lambda js: js and not js[0].running, timeout=60)
    assert jobs[0].status == "ACTIVE" and jobs[0].mode == "FULL"
    at.run()
    table = at.dataframe[-1].value
    assert list(table["status"]) == ["ACTIVE"] and table.loc[0, "job"] == jobs[0].job_name


def test_a_failed_import_is_shown_in_words(engine, clients, monkeypatch) -> None:
    group, dataset = interactions_dataset(clients, "page-data-failed")
    frame = generate_shop(60, 30, 1_200, seed=9).interactions.assign(TIMESTAMP=lambda f: f["TIMESTAMP"] * 1000)
    launched = imports.stage_and_import(clients, dataset, frame)  # skips the page's validation on purpose
    with pytest.raises(Failed):
        wait_until(lambda: clients.personalize.describe_dataset_import_job(
            datasetImportJobArn=launched.job_arn)["datasetImportJob"], "import", timeout=60, interval=0.05)
    at = _app(engine.url, monkeypatch, group)
    assert not at.exception
    errors = _texts(at.error)
    assert f"Import **{launched.job_name}** failed" in errors
    assert "Unix epoch seconds" in errors and "timestamp fix" in errors


def test_empty_engine_then_group_and_dataset_from_the_forms(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    empty = EngineProcess.start(tmp_path / "empty-engine")
    try:
        at = _app(empty.url, monkeypatch)
        assert not at.exception
        assert "Create a dataset group to start" in _texts(at.info)
        at.text_input[0].input("bad name!")
        at.button[0].click().run()  # the form's submit button: a refused name is explained, nothing lost
        assert not at.exception
        assert "not allowed" in _texts(at.error)
        assert at.text_input[0].value == "bad name!"
        at.text_input[0].input("forms-shop")
        at.button[0].click().run()
        assert not at.exception
        groups = empty.client("personalize").list_dataset_groups()["datasetGroups"]
        assert [g["name"] for g in groups] == ["forms-shop"]
        wait_for(lambda: empty.client("personalize").describe_dataset_group(
            datasetGroupArn=groups[0]["datasetGroupArn"])["datasetGroup"]["status"], lambda s: s == "ACTIVE")
        at.run()
        assert at.session_state["dataset_group_arn"] == groups[0]["datasetGroupArn"]
        assert "Create the Interactions dataset first" in _texts(at.info)

        submit = next(b for b in at.button if b.label == "Create schema and dataset")
        submit.click().run()  # the ECOMMERCE preset, unchanged
        assert not at.exception
        datasets = empty.client("personalize").list_datasets(datasetGroupArn=groups[0]["datasetGroupArn"])
        assert [d["datasetType"].upper() for d in datasets["datasets"]] == ["INTERACTIONS"]
    finally:
        empty.stop()


def test_a_sources_watermark_moves_only_once_its_import_is_active(engine, clients, monkeypatch, tmp_path) -> None:
    """Even when the page is left mid-import: the pending export is kept with the saved source and the
    next visit (another browser session) settles it."""
    from services.core.config import sources_dir
    from services.data.sources import saved

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    saved.save_source(sources_dir(), "shop-events", {"kind": "file", "path": str(tmp_path / "x.csv")})
    group, _ = interactions_dataset(clients, "page-data-watermark")
    frame = generate_shop(60, 30, 1_200, seed=10).interactions
    mark = int(frame["TIMESTAMP"].max())
    ids = ["ObjectId:65f000000000000000000001", "ObjectId:65f000000000000000000002"]

    def data_page():
        at = make_app(monkeypatch, engine.url, data_dir=tmp_path, group_arn=group)
        at.run()
        return at.switch_page("pages/data.py").run()

    def import_page(real_stage_and_import):
        monkeypatch.setattr(imports, "stage_and_import", real_stage_and_import)
        at = make_app(monkeypatch, engine.url, data_dir=tmp_path, group_arn=group)
        at.session_state[PENDING] = {"frame": frame, "label": "MongoDB shop.events", "version": 1,
                                     "watermark": mark, "watermark_ids": ids, "source": "shop-events"}
        at.run()
        at = at.switch_page("pages/data.py").run()
        _button(at, "Stage and import").click().run()
        assert not at.exception
        return at

    def pending_imports() -> dict:
        return saved.load_source(sources_dir(), "shop-events")["state"].get("pending_imports", {})

    real = imports.stage_and_import
    # Personalize refuses the file after the launch (here: timestamps broken on the way to the stage).
    at = import_page(lambda c, d, f, *a: real(c, d, f.assign(TIMESTAMP=f["TIMESTAMP"] * 1000), *a))
    wait_for(lambda: imports.list_import_jobs(clients.personalize, group), lambda js: js and not js[0].running,
             timeout=60)
    at.run()
    assert not at.exception
    assert saved.watermark(sources_dir(), "shop-events") is None  # the next export still has these events
    assert pending_imports() == {}

    # This browser session is gone before the job ends (it never sees the job finish).
    settle = saved.settle_pending_imports
    monkeypatch.setattr(saved, "settle_pending_imports", lambda *args: [])
    import_page(real)
    monkeypatch.setattr(saved, "settle_pending_imports", settle)
    assert saved.watermark(sources_dir(), "shop-events") is None and len(pending_imports()) == 1
    wait_for(lambda: imports.list_import_jobs(clients.personalize, group),
             lambda js: js and js[0].status == "ACTIVE", timeout=60)
    assert not data_page().exception  # a later visit, another session
    assert saved.watermark_state(sources_dir(), "shop-events") == (mark, ids)
    assert pending_imports() == {}


def test_an_incremental_mongodb_export_waits_for_the_previous_import(engine, clients, monkeypatch, tmp_path) -> None:
    """Exported while the previous export's import still runs, those events would be sent twice: the page
    refuses, then exports only the new events once that import is ACTIVE (asked job by job, here for a job
    in another dataset group, which the page's job list never shows)."""
    import mongomock

    from services.core.config import sources_dir
    from services.data.sources import mongo, saved

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    server = mongomock.MongoClient()
    events = server["shop"]["events"]
    events.insert_many([{"u": f"u{k % 7}", "i": f"i{k % 5}", "t": 1_700_000_000 + k // 2, "e": "view"}
                        for k in range(30)])
    monkeypatch.setattr(mongo, "MongoClient", lambda *args, **kwargs: server)
    source = mongo.MongoSource(uri="mongodb://shop.example:27017", database="shop", collection="events",
                               mapping={"USER_ID": "u", "ITEM_ID": "i", "TIMESTAMP": "t", "EVENT_TYPE": "e"})
    saved.save_source(sources_dir(), "shop-mongo", source)
    previous = mongo.export(source, client=server)
    _, dataset = interactions_dataset(clients, "page-data-mongo-previous")  # another group: not in the list
    job = imports.stage_and_import(clients, dataset, previous.frame, "INCREMENTAL", None, "personalize/", None)
    saved.add_pending_import(sources_dir(), "shop-mongo", job.job_arn, previous.watermark, previous.rows,
                             job.staged.uri, previous.watermark_ids)
    wait_until(lambda: clients.personalize.describe_dataset_import_job(
        datasetImportJobArn=job.job_arn)["datasetImportJob"], "the previous import", timeout=60)
    events.insert_many([{"u": "late", "i": "i1", "t": previous.watermark, "e": "view"},  # its last second, late
                        {"u": "new", "i": "i2", "t": previous.watermark + 5, "e": "click"}])
    group, _ = interactions_dataset(clients, "page-data-mongo")

    def export_page() -> AppTest:
        at = make_app(monkeypatch, engine.url, data_dir=tmp_path, group_arn=group)
        at.session_state["data_source"] = "MongoDB"
        at.run()
        at = at.switch_page("pages/data.py").run()
        at.selectbox(key="mongo_saved").set_value("shop-mongo")
        _button(at, "Load").click().run()
        _button(at, "Export for import").click().run()
        assert not at.exception
        return at

    # The page cannot see that import end yet: nothing is exported.
    real_status = imports.finished_status
    monkeypatch.setattr(imports, "finished_status", lambda personalize: (lambda arn: None))
    at = export_page()
    assert "still running" in _texts(at.info) and "Not exported" in _texts(at.warning)
    assert PENDING not in at.session_state and saved.watermark(sources_dir(), "shop-mongo") is None

    monkeypatch.setattr(imports, "finished_status", real_status)
    at = export_page()
    assert next(c for c in at.checkbox if c.label.startswith("Only events not exported yet")).value
    assert "Exported 2 events" in _texts(at.success)
    assert sorted(at.session_state[PENDING]["frame"]["USER_ID"]) == ["late", "new"]
    assert saved.watermark(sources_dir(), "shop-mongo") == previous.watermark  # moved by the ACTIVE import
