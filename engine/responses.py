"""The protocol layer: AWS operations in, AWS-shaped answers out.

Each handler takes the decoded request parameters and calls the backend; the answer is then
projected onto botocore's output shape for the operation, which both drops internal fields and
guarantees that every response is what boto3 (and the AWS CLI) expect. Incoming parameters are
checked against botocore's input shape first, so a malformed request gets the modelled
InvalidInputException instead of reaching the domain code.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.utils import is_json_value_header
from botocore.validate import ParamValidator

from .backend import Backend
from .errors import InvalidInputException, UnknownOperationException
from .resources.ledger import paginate

_SESSION = botocore.session.get_session()
MODELS = {name: _SESSION.get_service_model(name) for name in ("personalize", "personalize-runtime",
                                                              "personalize-events")}
# rest-json routes of the two data-plane APIs: (method, path) -> (service, operation)
REST_ROUTES = {
    (op.http["method"], op.http["requestUri"]): (svc, name)
    for svc in ("personalize-runtime", "personalize-events")
    for name in MODELS[svc].operation_names
    for op in [MODELS[svc].operation_model(name)]
}
_VALIDATOR = ParamValidator()

Params = dict[str, Any]
Handler = Callable[[Backend, Params], dict]


Projector = Callable[[Any], Any]


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


_SCALARS: dict[str, Projector] = {"integer": int, "long": int, "double": float, "float": float,
                                  "timestamp": _timestamp, "boolean": bool}


def _identity(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=4096)
def _projector(shape: Shape) -> Projector:
    """A projection function compiled once per output shape: the serving path projects every answer,
    and walking botocore's shape objects per value cost as much as computing the recommendations."""
    kind = shape.type_name
    if kind == "structure":
        members = [(name, _projector(member)) for name, member in shape.members.items()]

        def structure(value: Any) -> Any:
            if not isinstance(value, dict):
                return None
            out = {}
            for name, fn in members:
                v = value.get(name)
                if v is not None:
                    projected = fn(v)
                    if projected is not None:
                        out[name] = projected
            return out

        return structure
    if kind == "list":
        item = _projector(shape.member)
        return lambda value: [item(v) for v in value]
    if kind == "map":
        item = _projector(shape.value)
        return lambda value: {str(k): item(v) for k, v in value.items()}
    return _SCALARS.get(kind, _identity)


def project(value: Any, shape: Shape | None) -> Any:
    """Keep only what the output shape models (recursively); drop None and internal fields."""
    if shape is None or value is None:
        return value
    return _projector(shape)(value)


def validate_input(op: OperationModel, params: Params) -> None:
    """Refuse what AWS refuses before it reaches the domain: types, required members, unknown members
    (botocore's validator), then the model's maximum lengths, numeric ranges and patterns."""
    if op.input_shape is None:
        return
    if op.name in FAST_VALIDATED and _accepts(op.input_shape)(params):
        return  # certainly valid; anything else takes the full path, which words the refusal
    try:
        report = _VALIDATOR.validate(params, op.input_shape)
    except (OverflowError, OSError, ValueError, RuntimeError) as exc:  # e.g. a timestamp past 9999
        raise InvalidInputException(f"A parameter of {op.name} is out of range: {exc}") from exc
    if report.has_errors():
        raise InvalidInputException(report.generate_report().replace("\n", " ")[:2000])
    _check_limits(params, op.input_shape, op.input_shape.name)


# The serving path's operations: a compiled check accepts the common, valid requests without walking
# botocore's shapes per value.
FAST_VALIDATED = frozenset({"GetRecommendations", "GetPersonalizedRanking", "PutEvents"})
Check = Callable[[Any], bool]


def _never(value: Any) -> bool:
    return False


