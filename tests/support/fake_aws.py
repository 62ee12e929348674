"""A fake Amazon Personalize whose answers are generated from botocore's own output shapes.

The dashboard's other tests only ever see what our engine sends. AWS can send more: optional members
present or absent, statuses the engine never reaches (`CREATE STOPPING`, `DELETE PENDING`), dataset types
and recipes it does not implement (Next-Best-Action, domain dataset groups), List answers over many pages.
This server answers the three Personalize APIs over real HTTP, so boto3 parses every answer exactly as it
parses AWS's (epoch timestamps become datetimes in the local time zone, for instance).

Answers come from a seeded *world*: dataset groups, datasets, schemas, import jobs, solutions, versions,
campaigns, recommenders, trackers and filters with consistent ARNs, so List and Describe agree. Every
record is first generated member by member from its botocore shape (type, enum, min/max, which optional
members are present: `mode` "all", "none" or "random"), then the members that tie the world together
(ARNs, names, parents, statuses, recipes, schemas) are set. Runtime calls are refused as AWS refuses them
(GetRecommendations on a ranking or Next-Best-Action campaign, for instance).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

Mode = Literal["all", "none", "random"]
REGION, ACCOUNT = "us-east-1", "123456789012"
STATUSES = ["ACTIVE", "ACTIVE", "ACTIVE", "CREATE PENDING", "CREATE IN_PROGRESS", "CREATE FAILED",
            "CREATE STOPPING", "CREATE STOPPED", "DELETE PENDING", "DELETE IN_PROGRESS"]
DATASET_TYPES = ["Interactions", "Items", "Users", "Actions", "Action_Interactions"]
USER_RECIPES = ["aws-user-personalization", "aws-user-personalization-v2", "aws-popularity-count",
                "aws-trending-now"]
RELATED_RECIPES = ["aws-similar-items", "aws-sims"]
RANKING_RECIPES = ["aws-personalized-ranking", "aws-personalized-ranking-v2"]
ACTION_RECIPES = ["aws-next-best-action"]
ALL_RECIPES = USER_RECIPES + RELATED_RECIPES + RANKING_RECIPES + ACTION_RECIPES
DOMAIN_RECIPES = ["aws-ecomm-customers-who-viewed-x-also-viewed", "aws-ecomm-frequently-bought-together",
                  "aws-ecomm-popular-items-by-purchases", "aws-ecomm-popular-items-by-views",
                  "aws-ecomm-recommended-for-you"]
METRICS = ["coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
           "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
           "precision_at_5", "precision_at_10", "precision_at_25"]
FIELD_TYPES = {
    "Interactions": [("USER_ID", "string"), ("ITEM_ID", "string"), ("TIMESTAMP", "long"),
                     ("EVENT_TYPE", "string")],
    "Items": [("ITEM_ID", "string"), ("CATEGORY_L1", "string"), ("PRICE", "float")],
    "Users": [("USER_ID", "string"), ("MEMBERSHIP", "string")],
    "Actions": [("ACTION_ID", "string"), ("VALUE", "float")],
    "Action_Interactions": [("USER_ID", "string"), ("ACTION_ID", "string"), ("TIMESTAMP", "long"),
                            ("EVENT_TYPE", "string")],
}


def recipe_arn(name: str) -> str:
    return f"arn:aws:personalize:::recipe/{name}"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:{kind}/{name}"


class ShapeFiller:
    """Values for a botocore shape: the right type, enum and bounds; optional members chosen by mode."""

    def __init__(self, rng: random.Random, mode: Mode) -> None:
        self.rng, self.mode = rng, mode

    def present(self, required: bool) -> bool:
        return required or self.mode == "all" or (self.mode == "random" and self.rng.random() < 0.5)

    def value(self, shape: Shape, name: str = "", depth: int = 0) -> Any:
        if isinstance(shape, StructureShape):
            required = set(shape.required_members)
            return {m: self.value(s, m, depth + 1) for m, s in shape.members.items()
                    if depth < 6 and self.present(m in required)}
        if isinstance(shape, ListShape):
            low = shape.metadata.get("min", 0)
            return [self.value(shape.member, name, depth + 1) for _ in range(max(low, self.rng.randint(0, 2)))]
        if isinstance(shape, MapShape):
            return {self.value(shape.key, "key"): self.value(shape.value, name, depth + 1)
                    for _ in range(self.rng.randint(0, 2))}
        return self.scalar(shape, name)

    def scalar(self, shape: Shape, name: str) -> Any:
        kind, low, high = shape.type_name, shape.metadata.get("min"), shape.metadata.get("max")
        if kind == "string":
            return self.string(shape, name, low or 0, high or 256)
        if kind == "timestamp":
            return round(time.time() - self.rng.uniform(0, 90 * 86400), 3)  # epoch seconds, as JSON 1.1 sends
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("integer", "long"):
            return self.rng.randint(int(low or 0), int(min(high or 1000, 10**6)))
        if kind in ("double", "float"):
            return round(self.rng.uniform(float(low or 0), float(min(high or 1, 10**6))), 4)
        if kind == "blob":
            return "AAAA"
        raise TypeError(f"no generator for {kind}")

    def string(self, shape: Shape, name: str, low: int, high: int) -> str:
        if shape.enum:
            return self.rng.choice(shape.enum)
        lowered = name.lower()
        if lowered == "status":
            return self.rng.choice(STATUSES)
        if lowered.endswith("arn"):
            return arn(lowered[:-3] or "resource", f"x{self.rng.randint(0, 9999)}")
        if lowered == "failurereason":
            return self.rng.choice(["Input CSV is missing column USER_ID.", "Access denied to s3://b/k",
                                    "Internal error. Please try again."])
        text = f"{lowered[:8] or 'v'}{self.rng.randint(0, 99999)}"
        return (text * (low // len(text) + 1))[:max(low, min(high, len(text)))]


@dataclass
class World:
    """Every resource, by ARN, as the Describe call's structure; children listed under their parent."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def add(self, kind: str, resource_arn: str, record: dict[str, Any], parent: str | None) -> None:
        self.records[resource_arn] = record
        self.kinds[resource_arn] = kind
        self.parents[resource_arn] = parent
        self.order.append(resource_arn)

    def of(self, kind: str, parent: str | None = None) -> list[dict[str, Any]]:
        return [self.records[a] for a in self.order
                if self.kinds[a] == kind and (parent is None or self.parents[a] == parent)]


