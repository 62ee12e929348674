"""A small shop in the engine, set up once per module through the public API only."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.validate import ParamValidator

from tests.support.engine_shop import LiveShop as Shop
from tests.support.engine_shop import build_shop
from tests.support.engine_shop import settle as active

ROLE = "arn:aws:iam::000000000000:role/test"


class ShapeRecorder:
    """Collects every parsed response of a client to check it against botocore's output shape."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict]] = {}

    def attach(self, client) -> None:
        client.meta.events.register("after-call.*.*", self._record)

    def _record(self, http_response, parsed, model, **kwargs) -> None:
        if 200 <= http_response.status_code < 300:
            body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            self.seen.setdefault(f"{model.service_model.service_name}:{model.name}", []).append((body, model))

    def problems(self) -> list[str]:
        out = []
        validator = ParamValidator()
        for op, calls in self.seen.items():
            for body, model in calls:
                if model.output_shape is None:
                    continue
                report = validator.validate(body, model.output_shape)
                if report.has_errors():
                    out.append(f"{op}: {report.generate_report()}")
        return out


def make_shop(personalize, tmp: Path, name: str, seed: int = 3, n_interactions: int = 5000) -> Shop:
    return build_shop(personalize, tmp, name, n_users=250, n_items=120, n_interactions=n_interactions, seed=seed)


def train(personalize, group: str, name: str, recipe: str, **kw) -> tuple[str, str]:
    sol = personalize.create_solution(name=name, datasetGroupArn=group,
                                      recipeArn=f"arn:aws:personalize:::recipe/{recipe}", **kw)["solutionArn"]
    active(lambda: personalize.describe_solution(solutionArn=sol), "solution")
    version = personalize.create_solution_version(solutionArn=sol)["solutionVersionArn"]
    rec = active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert rec["status"] == "ACTIVE", rec.get("failureReason")
    return sol, version


def deploy(personalize, name: str, version: str, **kw) -> str:
    arn = personalize.create_campaign(name=name, solutionVersionArn=version, **kw)["campaignArn"]
    rec = active(lambda: personalize.describe_campaign(campaignArn=arn), "campaign")
    assert rec["status"] == "ACTIVE", rec.get("failureReason")
    return arn


@pytest.fixture(scope="module")
def recorder(personalize, personalize_runtime, personalize_events) -> ShapeRecorder:
    rec = ShapeRecorder()
    for client in (personalize, personalize_runtime, personalize_events):
        rec.attach(client)
    return rec