@functools.lru_cache(maxsize=1024)
def _accepts(shape: Shape) -> Check:
    """A predicate compiled once per shape: True only if both botocore's ParamValidator and
    `_check_limits` would accept the value (same types, required and unknown members, minimums,
    maximums, ranges and patterns). False means "not sure": the caller then runs the full validation,
    so a refusal always has the full path's exception and message. Shapes this does not model
    (documents, unions, JSON-value headers, host labels, blobs) always answer False."""
    serialization = getattr(shape, "serialization", None) or {}
    if (is_json_value_header(shape) or getattr(shape, "is_document_type", False)
            or getattr(shape, "is_tagged_union", False) or serialization.get("hostLabel")):
        return _never
    kind = shape.type_name
    if kind in ("integer", "long", "double", "float"):
        return _accepts_number(shape)
    if kind == "boolean":
        return lambda value: type(value) is bool
    compile_check = _COMPILERS.get(kind)
    return compile_check(shape) if compile_check is not None else _never


def _accepts_structure(shape: Shape) -> Check:
    required = tuple(shape.metadata.get("required", ()))
    members: dict[str, Check] = {}
    names = shape.members

    def structure(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for name in required:
            if name not in value:
                return False
        for name, v in value.items():
            check = members.get(name)
            if check is None:
                if name not in names:
                    return False
                check = members[name] = _accepts(names[name])  # compiled on first use
            if not check(v):
                return False
        return True

    return structure


def _accepts_string(shape: Shape) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    pattern = PATTERN_OVERRIDES.get(shape.name, shape.metadata.get("pattern"))

    def string(value: Any) -> bool:
        if type(value) is not str:
            return False
        n = len(value)
        if (low is not None and n < low) or (high is not None and n > high):
            return False
        return not pattern or _matches(pattern, value)

    return string


def _accepts_number(shape: Shape) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    types = (int,) if shape.type_name in ("integer", "long") else (int, float)

    def number(value: Any) -> bool:
        if type(value) not in types:  # bool, Decimal and subclasses: the full path decides
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return number


def _accepts_timestamp(shape: Shape) -> Check:
    def timestamp(value: Any) -> bool:
        if type(value) not in (int, float, str):
            return False
        try:
            return bool(_VALIDATOR._type_check_datetime(value))
        except Exception:  # out of range and the like: the full path words the refusal
            return False

    return timestamp


def _accepts_list(shape: Shape) -> Check:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    item_check: list[Check] = []

    def list_(value: Any) -> bool:
        if type(value) is not list:
            return False
        n = len(value)
        if (low is not None and n < low) or (high is not None and n > high):
            return False
        if not item_check:  # compiled on first use: shapes may be recursive
            item_check.append(_accepts(shape.member))
        check = item_check[0]
        return all(check(v) for v in value)

    return list_


def _accepts_map(shape: Shape) -> Check:
    high = shape.metadata.get("max")
    kv_check: list[tuple[Check, Check]] = []

    def map_(value: Any) -> bool:
        if type(value) is not dict:
            return False
        if high is not None and len(value) > high:
            return False
        if not kv_check:
            kv_check.append((_accepts(shape.key), _accepts(shape.value)))
        key_check, value_check = kv_check[0]
        return all(key_check(k) and value_check(v) for k, v in value.items())

    return map_


_COMPILERS: dict[str, Callable[[Shape], Check]] = {
    "structure": _accepts_structure, "string": _accepts_string, "timestamp": _accepts_timestamp,
    "list": _accepts_list, "map": _accepts_map,
}


# Where the engine deliberately accepts more than AWS: local files as data locations (the contract).
PATTERN_OVERRIDES = {"S3Location": r"(s3|http|https|file)://.+"}
_CLASSES = {r"\p{L}": ("a-zA-Z", "L", "a"), r"\p{N}": ("0-9", "N", "0"), r"\p{Z}": (" ", "Z", " ")}


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> tuple[re.Pattern, str]:
    r"""The model's patterns are Java regexes; Python's `re` lacks \p{..} classes. \p{ASCII} becomes a
    range; \p{L}/\p{N}/\p{Z} become their ASCII members, and `_matches` maps every other letter,
    number or separator of the value onto one of those first. Returns the pattern and the Unicode
    categories it needs mapped."""
    categories = ""
    text = text.replace(r"\p{ASCII}", r"\x00-\x7F" if "[" in text else r"[\x00-\x7F]")
    for token, (ascii_range, category, _) in _CLASSES.items():
        if token in text:
            text = text.replace(token, ascii_range)
            categories += category
    return re.compile(text), categories


def _matches(pattern: str, value: str) -> bool:
    # As in Smithy, a pattern is not implicitly anchored: it must match somewhere in the value.
    compiled, categories = _pattern(pattern)
    if categories and not value.isascii():
        stand_in = {c: rep for _, (_, c, rep) in _CLASSES.items() if c in categories}
        value = "".join(
            stand_in.get(unicodedata.category(ch)[0], ch) if ord(ch) > 127 else ch for ch in value
        )
    return compiled.search(value) is not None


def _check_limits(value: Any, shape: Shape, path: str) -> None:
    """botocore's validator checks minimums and types; AWS also refuses values over the modelled
    maximums, numbers out of their range and strings that do not match the member's pattern."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        limit = meta.get("max")
        if limit is not None and len(value) > limit:
            raise InvalidInputException(f"{path} is longer than its maximum of {limit}.")
        pattern = PATTERN_OVERRIDES.get(shape.name, meta.get("pattern"))
        if pattern and not _matches(pattern, value):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise InvalidInputException(
                f"Value {shown!r} at {path} failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
    elif kind in ("integer", "long", "double", "float") and isinstance(value, int | float):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInputException(
                f"{path} must be between {low if low is not None else '-inf'} and "
                f"{high if high is not None else 'inf'}; got {value}."
            )
    elif kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _check_limits(value[name], member, f"{path}.{name}")
    elif kind == "list" and isinstance(value, list):
        limit = meta.get("max")
        if limit is not None and len(value) > limit:
            raise InvalidInputException(f"{path} has more than its maximum of {limit} entries.")
        for v in value:
            _check_limits(v, shape.member, path)
    elif kind == "map" and isinstance(value, dict):
        limit = meta.get("max")
        if limit is not None and len(value) > limit:
            raise InvalidInputException(f"{path} has more than its maximum of {limit} entries.")
        for k, v in value.items():
            _check_limits(k, shape.key, f"{path} key")
            _check_limits(v, shape.value, f"{path}.{k}")


# ---------------------------------------------------------------- handlers by operation
@functools.lru_cache(maxsize=512)
def snake_case(member: str) -> str:
    """An AWS request member as the domain's parameter name: datasetGroupArn -> dataset_group_arn,
    performHPO -> perform_hpo, publishAttributionMetricsToS3 -> publish_attribution_metrics_to_s3."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", member).lower()


