"""The saved-source watermark protocol, as the Data page and the retrain pipeline both use it, against the
real engine: settle first, refuse while an earlier import runs, export since the watermark, record the
export as pending, move the watermark only on ACTIVE."""

from __future__ import annotations

import pytest

from services.core.waiting import Failed, wait_until
from services.data import imports
from services.data.sources import incremental, saved
from services.demo.shop_data import generate_shop
from tests.support.shops import interactions_dataset


def test_a_file_source_keeps_ids_as_text(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n007,0042,click,1700000000\n12,9,view,1700000100\n")
    export = incremental.export_new({"kind": "file", "path": str(path)}, incremental.SourceState())
    assert export.frame["USER_ID"].tolist() == ["007", "12"] and export.watermark == 1700000100
    assert export.frame["ITEM_ID"].tolist() == ["0042", "9"]
    newer = incremental.export_new({"kind": "file", "path": str(path)}, incremental.SourceState(1700000000))
    assert newer.frame["USER_ID"].tolist() == ["12"] and newer.watermark == 1700000100 and newer.rows == 1


def test_unknown_kinds_and_missing_files_are_explained(tmp_path):
    with pytest.raises(ValueError, match="kind 'ftp'"):
        incremental.export_new({"kind": "ftp"}, incremental.SourceState())
    with pytest.raises(ValueError, match="does not exist"):
        incremental.export_new({"kind": "file", "path": str(tmp_path / "none.csv")}, incremental.SourceState())


def _launch(clients, dataset: str, export: incremental.Export) -> str:
    return imports.stage_and_import(clients, dataset, export.frame, "INCREMENTAL", None, "personalize/", None).job_arn


def test_the_watermark_moves_only_once_the_import_is_active(clients, tmp_path):
    folder = tmp_path / "sources"
    frame = generate_shop(60, 30, 1_200, seed=3).interactions
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    saved.save_source(folder, "nightly", {"kind": "file", "path": str(path)})
    _, dataset = interactions_dataset(clients, "incremental-ok")
    p = clients.personalize

    state = incremental.source_state(p, "nightly", folder)
    assert state == incremental.SourceState()
    export = incremental.export_new(saved.load_source(folder, "nightly"), state)
    job = _launch(clients, dataset, export)
    incremental.record_import("nightly", job, export, None, folder)

    # Until the job has ended, the source refuses another export (its events would be sent twice).
    with pytest.raises(incremental.EarlierImportRunning, match="still running"):
        incremental.refuse_while_running("nightly", incremental.SourceState(running=(job.rsplit("/", 1)[-1],)))
    assert saved.watermark(folder, "nightly") is None

    incremental.wait_for_earlier_imports(p, "nightly", folder)  # the pipeline's way: wait, then settle
    state = incremental.source_state(p, "nightly", folder)  # the page's way: settle, then read
    assert state.watermark == int(frame["TIMESTAMP"].max()) and state.running == ()
    assert saved.pending_imports(folder, "nightly") == {}
    assert incremental.export_new(saved.load_source(folder, "nightly"), state).frame.empty


def test_a_failed_import_drops_the_export_so_it_is_sent_again(clients, tmp_path):
    folder = tmp_path / "sources"
    frame = generate_shop(60, 30, 1_200, seed=4).interactions
    saved.save_source(folder, "broken", {"kind": "file", "path": str(tmp_path / "x.csv")})
    group, dataset = interactions_dataset(clients, "incremental-failed")
    export = incremental.Export(frame.assign(TIMESTAMP=frame["TIMESTAMP"] * 1000), int(frame["TIMESTAMP"].max()))
    job = _launch(clients, dataset, export)
    incremental.record_import("broken", job, export, None, folder)
    p = clients.personalize
    with pytest.raises(Failed, match="milliseconds"):
        wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"], "the import",
                   timeout=60)
    jobs = imports.list_import_jobs(p, group)
    incremental.settle_ended(jobs, folder)  # the page's job list settles what it shows
    assert saved.watermark(folder, "broken") is None and saved.pending_imports(folder, "broken") == {}

