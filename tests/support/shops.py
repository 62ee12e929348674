"""Shops on the test engine for service and page tests: a small demo shop, or an empty Interactions dataset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from services.core.clients import Clients
from services.core.config import LOCAL, BackendInfo
from services.core.waiting import wait_until
from services.data.staging import stage_frame
from services.demo.shop_setup import ROLE_ARN, DemoPlan, DemoResult, create_demo_shop


@dataclass
class Shop:
    clients: Clients
    result: DemoResult
    plan: DemoPlan
    data_dir: Path

    @property
    def p(self):
        return self.clients.personalize

    def campaign(self, recipe: str) -> dict:
        return self.p.describe_campaign(campaignArn=self.result.campaigns[recipe])["campaign"]

    def serving(self, recipe: str) -> str:
        return self.campaign(recipe)["solutionVersionArn"]

    def import_frame(self, frame: pd.DataFrame, name: str, mode: str = "INCREMENTAL") -> str:
        staged = stage_frame(frame, name, self.clients.backend)
        job = self.p.create_dataset_import_job(
            jobName=name, datasetArn=self.result.datasets["Interactions"], dataSource={"dataLocation": staged.uri},
            roleArn=ROLE_ARN, importMode=mode)["datasetImportJobArn"]
        return wait_until(lambda: self.p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"],
                          "import", interval=0.1)["status"]


def clients_for(url: str) -> Clients:
    return Clients(BackendInfo(LOCAL, "us-east-1", url, None))


def interactions_dataset(clients: Clients, name: str) -> tuple[str, str]:
    """A new dataset group with an (empty, ACTIVE) ECOMMERCE Interactions dataset: (group, dataset)."""
    from services.data import imports
    from services.data.schemas import ecommerce_schema

    p = clients.personalize
    group = imports.create_dataset_group(p, name)
    schema = imports.create_schema(p, f"{name}-interactions", ecommerce_schema("Interactions"))
    dataset = imports.create_dataset(p, group, "Interactions", schema, f"{name}-interactions")
    wait_until(lambda: p.describe_dataset(datasetArn=dataset)["dataset"], "dataset", timeout=30)
    return group, dataset


@contextmanager
def small_shop(engine, tmp: Path, name: str) -> Iterator[Shop]:
    """A small demo shop named `name`, with PERSONALIZE_DATA_DIR pointing at `tmp` meanwhile."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PERSONALIZE_DATA_DIR", str(tmp))
        clients = clients_for(engine.url)
        plan = DemoPlan.small(name)
        yield Shop(clients, create_demo_shop(clients, plan), plan, tmp)


def open_page(monkeypatch: pytest.MonkeyPatch, shop: Shop, page: str, timeout: float = 60):
    """AppTest of the whole app on `page`, against the shop's engine and data dir, with its group chosen."""
    from tests.support.apptest import make_app

    at = make_app(monkeypatch, shop.clients.backend.endpoint_url, shop.data_dir, shop.result.dataset_group_arn,
                  timeout=timeout)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    """Every text element's value, to look for a sentence wherever the page put it."""
    kinds = ("markdown", "success", "warning", "info", "error", "caption")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
