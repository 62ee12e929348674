"""Sidebar block offering the demo shop (filled in by the demo-data work)."""

from __future__ import annotations

import streamlit as st

from services.config import BackendInfo


def demo_sidebar(info: BackendInfo, has_groups: bool) -> None:
    if info.is_local and not has_groups:
        st.info("The engine is empty. Create a dataset group on the Data page.")
