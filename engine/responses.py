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

from .backend import PersonalizeBackend
from .errors import InvalidInputException, UnknownOperationException

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
Handler = Callable[[PersonalizeBackend, Params], dict]


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
    meta = shape.metadata
    kind = shape.type_name
    serialization = getattr(shape, "serialization", None) or {}
    if (is_json_value_header(shape) or getattr(shape, "is_document_type", False)
            or getattr(shape, "is_tagged_union", False) or serialization.get("hostLabel")):
        return _never
    low, high = meta.get("min"), meta.get("max")
    if kind == "structure":
        required = tuple(meta.get("required", ()))
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
    if kind == "string":
        pattern = PATTERN_OVERRIDES.get(shape.name, meta.get("pattern"))

        def string(value: Any) -> bool:
            if type(value) is not str:
                return False
            n = len(value)
            if (low is not None and n < low) or (high is not None and n > high):
                return False
            return not pattern or _matches(pattern, value)

        return string
    if kind in ("integer", "long", "double", "float"):
        types = (int,) if kind in ("integer", "long") else (int, float)

        def number(value: Any) -> bool:
            if type(value) not in types:  # bool, Decimal and subclasses: the full path decides
                return False
            return (low is None or value >= low) and (high is None or value <= high)

        return number
    if kind == "boolean":
        return lambda value: type(value) is bool
    if kind == "timestamp":
        def timestamp(value: Any) -> bool:
            if type(value) not in (int, float, str):
                return False
            try:
                return bool(_VALIDATOR._type_check_datetime(value))
            except Exception:  # out of range and the like: the full path words the refusal
                return False

        return timestamp
    if kind == "list":
        item_check: list[Check] = []

        def list_(value: Any) -> bool:
            if type(value) is not list:
                return False
            n = len(value)
            if (low is not None and n < low) or (high is not None and n > high):
                return False
            if not item_check:
                item_check.append(_accepts(shape.member))
            check = item_check[0]
            return all(check(v) for v in value)

        return list_
    if kind == "map":
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
    return _never


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
def _list(kind: str, key: str, parent: str | None = None) -> Handler:
    def handler(b: PersonalizeBackend, p: Params) -> dict:
        records = b.list(kind, p.get(parent) if parent else None)
        page, token = b.paginate(records, p.get("maxResults"), p.get("nextToken"))
        return {key: page, "nextToken": token}

    return handler


def _describe(kind: str, key: str, arn_param: str) -> Handler:
    return lambda b, p: {key: b.describe(kind, p[arn_param])}


def _list_campaigns(b: PersonalizeBackend, p: Params) -> dict:
    records = b.list("campaign", p.get("solutionArn"))
    page, token = b.paginate(records, p.get("maxResults"), p.get("nextToken"))
    return {"campaigns": page, "nextToken": token}


def _list_batch_jobs(b: PersonalizeBackend, p: Params) -> dict:
    records = b.list("batch-inference-job", p.get("solutionVersionArn"))
    page, token = b.paginate(records, p.get("maxResults"), p.get("nextToken"))
    return {"batchInferenceJobs": page, "nextToken": token}


def _list_import_jobs(b: PersonalizeBackend, p: Params) -> dict:
    page, token = b.paginate(b.list("dataset-import-job", p.get("datasetArn")), p.get("maxResults"),
                             p.get("nextToken"))
    return {"datasetImportJobs": page, "nextToken": token}


def _list_versions(b: PersonalizeBackend, p: Params) -> dict:
    if p.get("solutionArn"):
        b.describe("solution", p["solutionArn"])  # unknown solution: ResourceNotFound, as AWS
    page, token = b.paginate(b.list("solution-version", p.get("solutionArn")), p.get("maxResults"),
                             p.get("nextToken"))
    return {"solutionVersions": page, "nextToken": token}


def _list_recipes(b: PersonalizeBackend, p: Params) -> dict:
    page, token = b.paginate(b.recipes(), p.get("maxResults"), p.get("nextToken"))
    return {"recipes": page, "nextToken": token}


def _tracker(b: PersonalizeBackend, p: Params) -> dict:
    arn, tracking_id = b.create_event_tracker(**p)
    return {"eventTrackerArn": arn, "trackingId": tracking_id}


def _recommendations(b: PersonalizeBackend, p: Params) -> dict:
    items, rid = b.get_recommendations(**p)
    return {"itemList": items, "recommendationId": rid}


def _ranking(b: PersonalizeBackend, p: Params) -> dict:
    items, rid = b.get_personalized_ranking(**p)
    return {"personalizedRanking": items, "recommendationId": rid}


def _none(fn: Callable[..., Any]) -> Handler:
    def handler(b: PersonalizeBackend, p: Params) -> dict:
        fn(b, **p)
        return {}

    return handler


def _returns(key: str, fn: Callable[..., str]) -> Handler:
    return lambda b, p: {key: fn(b, **p)}


