"""What every page needs: the backend's clients, the chosen dataset group, who is signed in."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from services.core import config, local_engine
from services.core.audit import AuditLog
from services.core.clients import Clients
from services.core.config import BackendInfo

GROUP_KEY = "dataset_group_arn"
PICKER_KEY = "dataset_group_picker"  # the sidebar's selectbox; it starts from GROUP_KEY when absent
_SELECTED = "_dataset_group_selected"  # a group chosen by the app (not the picker), shown by the picker next run


@st.cache_resource(
    show_spinner="Starting the embedded Personalize engine…",
    # An engine that stopped (killed, crashed) is started again on the next page run.
    validate=lambda engine: local_engine.healthy(engine.url, timeout=2.0),
)
def _local_engine(data_dir: str) -> local_engine.LocalEngine:
    return local_engine.start(Path(data_dir))


def _start_once(data_dir: Path) -> tuple[str, Path]:
    engine = _local_engine(str(data_dir))
    return engine.url, engine.data_dir


@st.cache_resource
def _backend_kind_and_region() -> tuple[str, str]:
    # Looking for credentials reads files; once per process is enough.
    return config.backend_choice(), config.default_region()


def backend_info() -> BackendInfo:
    """The backend chosen by services.core.config, with the embedded engine started once per process."""
    kind, region = _backend_kind_and_region()
    return config.resolve_backend(kind=kind, region=region, start_engine=_start_once)


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


def select_group(arn: str) -> None:
    """Make `arn` the chosen dataset group from the next run on, on every page.

    The group list is re-read at once: a group just created must be in the sidebar's picker.
    """
    from ui import reads  # reads needs this module's clients; imported late to avoid a cycle

    st.session_state[GROUP_KEY] = arn
    # The picker may already be drawn in this run, when its value can no longer be set: the next run sets
    # it before drawing it. Dropping its key instead is not enough: the browser keeps the widget (its id is
    # its key) with the old value and sends that back on the next click.
    st.session_state[_SELECTED] = arn
    reads.dataset_groups.clear()


def group_picker(arns: list[str], names: dict[str, str]) -> str:
    """The sidebar's dataset group picker; returns the chosen group, which every page then uses."""
    selected = st.session_state.pop(_SELECTED, None)
    if selected in arns:
        st.session_state[PICKER_KEY] = selected  # set before the widget: the browser is told the new value
    if st.session_state.get(PICKER_KEY) not in arns:
        st.session_state.pop(PICKER_KEY, None)  # a group deleted meanwhile: start from the chosen one
    current = dataset_group_arn()
    # An index beside a value in Session State makes Streamlit warn on the page: only one of them.
    index = arns.index(current) if current in arns and PICKER_KEY not in st.session_state else 0
    chosen = st.selectbox("Dataset group", arns, index=index, format_func=lambda a: names[a], key=PICKER_KEY)
    st.session_state[GROUP_KEY] = chosen
    return chosen


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
    """'operator' may change things; 'viewer' only looks. Sign-in (ui.auth) sets this."""
    return st.session_state.get("role") or "operator"
