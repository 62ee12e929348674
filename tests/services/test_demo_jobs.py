"""The demo shop as a background job: one build per name, the first start claimed once per process."""

from __future__ import annotations

import threading

import pytest

from services.core.audit import AuditLog
from services.core.config import data_dir
from services.core.jobs import JobRegistry
from services.demo import shop_setup
from services.demo.shop_setup import (
    DEMO_NAME,
    FIRST_START_MARKER,
    DemoPlan,
    DemoResult,
    demo_job,
    next_demo_name,
    start_demo_shop,
    start_first_demo,
)


def test_a_build_runs_once_per_name_and_its_result_is_the_group(clients):
    jobs = JobRegistry()
    plan = DemoPlan.small(name="jobs-shop")
    job = start_demo_shop(jobs, clients, plan)
    assert start_demo_shop(jobs, clients, plan) is job  # a rerun follows the same build
    assert job.wait(120) and job.succeeded, job.error
    assert job.result == shop_setup.find_group(clients, "jobs-shop")
    assert job.message == "The demo shop is ready" and job.fraction == 1.0
    assert start_demo_shop(jobs, clients, plan) is job  # a finished shop is not built again
    assert demo_job(jobs, "jobs-shop") is job


def test_a_failed_build_keeps_its_error_and_may_be_started_again(clients, monkeypatch):
    jobs = JobRegistry()
    plan = DemoPlan.small(name="jobs-shop-failing")

    def broken(clients, plan, progress):
        raise ValueError("no room for a shop")

    monkeypatch.setattr(shop_setup, "create_demo_shop", broken)
    failed = start_demo_shop(jobs, clients, plan)
    assert failed.wait(10) and failed.failed and "no room" in str(failed.error)
    monkeypatch.setattr(shop_setup, "create_demo_shop", lambda c, p, progress: DemoResult("arn:group/x"))
    again = start_demo_shop(jobs, clients, plan)
    assert again is not failed and again.wait(10) and again.result == "arn:group/x"


def test_the_first_start_is_claimed_once(clients, monkeypatch):
    jobs = JobRegistry()
    gate = threading.Event()

    def slow(clients, plan, progress):
        gate.wait(10)
        return DemoResult("arn:group/demo")

    monkeypatch.setattr(shop_setup, "create_demo_shop", slow)
    monkeypatch.setattr(shop_setup, "find_group", lambda clients, name: None)
    audit = AuditLog(data_dir() / "audit.sqlite")
    first = start_first_demo(jobs, clients, audit)
    assert first is not None and first.name == DEMO_NAME
    assert start_first_demo(jobs, clients, audit) is first  # another tab follows the same job
    assert (data_dir() / FIRST_START_MARKER).exists()
    gate.set()
    assert first.wait(10) and first.result == "arn:group/demo"


def test_an_existing_demo_shop_or_a_backend_error_claims_nothing(clients, monkeypatch):
    jobs = JobRegistry()
    audit = AuditLog(data_dir() / "audit.sqlite")
    monkeypatch.setattr(shop_setup, "find_group", lambda clients, name: "arn:group/existing")
    assert start_first_demo(jobs, clients, audit) is None

    def down(clients, name):
        raise ConnectionError("backend down")

    monkeypatch.setattr(shop_setup, "find_group", down)
    with pytest.raises(ConnectionError):
        start_first_demo(jobs, clients, audit)
    assert jobs.claim("demo-first-start")  # released: the next run tries again
    assert not (data_dir() / FIRST_START_MARKER).exists()


def test_next_demo_name():
    assert next_demo_name(set()) == "demo-shop"
    assert next_demo_name({"demo-shop", "demo-shop-2"}) == "demo-shop-3"
