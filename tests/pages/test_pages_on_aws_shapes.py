"""Every page in AWS mode against answers shaped like real AWS's, not only like our engine's.

The fake (tests/support/fake_aws.py) generates each answer from botocore's output shapes: with every
optional member, with none, or a seeded mix; List answers over pages of two; statuses, dataset types and
recipes our engine never produces. It runs in time zones with daylight saving too, because botocore
hands out datetimes in the local zone. A page must show what it can and explain the rest: no exception,
no refused runtime call, no "None" where a reason belongs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support.engine_process import REPO
from tests.support.fake_aws import FakeAws, Mode

PAGES = ["pages/overview.py", "pages/data.py", "pages/training.py", "pages/campaigns.py", "pages/compare.py",
         "pages/recommendations.py", "pages/events.py", "pages/impact.py", "pages/audit_log.py"]
# (seed, which optional members are present, List page size, time zone)
WORLDS: list[tuple[int, Mode, int, str]] = [
    (0, "all", 100, "America/Los_Angeles"),
    (1, "none", 100, "Europe/Berlin"),
    (2, "random", 2, "UTC"),
    (3, "random", 1, "Europe/Berlin"),
    (4, "random", 3, "America/Los_Angeles"),
]


@pytest.fixture(params=WORLDS, ids=lambda w: f"seed{w[0]}-{w[1]}-page{w[2]}-{w[3].split('/')[-1]}")
def fake(request, monkeypatch, tmp_path) -> Iterator[FakeAws]:
    seed, mode, page_size, zone = request.param
    server = FakeAws(seed, mode, page_size)
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSONALIZE_ENGINE_URL", raising=False)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield server
    server.stop()
    monkeypatch.undo()
    time.tzset()


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "text", "title", "header",
                 "subheader"):
        found += [str(element.value) for element in at.get(kind)]
    return found


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_any_answer_aws_may_send(fake: FakeAws, page: str) -> None:
    groups = [a for a in fake.service.world.order if fake.service.world.kinds[a] == "dataset-group"]
    for group in groups:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.session_state["dataset_group_arn"] = group
        at.run()
        assert not at.exception, at.exception
        at.switch_page(page).run()
        assert not at.exception, f"{page} on {group}: {at.exception}"
        shown = texts(at)
        assert not [t for t in shown if "failed: None" in t or ": None." in t], shown
        assert not [t for t in shown if ".." in t.replace("...", "")], shown
    refused = [call for call in fake.service.refused]
    assert not refused, f"runtime calls AWS refuses: {refused}"
