"""Metric attributions: which campaign earned an event, and the metrics a dataset group reports on.

As AWS documents it: a metric attribution (one per dataset group) names up to 10 metrics, each an event
type and a function, `SAMPLECOUNT()` or `SUM(Items.COLUMN)` / `SUM(Interactions.COLUMN)` of a numeric
column. Every event recorded afterwards is attributed to a source: the event's
`metricAttribution.eventAttributionSource` when given (it wins over a recommendationId); otherwise the
campaign whose answer (`recommendationId`) showed the event's item; otherwise `SOURCE_NAME_UNDEFINED`.
Values are aggregated per 15-minute window, as AWS reports them.

AWS sends PutEvents metrics to CloudWatch, which this engine does not have: it writes them instead, in
the CSV layout AWS uses for its S3 reports, to the attribution's `s3DataDestination` (s3:// or, on this
engine, file://), one new file per flush. `ShownLists` remembers which items each runtime answer showed,
in memory and bounded: events that name an answer older than that, or one from before a restart, are
SOURCE_NAME_UNDEFINED.

INCREMENTAL imports of interactions count too (AWS reports incremental bulk data to CloudWatch, and to
S3 when the import job sets `publishAttributionMetricsToS3`): a bulk row has no runtime answer to look
up, so it is attributed to its `EVENT_ATTRIBUTION_SOURCE` column when the schema has one and the row fills
it, otherwise to SOURCE_NAME_UNDEFINED. With the flag set, the import's counts are written at once to
`AggregatedAttributionMetrics-DatasetImport-<time>.csv` beside the PutEvents reports; without it they
would go to CloudWatch only, which this engine does not have.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import itertools
import re
import threading
import time
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from ..avro import parse_schema
from ..errors import InvalidInputException, ResourceAlreadyExistsException
from ..locations import LocationError, Locations, join
from .jobs import JobPool
from .ledger import Ledger, check_name
from .records import ResourceRecord
from .serving_cache import ServingCache

KIND = "metric-attribution"
MAX_METRICS = 10
UNDEFINED_SOURCE = "SOURCE_NAME_UNDEFINED"
WINDOW_SECONDS = 15 * 60  # AWS aggregates attribution metrics over 15-minute intervals
REPORT_HEADER = ("METRIC_NAME", "EVENT_TYPE", "VALUE", "MATH_FUNCTION", "EVENT_ATTRIBUTION_SOURCE", "TIMESTAMP")
_EXPRESSION = re.compile(
    r"^\s*(?:(SAMPLECOUNT)\(\s*\)|(SUM)\(\s*(Items|Interactions)\.([A-Za-z_][A-Za-z0-9_]*)\s*\))\s*$", re.IGNORECASE
)
_NUMERIC = {"int", "long", "float", "double"}


@dataclass(kw_only=True)
class MetricAttributionRecord(ResourceRecord):
    name: str
    metric_attribution_arn: str
    dataset_group_arn: str
    metrics_output_config: dict
    metrics: list  # not in DescribeMetricAttribution's shape: ListMetricAttributionMetrics answers it


@dataclass(frozen=True)
class Metric:
    name: str
    event_type: str
    function: str  # "samplecount" or "sum", as AWS writes MATH_FUNCTION
    dataset: str | None = None  # "Items" or "Interactions" for SUM
    column: str | None = None


def parse_metric(metric: dict) -> Metric:
    match = _EXPRESSION.match(str(metric.get("expression", "")))
    if not match:
        raise InvalidInputException(
            f"The expression {str(metric.get('expression'))[:80]!r} of metric {metric.get('metricName')!r} is "
            "not valid: use SAMPLECOUNT() or SUM(Items.COLUMN) / SUM(Interactions.COLUMN)."
        )
    if match.group(1):
        return Metric(metric["metricName"], metric["eventType"], "samplecount")
    return Metric(metric["metricName"], metric["eventType"], "sum", match.group(3).title(), match.group(4).upper())


class ShownLists:
    """recommendationId -> (campaign ARN, the items its answer showed), newest kept. The items are kept
    as a tuple: a frozenset of 25 ids takes 2.2 KB (over 400 MB at capacity, against ~90 MB) and was
    hashed on every answer, to save a scan of 25 ids on the rare event that names a recommendation."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._lists: collections.OrderedDict[str, tuple[str, tuple[str, ...]]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, recommendation_id: str, source_arn: str, items: list[str]) -> None:
        with self._lock:
            self._lists[recommendation_id] = (source_arn, tuple(items))
            if len(self._lists) > self._capacity:
                self._lists.popitem(last=False)

    def source_of(self, recommendation_id: str | None, item_id: str) -> str | None:
        if not recommendation_id:
            return None
        shown = self._lists.get(recommendation_id)
        return shown[0] if shown is not None and item_id in shown[1] else None


