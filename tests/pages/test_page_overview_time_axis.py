"""Overview (AppTest against the engine): one event dated 2030 does not stretch "Events per day" to 2030;
the chart keeps to the bulk of the data and the outlier is named below it."""

from __future__ import annotations

import json

import pandas as pd

from services.core.waiting import wait_until
from services.data import imports
from services.demo.shop_data import generate_shop
from tests.support.apptest import make_app
from tests.support.shops import clients_for, interactions_dataset


def test_one_2030_event_is_named_below_the_chart(engine, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    clients = clients_for(engine.url)
    group, dataset = interactions_dataset(clients, "overview-axis")
    frame = generate_shop(60, 30, 1_200, seed=4).interactions
    frame.loc[frame.index[0], "TIMESTAMP"] = 1_893_456_000  # 2030-01-01, one bad row
    launched = imports.stage_and_import(clients, dataset, frame)
    p = clients.personalize
    wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=launched.job_arn)["datasetImportJob"],
               "import", timeout=60, interval=0.05)
    at = make_app(monkeypatch, engine.url, group_arn=group).run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if json.loads(c.proto.spec)["layout"]["title"]["text"] == "Events per day")
    dates = pd.to_datetime(chart["data"][0]["x"])
    assert dates.max() < pd.Timestamp("2029-01-01"), dates.max()
    captions = "\n".join(c.value for c in at.caption)
    assert "2030-01-01 (1)" in captions and "left out of the chart" in captions
