"""Amazon Personalize dashboard: entry point (`streamlit run app.py`).

Page config, navigation, which backend answers, and the dataset group every page shares. In local
mode the embedded engine is started once per process (see ui.context).
"""

from __future__ import annotations

import streamlit as st

from ui import context, reads
from ui.auth import sidebar_identity, sign_in_gate
from ui.demo import demo_sidebar
from ui.feedback import show_problem

st.set_page_config(page_title="Personalize dashboard", page_icon=":material/recommend:", layout="wide")

PAGES = {
    "Data health": [
        st.Page("pages/overview.py", title="Overview", icon=":material/monitor_heart:", default=True),
        st.Page("pages/data.py", title="Data & imports", icon=":material/upload_file:"),
    ],
    "Models": [
        st.Page("pages/training.py", title="Training", icon=":material/model_training:"),
        st.Page("pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
        st.Page("pages/compare.py", title="Compare recipes", icon=":material/leaderboard:"),
    ],
    "Recommendations": [
        st.Page("pages/recommendations.py", title="Side by side", icon=":material/view_column:"),
        st.Page("pages/events.py", title="Events", icon=":material/bolt:"),
        st.Page("pages/impact.py", title="Impact", icon=":material/trending_up:"),
    ],
    "Admin": [
        st.Page("pages/audit_log.py", title="Audit log", icon=":material/receipt_long:"),
    ],
}


def sidebar() -> None:
    info = context.backend_info()
    with st.sidebar:
        if info.is_local:
            st.caption(f":material/dns: **Embedded engine** at `{info.endpoint_url}`")
            if info.data_dir:
                st.caption(f"Data: `{info.data_dir}`")
        else:
            account = context.clients().account_id() or "unknown account"
            st.caption(f":material/cloud: **Amazon Personalize**, account {account}, region `{info.region}`")
        sidebar_identity(info)
        try:
            groups = reads.dataset_groups()
        except Exception as exc:  # an unreachable backend is explained once, and no page runs half-blind
            show_problem(exc, "Listing dataset groups")
            st.session_state["_backend_problem"] = exc
            return
        arns = [g.arn for g in groups]
        names = {g.arn: g.name for g in groups}
        if arns:
            context.group_picker(arns, names)
        else:
            st.session_state.pop(context.GROUP_KEY, None)
        demo_sidebar(info, has_groups=bool(arns))


try:
    context.backend_info()
except Exception as exc:  # e.g. the engine cannot start, a bad PERSONALIZE_BACKEND
    st.error(f"**The dashboard cannot reach a backend.** {exc}")
    st.stop()

sign_in_gate(context.backend_info())
st.session_state.pop("_backend_problem", None)
# Navigation before any widget of this script: in Streamlit 1.67 a widget's id includes the active script
# hash, which only st.navigation settles; the first run after a page load starts under another hash, so a
# keyed sidebar button drawn before it gets an id that changes on the next run and its first click is lost.
page = st.navigation(PAGES)
sidebar()
problem = st.session_state.get("_backend_problem")
if problem is not None and page.url_path != "audit_log":  # the audit log is local and still readable
    st.title(page.title)
    show_problem(problem, "The backend does not answer")
    st.button("Try again", icon=":material/refresh:")
    st.stop()
page.run()
