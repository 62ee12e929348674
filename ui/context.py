"""What every page needs: the backend's clients, the chosen dataset group, who is signed in."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from services.core import config, local_engine
from services.core.audit import AuditLog
from services.core.clients import Clients, default_region
from services.core.config import BackendInfo

GROUP_KEY = "dataset_group_arn"


@st.cache_resource(
    show_spinner="Starting the embedded Personalize engine…",
    # An engine that stopped (killed, crashed) is started again on the next page run.
    validate=lambda engine: local_engine.healthy(engine.url, timeout=2.0),
)
def _local_engine(data_dir: str) -> local_engine.LocalEngine:
    return local_engine.start(Path(data_dir))


@st.cache_resource
def _backend_kind_and_region() -> tuple[str, str]:
    # Looking for credentials reads files; once per process is enough.
    return config.backend_choice(), default_region()


def backend_info() -> BackendInfo:
    """PERSONALIZE_BACKEND, else AWS with credentials, else the embedded engine (started once)."""
    kind, region = _backend_kind_and_region()
    if kind == config.AWS:
        return BackendInfo(config.AWS, region, os.environ.get("AWS_ENDPOINT_URL_PERSONALIZE"), None)
    url = os.environ.get("PERSONALIZE_ENGINE_URL")  # an engine started separately (tests, shared engine)
    if url:
        return BackendInfo(config.LOCAL, region, url.rstrip("/"), None)
    engine = _local_engine(str(config.engine_data_dir()))
    return BackendInfo(config.LOCAL, region, engine.url, engine.data_dir)


@st.cache_resource
def _clients_for(info: BackendInfo) -> Clients:
    return Clients(info)


def clients() -> Clients:
    return _clients_for(backend_info())


@st.cache_resource
def _audit_log_at(path: str) -> AuditLog:
    return AuditLog(Path(path))


def audit_log() -> AuditLog:
    return _audit_log_at(str(config.data_dir() / "audit.sqlite3"))


def dataset_group_arn() -> str | None:
    return st.session_state.get(GROUP_KEY)


def require_dataset_group() -> str:
    """The chosen dataset group, or an empty state that says what to do, then stop the page."""
    arn = dataset_group_arn()
    if not arn:
        st.info("No dataset group yet. Create one on the **Data** page (or let the demo shop set one up "
                "from the sidebar), then come back.", icon=":material/info:")
        st.stop()
    return arn


def who() -> str:
    user = st.session_state.get("signed_in_user")
    return user or os.environ.get("USER") or "local user"


def role() -> str:
    """'operator' may change things; 'viewer' only looks. Sign-in (issue 7) sets this."""
    return st.session_state.get("role") or "operator"