class MetricAttributions:
    def __init__(self, ledger: Ledger, light: JobPool, cache: ServingCache, shown: ShownLists,
                 locations: Locations, flush_seconds: float = 60.0) -> None:
        self._ledger = ledger
        self._locations = locations
        self._light = light
        self._cache = cache
        self.shown = shown
        # attribution ARN -> (metric name, event type, function, source, window start) -> value
        self._pending: dict[str, dict[tuple[str, str, str, str, int], float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reports = itertools.count(1)
        self._flusher = threading.Thread(target=self._flush_every, args=(flush_seconds,), daemon=True,
                                         name="metric-attribution-flush")
        self._flusher.start()

    # ------------------------------------------------------------------ the resource
    def create(self, name: str, dataset_group_arn: str, metrics: list[dict], metrics_output_config: dict,
               **_: object) -> str:
        check_name(name, "metric attribution")
        ledger = self._ledger
        ledger.get(dataset_group_arn, "dataset-group")
        if ledger.children(KIND, dataset_group_arn):
            raise ResourceAlreadyExistsException("This dataset group already has a metric attribution.")
        self._check_metrics(dataset_group_arn, metrics)
        self._check_output(metrics_output_config)
        arn = ledger.arn(KIND, name)
        record = MetricAttributionRecord(name=name, metric_attribution_arn=arn, dataset_group_arn=dataset_group_arn,
                                         metrics_output_config=metrics_output_config, metrics=list(metrics))
        ledger.new(KIND, arn, record)
        self._light.submit(ledger.activate, arn)
        return arn

    def update(self, metric_attribution_arn: str, add_metrics: list[dict] | None = None,
               remove_metrics: list[str] | None = None, metrics_output_config: dict | None = None,
               **_: object) -> str:
        rec = self._ledger.get(metric_attribution_arn, KIND)
        names = {m["metricName"] for m in rec["metrics"]}
        unknown = [n for n in remove_metrics or [] if n not in names]
        if unknown:
            raise InvalidInputException(f"No metric named {', '.join(map(repr, unknown))} to remove.")
        kept = [m for m in rec["metrics"] if m["metricName"] not in set(remove_metrics or [])]
        metrics = kept + list(add_metrics or [])
        self._check_metrics(rec["datasetGroupArn"], metrics)
        if metrics_output_config is not None:
            self._check_output(metrics_output_config)
        self.flush()  # what was counted under the old metrics is reported under them

        def mutate(r: dict) -> None:
            r["metrics"] = metrics
            if metrics_output_config is not None:
                r["metricsOutputConfig"] = metrics_output_config

        self._ledger.store.update(metric_attribution_arn, mutate)
        return metric_attribution_arn

    def delete(self, metric_attribution_arn: str) -> None:
        self._ledger.get(metric_attribution_arn, KIND)
        with self._lock:
            self._pending.pop(metric_attribution_arn, None)
        self._ledger.store.delete(metric_attribution_arn)

    def metrics(self, metric_attribution_arn: str | None = None) -> list[dict]:
        if not metric_attribution_arn:
            raise InvalidInputException("metricAttributionArn is required.")
        return self._ledger.get(metric_attribution_arn, KIND)["metrics"]

    def _check_metrics(self, group_arn: str, metrics: list[dict]) -> None:
        if not metrics:
            raise InvalidInputException("A metric attribution needs at least one metric.")
        if len(metrics) > MAX_METRICS:
            raise InvalidInputException(f"A metric attribution takes at most {MAX_METRICS} metrics.")
        names = [m.get("metricName") for m in metrics]
        if len(set(names)) != len(names):
            raise InvalidInputException("Each metric of a metric attribution needs its own metricName.")
        for metric in metrics:
            parsed = parse_metric(metric)
            if parsed.function == "sum":
                self._check_column(group_arn, parsed)

    def _check_column(self, group_arn: str, metric: Metric) -> None:
        """SUM() applies to numeric columns of the Items or Interactions dataset, which must exist."""
        wanted = str(metric.dataset).upper()
        datasets = [d for d in self._ledger.children("dataset", group_arn) if d["datasetType"] == wanted]
        if not datasets:
            raise InvalidInputException(
                f"SUM({metric.dataset}.{metric.column}) needs the group's {metric.dataset} dataset; create it first."
            )
        schema = parse_schema(self._ledger.get(datasets[0]["schemaArn"], "schema")["schema"])
        field = schema.field(metric.column)
        if field is None or field.type not in _NUMERIC:
            raise InvalidInputException(
                f"SUM() needs a numeric column; {metric.dataset} has no numeric column {metric.column}."
            )

    def _check_output(self, config: dict) -> None:
        destination = (config or {}).get("s3DataDestination")
        if destination:  # file:// only inside the engine's allowed roots, as every other output
            self._locations.check(destination["path"], "metricsOutputConfig.s3DataDestination.path")

    # ------------------------------------------------------------------ attribution of events
    def record_events(self, group_arn: str, events: list[dict]) -> None:
        """Count PutEvents' events under every metric of the group's metric attribution."""
        attributions = [a for a in self._ledger.children(KIND, group_arn) if a.get("status") == "ACTIVE"]
        if not attributions:
            return
        attribution = attributions[0]
        metrics = [parse_metric(m) for m in attribution["metrics"]]
        prices = self._item_values(group_arn, {m.column for m in metrics if m.dataset == "Items"})
        updates: dict[tuple[str, str, str, str, int], float] = collections.defaultdict(float)
        for event in events:
            source = self.source_of(event)
            window = int(event["_time"]) // WINDOW_SECONDS * WINDOW_SECONDS
            for metric in metrics:
                if metric.event_type != event["eventType"]:
                    continue
                value = _metric_value(metric, event, prices)
                if value is not None:
                    updates[(metric.name, metric.event_type, metric.function, source, window)] += value
        if updates:
            with self._lock:
                pending = self._pending.setdefault(attribution["metricAttributionArn"], {})
                for key, value in updates.items():
                    pending[key] = pending.get(key, 0.0) + value

    def record_import(self, group_arn: str, table: pa.Table, publish_to_s3: bool) -> None:
        """Count an INCREMENTAL interactions import under the group's metrics; report it when asked."""
        attributions = [a for a in self._ledger.children(KIND, group_arn) if a.get("status") == "ACTIVE"]
        if not attributions or "EVENT_TYPE" not in table.column_names:
            return
        attribution = attributions[0]
        metrics = [parse_metric(m) for m in attribution["metrics"]]
        prices = self._item_values(group_arn, {m.column for m in metrics if m.dataset == "Items"})
        rows = _count_rows(metrics, table, prices)
        destination = (attribution.get("metricsOutputConfig") or {}).get("s3DataDestination")
        if not rows or not publish_to_s3 or not destination:
            return
        name = self._report_name("DatasetImport")
        # the destination is the user's; an unwritable one loses this report, never the import
        with contextlib.suppress(LocationError, InvalidInputException):
            self._locations.write_bytes(join(destination["path"], name), _report(rows))

    def source_of(self, event: dict) -> str:
        given = (event.get("metricAttribution") or {}).get("eventAttributionSource")
        if given:
            return given
        return self.shown.source_of(event.get("recommendationId"), str(event.get("itemId"))) or UNDEFINED_SOURCE

    def _item_values(self, group_arn: str, columns: set[str]) -> dict[str, dict[str, float]]:
        if not columns:
            return {}
        frame = self._cache.items_frame(group_arn)
        out = {}
        for column in columns:
            if column in frame.columns and "ITEM_ID" in frame.columns:
                values = frame[["ITEM_ID", column]].dropna()
                out[column] = dict(zip(values["ITEM_ID"].astype(str), values[column].astype(float), strict=True))
        return out

    # ------------------------------------------------------------------ reports
    def flush(self) -> None:
        """Write what was counted since the last flush, one CSV per attribution with a destination."""
        with self._lock:
            pending, self._pending = self._pending, {}
        name = self._report_name("PutEvents")
        for arn, rows in pending.items():
            rec = self._ledger.store.peek(arn)
            destination = ((rec or {}).get("metricsOutputConfig") or {}).get("s3DataDestination")
            if not destination or not rows:
                continue
            try:
                self._locations.write_bytes(
                    join(destination["path"], name), _report(rows))
            except (LocationError, InvalidInputException):
                continue  # the destination is the user's; an unwritable one loses this window's report only

    def _report_name(self, kind: str) -> str:
        """A report's file name: its time and a sequence number. Reports can come faster than once a second
        and outputs are never replaced, so a name of the second alone would lose the later report."""
        return f"AggregatedAttributionMetrics-{kind}-{int(time.time())}-{next(self._reports):06d}.csv"

    def _flush_every(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self.flush()

    def shutdown(self) -> None:
        self._stop.set()
        self.flush()


def _metric_value(metric: Metric, event: dict, items: dict[str, dict[str, float]]) -> float | None:
    if metric.function == "samplecount":
        return 1.0
    if metric.dataset == "Items":
        return items.get(metric.column, {}).get(str(event.get("itemId")))
    if metric.column == "EVENT_VALUE":
        value = event.get("eventValue")
        return None if value is None else float(value)
    return None  # other Interactions columns arrive in `properties`, which this engine does not keep


def _count_rows(metrics: list[Metric], table: pa.Table,
                items: dict[str, dict[str, float]]) -> dict[tuple[str, str, str, str, int], float]:
    """The imported rows' values per (metric, event type, function, source, 15-minute window), vectorised:
    an import can hold millions of rows."""
    wanted = [c for c in ("EVENT_TYPE", "TIMESTAMP", "ITEM_ID", "EVENT_VALUE", "EVENT_ATTRIBUTION_SOURCE")
              if c in table.column_names]
    frame = table.select(wanted).to_pandas()
    given = frame.get("EVENT_ATTRIBUTION_SOURCE")
    source = pd.Series(UNDEFINED_SOURCE, index=frame.index)
    if given is not None:
        text = given.astype("string").str.strip()
        source = source.where(text.isna() | (text == ""), text)
    window = pd.to_numeric(frame["TIMESTAMP"], errors="coerce") // WINDOW_SECONDS * WINDOW_SECONDS
    out: dict[tuple[str, str, str, str, int], float] = {}
    for metric in metrics:
        chosen = (frame["EVENT_TYPE"].astype(str) == metric.event_type) & window.notna()
        if metric.function == "samplecount":
            values = pd.Series(1.0, index=frame.index)
        elif metric.dataset == "Items":
            values = frame["ITEM_ID"].astype(str).map(items.get(metric.column, {}))
        elif metric.column == "EVENT_VALUE" and "EVENT_VALUE" in frame.columns:
            values = pd.to_numeric(frame["EVENT_VALUE"], errors="coerce")
        else:
            continue  # other Interactions columns are not kept by this engine
        chosen &= values.notna()
        if not chosen.any():
            continue
        sums = values[chosen].groupby([source[chosen], window[chosen].astype("int64")]).sum()
        for (src, start), value in sums.items():
            out[(metric.name, metric.event_type, metric.function, str(src), int(start))] = float(value)
    return out


def _report(rows: dict[tuple[str, str, str, str, int], float]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    for (name, event_type, function, source, window), value in sorted(rows.items(), key=lambda kv: kv[0][4]):
        writer.writerow((name, event_type, float(value), function, source, window))
    return out.getvalue().encode()