def domain_params(params: Params) -> dict[str, Any]:
    """The request's top-level members as keyword arguments; nested structures keep AWS's shapes, which
    is how the domain stores them (dataSource, solutionConfig, campaignConfig, ...)."""
    return {snake_case(name): value for name, value in params.items()}


def _call(key: str | None, method: Callable[[Backend], Callable[..., Any]]) -> Handler:
    """An operation answered by one domain method: its result under `key`, or an empty answer."""
    def handler(b: Backend, p: Params) -> dict:
        result = method(b)(**domain_params(p))
        return {} if key is None else {key: result}

    return handler


def _page(key: str, records: list[dict], p: Params) -> dict:
    page, token = paginate(records, p.get("maxResults"), p.get("nextToken"))
    return {key: page, "nextToken": token}


def _list(kind: str, key: str, parent: str | None = None) -> Handler:
    return lambda b, p: _page(key, b.list(kind, p.get(parent) if parent else None), p)


def _describe(kind: str, key: str, arn_param: str) -> Handler:
    return lambda b, p: {key: b.describe(kind, p[arn_param])}


def _list_versions(b: Backend, p: Params) -> dict:
    if p.get("solutionArn"):
        b.describe("solution", p["solutionArn"])  # unknown solution: ResourceNotFound, as AWS
    return _page("solutionVersions", b.list("solution-version", p.get("solutionArn")), p)


