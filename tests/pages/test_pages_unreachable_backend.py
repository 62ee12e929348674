"""Every page with the backend gone: a message in words, never a traceback (AppTest)."""

from __future__ import annotations

import socket

import pytest

from tests.support.apptest import make_app

PAGES = ["pages/overview.py", "pages/data.py", "pages/training.py", "pages/campaigns.py", "pages/compare.py",
         "pages/recommendations.py", "pages/events.py", "pages/audit_log.py"]


@pytest.fixture(scope="module")
def dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("page", PAGES)
def test_page_explains_an_unreachable_backend(page, dead_url, monkeypatch, tmp_path):
    at = make_app(monkeypatch, dead_url, tmp_path,
                  group_arn="arn:aws:personalize:us-east-1:000000000000:dataset-group/gone")
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error)
    if page != "pages/audit_log.py":  # the audit log is local and still readable
        assert "Cannot reach the service" in shown, shown
