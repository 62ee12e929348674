"""Metric attributions count INCREMENTAL interactions imports, over HTTP: rows with an
EVENT_ATTRIBUTION_SOURCE under that source, the rest under SOURCE_NAME_UNDEFINED, reported to S3 only
when the import job asks for it."""

from __future__ import annotations

import csv
import json

from tests.engine.conftest import ROLE
from tests.support.engine_shop import import_file, settle

INTERACTIONS = {"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                           {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
                           {"name": "EVENT_ATTRIBUTION_SOURCE", "type": ["null", "string"]}],
                "version": "1.0"}
ITEMS = {"type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
         "fields": [{"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"}], "version": "1.0"}
T0 = 1_700_000_100  # 100 s into a 15-minute window (1_700_000_000 // 900 * 900 = 1_699_999_200)


def _dataset(personalize, group, name, dtype, schema) -> str:
    schema_arn = personalize.create_schema(name=f"{name}-{dtype.lower()}", schema=json.dumps(schema))["schemaArn"]
    arn = personalize.create_dataset(name=f"{name}-{dtype.lower()}", schemaArn=schema_arn, datasetGroupArn=group,
                                     datasetType=dtype)["datasetArn"]
    settle(lambda: personalize.describe_dataset(datasetArn=arn), "dataset")
    return arn


def _csv(path, header, rows):
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _reports(folder, method):
    rows = []
    for path in sorted(folder.glob(f"AggregatedAttributionMetrics-{method}-*.csv")):
        with path.open() as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def test_incremental_imports_count_under_the_attributions_metrics(personalize, recorder, tmp_path):
    name = "attr-import"
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    settle(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    items = _dataset(personalize, group, name, "Items", ITEMS)
    interactions = _dataset(personalize, group, name, "Interactions", INTERACTIONS)
    assert import_file(personalize, items, _csv(tmp_path / "items.csv", ["ITEM_ID", "PRICE"],
                                                [("i1", 10.0), ("i2", 2.5)]), f"{name}-items")["status"] == "ACTIVE"
    header = ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_ATTRIBUTION_SOURCE"]
    before = _csv(tmp_path / "before.csv", header, [("u1", "i1", T0, "purchase", "")])
    assert import_file(personalize, interactions, before, f"{name}-first")["status"] == "ACTIVE"

    reports = tmp_path / "reports"
    reports.mkdir()
    arn = personalize.create_metric_attribution(
        name=name, datasetGroupArn=group, metricsOutputConfig={"roleArn": ROLE,
                                                               "s3DataDestination": {"path": reports.as_uri()}},
        metrics=[{"eventType": "click", "metricName": "CLICKS", "expression": "SAMPLECOUNT()"},
                 {"eventType": "purchase", "metricName": "REVENUE", "expression": "SUM(Items.PRICE)"}],
    )["metricAttributionArn"]
    settle(lambda: personalize.describe_metric_attribution(metricAttributionArn=arn), "metricAttribution")

    rows = [("u1", "i1", T0, "click", ""), ("u2", "i2", T0 + 10, "click", "newsletter"),
            ("u1", "i1", T0 + 20, "purchase", ""), ("u2", "i2", T0 + 30, "purchase", "newsletter"),
            ("u3", "i1", T0 + 900, "click", "  "),  # the next window; a blank source is no source
            ("u3", "i9", T0 + 40, "purchase", ""),  # an item without a price adds nothing to the sum
            ("u3", "i1", T0 + 50, "view", "newsletter")]  # no metric counts views
    job = personalize.create_dataset_import_job(
        jobName=f"{name}-incremental", datasetArn=interactions, roleArn=ROLE, importMode="INCREMENTAL",
        dataSource={"dataLocation": _csv(tmp_path / "more.csv", header, rows).as_uri()},
        publishAttributionMetricsToS3=True)["datasetImportJobArn"]
    done = settle(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job), "datasetImportJob")
    assert done["status"] == "ACTIVE" and done["publishAttributionMetricsToS3"] is True

    window = T0 // 900 * 900
    got = {(r["METRIC_NAME"], r["EVENT_TYPE"], r["MATH_FUNCTION"], r["EVENT_ATTRIBUTION_SOURCE"],
            int(r["TIMESTAMP"])): float(r["VALUE"]) for r in _reports(reports, "DatasetImport")}
    assert got == {  # by hand from the rows above; the FULL import before the attribution counts nowhere
        ("CLICKS", "click", "samplecount", "SOURCE_NAME_UNDEFINED", window): 1.0,
        ("CLICKS", "click", "samplecount", "newsletter", window): 1.0,
        ("CLICKS", "click", "samplecount", "SOURCE_NAME_UNDEFINED", window + 900): 1.0,
        ("REVENUE", "purchase", "sum", "SOURCE_NAME_UNDEFINED", window): 10.0,
        ("REVENUE", "purchase", "sum", "newsletter", window): 2.5,
    }

    # Without publishAttributionMetricsToS3 the counts go to CloudWatch on AWS: no new S3 report.
    quiet = _csv(tmp_path / "quiet.csv", header, [("u4", "i1", T0 + 60, "click", "")])
    assert import_file(personalize, interactions, quiet, f"{name}-quiet", mode="INCREMENTAL")["status"] == "ACTIVE"
    assert len(list(reports.glob("AggregatedAttributionMetrics-DatasetImport-*.csv"))) == 1
    assert _reports(reports, "PutEvents") == []
    assert recorder.problems() == []