# Which Describe call each kind has, and the member of ListX's request that names its parent.
KINDS = {
    "dataset-group": ("DescribeDatasetGroup", "ListDatasetGroups", None),
    "schema": ("DescribeSchema", "ListSchemas", None),
    "dataset": ("DescribeDataset", "ListDatasets", "datasetGroupArn"),
    "dataset-import-job": ("DescribeDatasetImportJob", "ListDatasetImportJobs", "datasetArn"),
    "solution": ("DescribeSolution", "ListSolutions", "datasetGroupArn"),
    "solution-version": ("DescribeSolutionVersion", "ListSolutionVersions", "solutionArn"),
    "campaign": ("DescribeCampaign", "ListCampaigns", "solutionArn"),
    "recommender": ("DescribeRecommender", "ListRecommenders", "datasetGroupArn"),
    "event-tracker": ("DescribeEventTracker", "ListEventTrackers", "datasetGroupArn"),
    "filter": ("DescribeFilter", "ListFilters", "datasetGroupArn"),
}


class WorldBuilder:
    def __init__(self, seed: int, mode: Mode) -> None:
        self.rng = random.Random(seed)
        self.fill = ShapeFiller(self.rng, mode)
        self.model = botocore.session.get_session().get_service_model("personalize")
        self.world = World()

    def record(self, kind: str, name: str, parent: str | None, **fixed: Any) -> dict[str, Any]:
        op = self.model.operation_model(KINDS[kind][0])
        ((_, shape),) = op.output_shape.members.items()
        record = self.fill.value(shape)
        arn_key = op.input_shape.required_members[0]
        record.update({arn_key: arn(kind, name), **fixed})
        if "name" in shape.members:
            record["name"] = name.rsplit("/", 1)[0]
        if parent is not None and KINDS[kind][2]:
            record[KINDS[kind][2]] = parent
        if "status" in shape.members:
            record["status"] = fixed.get("status") or self.rng.choice(STATUSES)
        self.world.add(kind, record[arn_key], record, parent)
        return record

    def build(self) -> World:
        for g in range(self.rng.randint(1, 3)):
            domain = self.rng.choice([None, None, "ECOMMERCE", "VIDEO_ON_DEMAND"])
            extra = {"domain": domain} if domain else {}
            group = self.record("dataset-group", f"group-{g}", None, **extra)
            self.group(group["datasetGroupArn"], g, domain)
        return self.world

    def group(self, group_arn: str, g: int, domain: str | None) -> None:
        types = self.rng.sample(DATASET_TYPES, self.rng.randint(1, len(DATASET_TYPES)))
        if self.rng.random() < 0.7 and "Interactions" not in types:
            types.append("Interactions")
        for dtype in types:
            fields = [{"name": n, "type": t if n != "EVENT_TYPE" else ["null", t]}
                      for n, t in FIELD_TYPES[dtype]]
            schema = self.record("schema", f"schema-{g}-{dtype.lower()}", None, schema=json.dumps(
                {"type": "record", "name": dtype, "namespace": "com.amazonaws.personalize.schema",
                 "fields": fields, "version": "1.0"}))
            dataset = self.record("dataset", f"dataset-{g}-{dtype.lower()}", group_arn,
                                  datasetType=self.rng.choice([dtype, dtype.upper()]), schemaArn=schema["schemaArn"])
            for j in range(self.rng.randint(0, 3)):
                self.record("dataset-import-job", f"import-{g}-{dtype.lower()}-{j}", dataset["datasetArn"],
                            datasetArn=dataset["datasetArn"])
        for s in range(self.rng.randint(0, 4)):
            self.solution(group_arn, g, s)
        if domain:
            for r in range(self.rng.randint(1, 2)):
                self.record("recommender", f"recommender-{g}-{r}", group_arn,
                            recipeArn=recipe_arn(self.rng.choice(DOMAIN_RECIPES)))
        for t in range(self.rng.randint(0, 1)):
            self.record("event-tracker", f"tracker-{g}-{t}", group_arn, trackingId=str(uuid.UUID(int=t + g)))
        for f in range(self.rng.randint(0, 2)):
            self.record("filter", f"filter-{g}-{f}", group_arn,
                        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')

    def solution(self, group_arn: str, g: int, s: int) -> None:
        recipe = recipe_arn(self.rng.choice(ALL_RECIPES))
        solution = self.record("solution", f"solution-{g}-{s}", group_arn, recipeArn=recipe)
        versions = [self.record("solution-version", f"solution-{g}-{s}/{self.rng.getrandbits(32):08x}",
                                solution["solutionArn"], solutionArn=solution["solutionArn"], recipeArn=recipe)
                    for _ in range(self.rng.randint(0, 3))]
        if "latestSolutionVersion" in solution and versions:
            solution["latestSolutionVersion"]["solutionVersionArn"] = versions[-1]["solutionVersionArn"]
        elif "latestSolutionVersion" in solution:
            del solution["latestSolutionVersion"]
        if not versions:
            return
        for c in range(self.rng.randint(0, 2)):
            served = self.rng.choice(versions)["solutionVersionArn"]
            campaign = self.record("campaign", f"campaign-{g}-{s}-{c}", solution["solutionArn"],
                                   solutionVersionArn=served)
            if "latestCampaignUpdate" in campaign:
                campaign["latestCampaignUpdate"]["solutionVersionArn"] = self.rng.choice(versions)["solutionVersionArn"]


class AwsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakePersonalize:
    """The answers: List (paginated), Describe, GetSolutionMetrics from the world; anything else from its shape."""

    def __init__(self, seed: int, mode: Mode, page_size: int) -> None:
        builder = WorldBuilder(seed, mode)
        self.world, self.fill, self.model = builder.build(), builder.fill, builder.model
        self.page_size = page_size
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.refused: list[str] = []  # runtime calls AWS would refuse: the dashboard must never make them
        self.runtime_calls: list[str] = []  # "<path> on <recipe>", answered or refused
        self.tokens_issued: set[str] = set()  # "<operation>:<token>": every nextToken handed out ...
        self.tokens_followed: set[str] = set()  # ... and those the dashboard asked for

    def control(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(operation)
            op = self.model.operation_model(operation)
            for kind, (describe, listing, parent_key) in KINDS.items():
                if operation == describe:
                    return self.describe(op, kind, params)
                if operation == listing:
                    return self.listing(op, kind, params, parent_key)
            if operation == "DescribeRecipe":
                return self.describe_recipe(op, params["recipeArn"])
            if operation == "GetSolutionMetrics":
                version = params["solutionVersionArn"]
                self.known(version, "solution-version")
                return {"solutionVersionArn": version,
                        "metrics": {m: round(self.fill.rng.uniform(0, 1), 4) for m in METRICS}}
            answer = self.fill.value(op.output_shape)
            answer.pop("nextToken", None)  # a List the world does not hold answers in one page
            return answer

    def describe_recipe(self, op: OperationModel, recipe_arn: str) -> dict[str, Any]:
        """A generated recipe whose name and recipeType agree, as AWS's do."""
        name = recipe_arn.rsplit("/", 1)[-1]
        recipe_type = ("PERSONALIZED_RANKING" if name in RANKING_RECIPES else "RELATED_ITEMS"
                       if name in RELATED_RECIPES else "PERSONALIZED_ACTIONS" if name in ACTION_RECIPES
                       else "USER_PERSONALIZATION")
        recipe = self.fill.value(op.output_shape.members["recipe"])
        recipe.update(name=name, recipeArn=recipe_arn, recipeType=recipe_type)
        return {"recipe": recipe}

    def known(self, resource_arn: str, kind: str) -> dict[str, Any]:
        if self.world.kinds.get(resource_arn) != kind:
            raise AwsError("ResourceNotFoundException", f"Could not find {kind} {resource_arn}.")
        return self.world.records[resource_arn]

    def describe(self, op: OperationModel, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        (member,) = op.output_shape.members
        return {member: self.known(params[op.input_shape.required_members[0]], kind)}

    def listing(self, op: OperationModel, kind: str, params: dict[str, Any], parent_key: str | None) -> dict:
        parent = params.get(parent_key) if parent_key else None
        if parent_key and parent is None and kind != "dataset-group":
            parent = None  # AWS lists across the account when the parent is left out
        records = self.world.of(kind, parent)
        if params.get("nextToken"):
            self.tokens_followed.add(f"{op.name}:{params['nextToken']}")
        start = int(params.get("nextToken") or 0)
        size = min(int(params.get("maxResults") or 100), self.page_size)
        key = next(m for m, s in op.output_shape.members.items() if isinstance(s, ListShape))
        summary_shape = op.output_shape.members[key].member
        page = [self.summary(r, summary_shape) for r in records[start:start + size]]
        answer: dict[str, Any] = {key: page}
        if start + size < len(records):
            answer["nextToken"] = str(start + size)
            self.tokens_issued.add(f"{op.name}:{answer['nextToken']}")
        return answer

    def summary(self, record: dict[str, Any], shape: StructureShape) -> dict[str, Any]:
        generated = self.fill.value(shape)
        copied = {m: record[m] for m in shape.members if m in record and not isinstance(shape.members[m],
                                                                                         StructureShape)}
        return {**generated, **copied}

    def recipe_of(self, resource_arn: str) -> str:
        record = self.world.records.get(resource_arn)
        if record is None:
            raise AwsError("ResourceNotFoundException", f"Could not find {resource_arn}.")
        if "solutionVersionArn" in record and self.world.kinds[resource_arn] == "campaign":
            record = self.world.records[record["solutionVersionArn"]]
        return record.get("recipeArn", "").rsplit("/", 1)[-1]

    def runtime(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(path)
            target = params.get("campaignArn") or params.get("recommenderArn") or ""
            recipe = self.recipe_of(target)
            allowed = {"/recommendations": USER_RECIPES + RELATED_RECIPES + DOMAIN_RECIPES,
                       "/personalize-ranking": RANKING_RECIPES, "/action-recommendations": ACTION_RECIPES}[path]
            self.runtime_calls.append(f"{path} on {recipe}")
            if recipe not in allowed:
                self.refused.append(f"{path} on {recipe}")
                raise AwsError("InvalidInputException", f"The recipe {recipe} does not support this operation.")
            if path == "/recommendations" and recipe in RELATED_RECIPES and not params.get("itemId"):
                self.refused.append(f"{path} on {recipe} without itemId")
                raise AwsError("InvalidInputException", "itemId is required for this recipe.")
            if path == "/recommendations" and recipe in USER_RECIPES and not params.get("userId"):
                self.refused.append(f"{path} on {recipe} without userId")
                raise AwsError("InvalidInputException", "userId is required for this recipe.")
            if path == "/personalize-ranking":
                return {"personalizedRanking": [{"itemId": i, "score": 0.5} for i in params["inputList"]],
                        "recommendationId": str(uuid.uuid4())}
            count = int(params.get("numResults") or 25)
            if path == "/action-recommendations":
                return {"actionList": [{"actionId": f"A{i}", "score": 0.1} for i in range(count)],
                        "recommendationId": str(uuid.uuid4())}
            items = [{"itemId": f"I{self.fill.rng.randint(0, 500):04d}", "score": 0.1} for _ in range(count)]
            return {"itemList": items, "recommendationId": str(uuid.uuid4())}


STS_ANSWER = (f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/test</Arn>"
              f"<UserId>AIDTEST</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
              "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>")


def _handler(service: FakePersonalize) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: the tests read results, not access logs
            pass

        def answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            if b"Action=GetCallerIdentity" in raw:
                self.answer(200, STS_ANSWER.encode(), "text/xml")
                return
            try:
                params = json.loads(raw or b"{}")
                if target.startswith("AmazonPersonalize."):
                    result = service.control(target.split(".", 1)[1], params)
                elif self.path in ("/recommendations", "/personalize-ranking", "/action-recommendations"):
                    result = service.runtime(self.path, params)
                elif self.path in ("/events", "/users", "/items", "/action-interactions", "/actions"):
                    result = {}
                else:
                    raise AwsError("UnknownOperationException", f"No operation at {self.path} {target}", 404)
                self.answer(200, json.dumps(result).encode(), "application/x-amz-json-1.1")
            except AwsError as exc:
                body = json.dumps({"__type": exc.code, "message": exc.message}).encode()
                self.answer(exc.status, body, "application/x-amz-json-1.1")

    return Handler


class FakeAws:
    """The fake on a free loopback port; `env()` is what points boto3 (and the dashboard) at it."""

    def __init__(self, seed: int = 0, mode: Mode = "random", page_size: int = 100) -> None:
        self.service = FakePersonalize(seed, mode, page_size)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.service))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def env(self) -> dict[str, str]:
        names = ("PERSONALIZE", "PERSONALIZE_RUNTIME", "PERSONALIZE_EVENTS", "STS", "S3")
        return {"PERSONALIZE_BACKEND": "aws", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "fake", "AWS_SECRET_ACCESS_KEY": "fake",
                **{f"AWS_ENDPOINT_URL_{n}": self.url for n in names}}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