B = PersonalizeBackend
HANDLERS: dict[str, Handler] = {
    # dataset groups, schemas, datasets
    "CreateDatasetGroup": _returns("datasetGroupArn", B.create_dataset_group),
    "DescribeDatasetGroup": _describe("dataset-group", "datasetGroup", "datasetGroupArn"),
    "ListDatasetGroups": _list("dataset-group", "datasetGroups"),
    "DeleteDatasetGroup": lambda b, p: b.delete_dataset_group(p["datasetGroupArn"]) or {},
    "CreateSchema": _returns("schemaArn", B.create_schema),
    "DescribeSchema": _describe("schema", "schema", "schemaArn"),
    "ListSchemas": _list("schema", "schemas"),
    "DeleteSchema": lambda b, p: b.delete_schema(p["schemaArn"]) or {},
    "CreateDataset": _returns("datasetArn", B.create_dataset),
    "DescribeDataset": _describe("dataset", "dataset", "datasetArn"),
    "ListDatasets": _list("dataset", "datasets", "datasetGroupArn"),
    "UpdateDataset": _returns("datasetArn", B.update_dataset),
    "DeleteDataset": lambda b, p: b.delete_dataset(p["datasetArn"]) or {},
    # imports and exports
    "CreateDatasetImportJob": _returns("datasetImportJobArn", B.create_dataset_import_job),
    "DescribeDatasetImportJob": _describe("dataset-import-job", "datasetImportJob", "datasetImportJobArn"),
    "ListDatasetImportJobs": _list_import_jobs,
    "CreateDatasetExportJob": _returns("datasetExportJobArn", B.create_dataset_export_job),
    "DescribeDatasetExportJob": _describe("dataset-export-job", "datasetExportJob", "datasetExportJobArn"),
    "ListDatasetExportJobs": _list("dataset-export-job", "datasetExportJobs", "datasetArn"),
    # solutions and versions
    "CreateSolution": _returns("solutionArn", B.create_solution),
    "DescribeSolution": lambda b, p: {"solution": b.describe_solution(p["solutionArn"])},
    "ListSolutions": _list("solution", "solutions", "datasetGroupArn"),
    "UpdateSolution": _returns("solutionArn", B.update_solution),
    "DeleteSolution": lambda b, p: b.delete_solution(p["solutionArn"]) or {},
    "CreateSolutionVersion": _returns("solutionVersionArn", B.create_solution_version),
    "DescribeSolutionVersion": _describe("solution-version", "solutionVersion", "solutionVersionArn"),
    "ListSolutionVersions": _list_versions,
    "StopSolutionVersionCreation": _none(B.stop_solution_version_creation),
    "GetSolutionMetrics": lambda b, p: {
        "solutionVersionArn": p["solutionVersionArn"],
        "metrics": b.get_solution_metrics(p["solutionVersionArn"]),
    },
    # campaigns
    "CreateCampaign": _returns("campaignArn", B.create_campaign),
    "DescribeCampaign": _describe("campaign", "campaign", "campaignArn"),
    "ListCampaigns": _list_campaigns,
    "UpdateCampaign": _returns("campaignArn", B.update_campaign),
    "DeleteCampaign": lambda b, p: b.delete_campaign(p["campaignArn"]) or {},
    # event trackers and filters
    "CreateEventTracker": _tracker,
    "DescribeEventTracker": _describe("event-tracker", "eventTracker", "eventTrackerArn"),
    "ListEventTrackers": _list("event-tracker", "eventTrackers", "datasetGroupArn"),
    "DeleteEventTracker": lambda b, p: b.delete_event_tracker(p["eventTrackerArn"]) or {},
    "CreateFilter": _returns("filterArn", B.create_filter),
    "DescribeFilter": _describe("filter", "filter", "filterArn"),
    "ListFilters": _list("filter", "Filters", "datasetGroupArn"),
    "DeleteFilter": lambda b, p: b.delete_filter(p["filterArn"]) or {},
    # batch inference
    "CreateBatchInferenceJob": _returns("batchInferenceJobArn", B.create_batch_inference_job),
    "DescribeBatchInferenceJob": _describe("batch-inference-job", "batchInferenceJob",
                                           "batchInferenceJobArn"),
    "ListBatchInferenceJobs": _list_batch_jobs,
    # recipes and tags
    "ListRecipes": _list_recipes,
    "DescribeRecipe": lambda b, p: {"recipe": b.describe_recipe(p["recipeArn"])},
    "TagResource": _none(B.tag_resource),
    "UntagResource": _none(B.untag_resource),
    "ListTagsForResource": lambda b, p: {"tags": b.list_tags(p["resourceArn"])},
    # runtime and events
    "GetRecommendations": _recommendations,
    "GetPersonalizedRanking": _ranking,
    "PutEvents": _none(B.put_events),
    "PutItems": _none(B.put_items),
    "PutUsers": _none(B.put_users),
}


# The data-plane handlers build their answers field by field in the output shape (the fidelity tests check
# them against botocore's model); projecting 25 items again would be most of a request's cost.
BUILT_TO_SHAPE = frozenset({"GetRecommendations", "GetPersonalizedRanking", "PutEvents", "PutItems", "PutUsers"})


def dispatch(backend: PersonalizeBackend, service: str, operation: str, params: Params) -> dict:
    model = MODELS[service]
    if operation not in model.operation_names or operation not in HANDLERS:
        raise UnknownOperationException(f"The operation {operation} is not supported by this engine.")
    op = model.operation_model(operation)
    validate_input(op, params)
    result = HANDLERS[operation](backend, params)
    if operation in BUILT_TO_SHAPE:
        return result
    return project(result, op.output_shape) or {}