def _tracker(b: Backend, p: Params) -> dict:
    arn, tracking_id = b.trackers.create(**domain_params(p))
    return {"eventTrackerArn": arn, "trackingId": tracking_id}


def _recommendations(b: Backend, p: Params) -> dict:
    items, rid = b.serving.get_recommendations(**domain_params(p))
    return {"itemList": items, "recommendationId": rid}


def _ranking(b: Backend, p: Params) -> dict:
    items, rid = b.serving.get_personalized_ranking(**domain_params(p))
    return {"personalizedRanking": items, "recommendationId": rid}


def _metrics(b: Backend, p: Params) -> dict:
    arn = p["solutionVersionArn"]
    return {"solutionVersionArn": arn, "metrics": b.solution_versions.metrics(arn)}


HANDLERS: dict[str, Handler] = {
    # dataset groups, schemas, datasets
    "CreateDatasetGroup": _call("datasetGroupArn", lambda b: b.dataset_groups.create),
    "DescribeDatasetGroup": _describe("dataset-group", "datasetGroup", "datasetGroupArn"),
    "ListDatasetGroups": _list("dataset-group", "datasetGroups"),
    "DeleteDatasetGroup": _call(None, lambda b: b.dataset_groups.delete),
    "CreateSchema": _call("schemaArn", lambda b: b.schemas.create),
    "DescribeSchema": _describe("schema", "schema", "schemaArn"),
    "ListSchemas": _list("schema", "schemas"),
    "DeleteSchema": _call(None, lambda b: b.schemas.delete),
    "CreateDataset": _call("datasetArn", lambda b: b.datasets.create),
    "DescribeDataset": _describe("dataset", "dataset", "datasetArn"),
    "ListDatasets": _list("dataset", "datasets", "datasetGroupArn"),
    "UpdateDataset": _call("datasetArn", lambda b: b.datasets.update),
    "DeleteDataset": _call(None, lambda b: b.datasets.delete),
    # imports and exports
    "CreateDatasetImportJob": _call("datasetImportJobArn", lambda b: b.import_jobs.create),
    "DescribeDatasetImportJob": _describe("dataset-import-job", "datasetImportJob", "datasetImportJobArn"),
    "ListDatasetImportJobs": _list("dataset-import-job", "datasetImportJobs", "datasetArn"),
    "CreateDatasetExportJob": _call("datasetExportJobArn", lambda b: b.export_jobs.create),
    "DescribeDatasetExportJob": _describe("dataset-export-job", "datasetExportJob", "datasetExportJobArn"),
    "ListDatasetExportJobs": _list("dataset-export-job", "datasetExportJobs", "datasetArn"),
    # solutions and versions
    "CreateSolution": _call("solutionArn", lambda b: b.solutions.create),
    "DescribeSolution": _call("solution", lambda b: b.solutions.describe),
    "ListSolutions": _list("solution", "solutions", "datasetGroupArn"),
    "UpdateSolution": _call("solutionArn", lambda b: b.solutions.update),
    "DeleteSolution": _call(None, lambda b: b.solutions.delete),
    "CreateSolutionVersion": _call("solutionVersionArn", lambda b: b.solution_versions.create),
    "DescribeSolutionVersion": _describe("solution-version", "solutionVersion", "solutionVersionArn"),
    "ListSolutionVersions": _list_versions,
    "StopSolutionVersionCreation": _call(None, lambda b: b.solution_versions.stop),
    "GetSolutionMetrics": _metrics,
    # campaigns
    "CreateCampaign": _call("campaignArn", lambda b: b.campaigns.create),
    "DescribeCampaign": _describe("campaign", "campaign", "campaignArn"),
    "ListCampaigns": _list("campaign", "campaigns", "solutionArn"),
    "UpdateCampaign": _call("campaignArn", lambda b: b.campaigns.update),
    "DeleteCampaign": _call(None, lambda b: b.campaigns.delete),
    # recommenders (domain dataset groups)
    "CreateRecommender": _call("recommenderArn", lambda b: b.recommenders.create),
    "DescribeRecommender": _describe("recommender", "recommender", "recommenderArn"),
    "ListRecommenders": lambda b, p: _page("recommenders", b.recommenders.list(p.get("datasetGroupArn")), p),
    "UpdateRecommender": _call("recommenderArn", lambda b: b.recommenders.update),
    "StartRecommender": _call("recommenderArn", lambda b: b.recommenders.start),
    "StopRecommender": _call("recommenderArn", lambda b: b.recommenders.stop),
    "DeleteRecommender": _call(None, lambda b: b.recommenders.delete),
    # event trackers and filters
    "CreateEventTracker": _tracker,
    "DescribeEventTracker": _describe("event-tracker", "eventTracker", "eventTrackerArn"),
    "ListEventTrackers": _list("event-tracker", "eventTrackers", "datasetGroupArn"),
    "DeleteEventTracker": _call(None, lambda b: b.trackers.delete),
    "CreateFilter": _call("filterArn", lambda b: b.filters.create),
    "DescribeFilter": _describe("filter", "filter", "filterArn"),
    "ListFilters": _list("filter", "Filters", "datasetGroupArn"),
    "DeleteFilter": _call(None, lambda b: b.filters.delete),
    # batch inference
    "CreateBatchInferenceJob": _call("batchInferenceJobArn", lambda b: b.batch_jobs.create),
    "DescribeBatchInferenceJob": _describe("batch-inference-job", "batchInferenceJob",
                                           "batchInferenceJobArn"),
    "ListBatchInferenceJobs": _list("batch-inference-job", "batchInferenceJobs", "solutionVersionArn"),
    # metric attributions
    "CreateMetricAttribution": _call("metricAttributionArn", lambda b: b.metric_attributions.create),
    "DescribeMetricAttribution": _describe("metric-attribution", "metricAttribution", "metricAttributionArn"),
    "ListMetricAttributions": _list("metric-attribution", "metricAttributions", "datasetGroupArn"),
    "UpdateMetricAttribution": _call("metricAttributionArn", lambda b: b.metric_attributions.update),
    "DeleteMetricAttribution": _call(None, lambda b: b.metric_attributions.delete),
    "ListMetricAttributionMetrics": lambda b, p: _page("metrics", b.metric_attributions.metrics(
        p.get("metricAttributionArn")), p),
    # recipes and tags
    "ListRecipes": lambda b, p: _page("recipes", b.recipes(p.get("domain")), p),
    "DescribeRecipe": _call("recipe", lambda b: b.describe_recipe),
    "DescribeAlgorithm": _call("algorithm", lambda b: b.describe_algorithm),
    "TagResource": _call(None, lambda b: b.tags.tag),
    "UntagResource": _call(None, lambda b: b.tags.untag),
    "ListTagsForResource": _call("tags", lambda b: b.tags.list),
    # runtime and events
    "GetRecommendations": _recommendations,
    "GetPersonalizedRanking": _ranking,
    "PutEvents": _call(None, lambda b: b.trackers.put_events),
    "PutItems": _call(None, lambda b: b.trackers.put_items),
    "PutUsers": _call(None, lambda b: b.trackers.put_users),
}


# The data-plane handlers build their answers field by field in the output shape (the fidelity tests check
# them against botocore's model); projecting 25 items again would be most of a request's cost.
BUILT_TO_SHAPE = frozenset({"GetRecommendations", "GetPersonalizedRanking", "PutEvents", "PutItems", "PutUsers"})


def dispatch(backend: Backend, service: str, operation: str, params: Params) -> dict:
    model = MODELS[service]
    if operation not in model.operation_names or operation not in HANDLERS:
        raise UnknownOperationException(f"The operation {operation} is not supported by this engine.")
    op = model.operation_model(operation)
    validate_input(op, params)
    result = HANDLERS[operation](backend, params)
    if operation in BUILT_TO_SHAPE:
        return result
    return project(result, op.output_shape) or {}

