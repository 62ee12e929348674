"""The whole app under Streamlit's AppTest, pointed at a test engine and data dir."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support.engine_process import REPO


def make_app(monkeypatch: pytest.MonkeyPatch, engine_url: str, data_dir=None, group_arn: str | None = None,
             timeout: float = 60, **env: str) -> AppTest:
    """An AppTest of app.py in local mode on `engine_url`; not run yet (callers may seed session state)."""
    monkeypatch.setenv("PERSONALIZE_BACKEND", "local")
    monkeypatch.setenv("PERSONALIZE_ENGINE_URL", engine_url)
    if data_dir is not None:
        monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(data_dir))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # Resources and reads are cached per process; every test brings its own environment.
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    if group_arn:
        at.session_state["dataset_group_arn"] = group_arn
    return at
