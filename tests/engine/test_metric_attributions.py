"""Metric attributions over HTTP: the resource as AWS models it, and which source earns each event."""

from __future__ import annotations

import csv
import time

import pytest
from botocore.exceptions import ClientError

from tests.engine.conftest import ROLE, ShapeRecorder
from tests.support.engine_process import EngineProcess, wait_for
from tests.support.engine_shop import build_shop, deploy, settle


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    # A short flush so the test reads the reports within a second (the default is a minute).
    proc = EngineProcess.start(tmp_path_factory.mktemp("attribution-engine"),
                               extra_env={"PERSONALIZE_ENGINE_METRICS_FLUSH_SECONDS": "0.2"})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def clients(engine):
    recorder = ShapeRecorder()
    out = {name: engine.client(name) for name in ("personalize", "personalize-runtime", "personalize-events")}
    for client in out.values():
        recorder.attach(client)
    return out, recorder


@pytest.fixture(scope="module")
def shop(clients, tmp_path_factory):
    personalize = clients[0]["personalize"]
    live = build_shop(personalize, tmp_path_factory.mktemp("shop"), "attr", n_users=120, n_items=60,
                      n_interactions=2500)
    return deploy(personalize, live, "attr", recipe="aws-popularity-count")


def _create(personalize, shop, reports, name="attr-metrics", metrics=None) -> str:
    metrics = metrics or [
        {"eventType": "click", "metricName": "CLICKS", "expression": "SAMPLECOUNT()"},
        {"eventType": "purchase", "metricName": "REVENUE", "expression": "SUM(Items.PRICE)"},
    ]
    arn = personalize.create_metric_attribution(
        name=name, datasetGroupArn=shop.group, metrics=metrics,
        metricsOutputConfig={"roleArn": ROLE, "s3DataDestination": {"path": reports.as_uri()}},
    )["metricAttributionArn"]
    settle(lambda: personalize.describe_metric_attribution(metricAttributionArn=arn), "metricAttribution")
    return arn


def _report_rows(folder) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("AggregatedAttributionMetrics-PutEvents-*.csv")):
        with path.open() as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def _totals(rows: list[dict]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for row in rows:
        key = (row["METRIC_NAME"], row["EVENT_ATTRIBUTION_SOURCE"])
        out[key] = out.get(key, 0.0) + float(row["VALUE"])
    return out


def _all_reported(rows: list[dict]) -> bool:
    """All five attributed clicks and the purchase's revenue are in the report (the revenue alone can
    exceed any click count, so a sum of values says nothing); a row still being written counts as not yet."""
    try:
        totals = _totals(rows)
    except (TypeError, ValueError):
        return False
    clicks = sum(v for (metric, _), v in totals.items() if metric == "CLICKS")
    return clicks >= 5 and any(metric == "REVENUE" for metric, _ in totals)


def test_resource_lifecycle_and_shapes(clients, shop, tmp_path):
    (c, recorder) = clients
    personalize = c["personalize"]
    arn = _create(personalize, shop, tmp_path)
    described = personalize.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    assert described["status"] == "ACTIVE"
    assert described["metricsOutputConfig"]["s3DataDestination"]["path"] == tmp_path.as_uri()
    listed = personalize.list_metric_attributions(datasetGroupArn=shop.group)["metricAttributions"]
    assert [m["metricAttributionArn"] for m in listed] == [arn]
    names = [m["metricName"] for m in personalize.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]]
    assert names == ["CLICKS", "REVENUE"]

    with pytest.raises(ClientError) as second:  # one per dataset group, as on AWS
        _create(personalize, shop, tmp_path, name="attr-second")
    assert second.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

    personalize.update_metric_attribution(
        metricAttributionArn=arn, removeMetrics=["REVENUE"],
        addMetrics=[{"eventType": "purchase", "metricName": "PURCHASES", "expression": "SAMPLECOUNT()"}])
    names = [m["metricName"] for m in personalize.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]]
    assert names == ["CLICKS", "PURCHASES"]

    personalize.delete_metric_attribution(metricAttributionArn=arn)
    with pytest.raises(personalize.exceptions.ResourceNotFoundException):
        personalize.describe_metric_attribution(metricAttributionArn=arn)
    assert recorder.problems() == []


@pytest.mark.parametrize("expression, reason", [
    ("COUNT()", "not valid"),
    ("SUM(Items.NO_SUCH_COLUMN)", "numeric column"),
    ("SUM(Items.CATEGORY_L1)", "numeric column"),  # a string column cannot be summed
])
def test_bad_metrics_are_refused_and_nothing_is_created(clients, shop, tmp_path, expression, reason):
    personalize = clients[0]["personalize"]
    with pytest.raises(personalize.exceptions.InvalidInputException) as refused:
        _create(personalize, shop, tmp_path,
                metrics=[{"eventType": "click", "metricName": "X", "expression": expression}])
    assert reason in refused.value.response["Error"]["Message"]
    assert personalize.list_metric_attributions(datasetGroupArn=shop.group)["metricAttributions"] == []


def test_events_are_attributed_to_the_campaign_that_showed_the_item(clients, shop, tmp_path):
    c, recorder = clients
    personalize, runtime, events = c["personalize"], c["personalize-runtime"], c["personalize-events"]
    arn = _create(personalize, shop, tmp_path, name="attr-rules")
    answer = runtime.get_recommendations(campaignArn=shop.campaign, userId=shop.users[0], numResults=5)
    rid, shown = answer["recommendationId"], [i["itemId"] for i in answer["itemList"]]
    not_shown = next(i for i in shop.items if i not in shown)
    now = time.time()

    def send(item, event_type="click", **extra):
        events.put_events(trackingId=shop.tracking_id, userId=shop.users[0], sessionId="s-attr",
                          eventList=[{"eventType": event_type, "itemId": item, "sentAt": now, **extra}])

    send(shown[0], recommendationId=rid, impression=shown)   # the campaign's answer showed it
    send(shown[1], recommendationId=rid, impression=shown)
    send(not_shown, recommendationId=rid, impression=shown)  # found elsewhere: not the campaign's
    send(shown[2])                                            # no source at all
    send(shown[3], recommendationId=rid, metricAttribution={"eventAttributionSource": "newsletter"})
    send(shown[0], "purchase", recommendationId=rid)
    send(shown[0], "view", recommendationId=rid)              # no metric counts views

    rows = wait_for(lambda: _report_rows(tmp_path), _all_reported, timeout=30)
    assert set(rows[0]) == {"METRIC_NAME", "EVENT_TYPE", "VALUE", "MATH_FUNCTION", "EVENT_ATTRIBUTION_SOURCE",
                            "TIMESTAMP"}
    assert all(int(r["TIMESTAMP"]) % 900 == 0 for r in rows)  # 15-minute windows
    price = float(shop_price(shop, shown[0]))
    totals = _totals(rows)
    assert totals == {
        ("CLICKS", shop.campaign): 2.0,
        ("CLICKS", "SOURCE_NAME_UNDEFINED"): 2.0,
        ("CLICKS", "newsletter"): 1.0,  # an eventAttributionSource wins over the recommendationId
        ("REVENUE", shop.campaign): pytest.approx(price),
    }
    assert {r["MATH_FUNCTION"] for r in rows} == {"samplecount", "sum"}
    personalize.delete_metric_attribution(metricAttributionArn=arn)
    assert recorder.problems() == []


def shop_price(shop, item_id: str) -> float:
    with shop.files["Items"].open() as fh:
        return next(float(row["PRICE"]) for row in csv.DictReader(fh) if row["ITEM_ID"] == item_id)


def test_reports_flushed_within_one_second_are_all_kept(clients, shop, tmp_path):
    """Flushes come every 0.2 s here; each one's report is a new file, so none may take another's name."""
    c, _ = clients
    personalize, events = c["personalize"], c["personalize-events"]
    arn = _create(personalize, shop, tmp_path, name="attr-fast")
    for sent in range(1, 6):  # one click a flush, as fast as the flushes come
        events.put_events(trackingId=shop.tracking_id, userId=shop.users[1], sessionId="s-fast",
                          eventList=[{"eventType": "click", "itemId": shop.items[sent], "sentAt": time.time()}])
        wait_for(lambda: len(list(tmp_path.glob("AggregatedAttributionMetrics-PutEvents-*.csv"))),
                 lambda files, sent=sent: files >= sent, timeout=10)
    clicks = sum(v for (metric, _), v in _totals(_report_rows(tmp_path)).items() if metric == "CLICKS")
    assert clicks == 5
    personalize.delete_metric_attribution(metricAttributionArn=arn)


def test_shown_lists_attribute_an_item_of_the_answer_and_stay_small() -> None:
    """Every answer is remembered (up to 200k of them) so a later event naming its recommendationId is
    attributed: what an answer costs to keep is bounded, and only the answer's own items count."""
    import tracemalloc

    from engine.resources.metric_attributions import ShownLists

    shown = ShownLists(capacity=3)
    items = [f"P{i:05d}" for i in range(25)]
    shown.remember("RID-1", "arn:campaign/a", items)
    assert shown.source_of("RID-1", "P00024") == "arn:campaign/a"
    assert shown.source_of("RID-1", "P00025") is None and shown.source_of("RID-9", "P00001") is None
    for k in range(2, 5):
        shown.remember(f"RID-{k}", "arn:campaign/b", items)
    assert shown.source_of("RID-1", "P00001") is None and shown.source_of("RID-4", "P00001") == "arn:campaign/b"
    many = ShownLists()
    tracemalloc.start()
    try:
        for k in range(5_000):
            many.remember(f"RID-{k:036d}", "arn:aws:personalize:us-east-1:000000000000:campaign/x", items)
        per_answer = tracemalloc.get_traced_memory()[0] / 5_000
    finally:
        tracemalloc.stop()
    assert per_answer < 1_000, f"{per_answer:.0f} bytes kept per answer"
