"""Audit log: who did what, when, with which parameters, and how it ended."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ui.context import audit_log

st.title("Audit log")
st.caption("Every action taken from this dashboard: imports, training, retrains, campaign changes, deletes. "
           "Secrets are never stored.")

log = audit_log()
with st.container(border=True):
    left, middle, right, last = st.columns(4)
    everyone = sorted(set(log.query(limit=100_000)["who"]))
    who = left.selectbox("Who", ["Everyone", *everyone])
    action = middle.selectbox("Action", ["All actions", *log.actions()])
    outcome = right.selectbox("Result", ["All", "Succeeded", "Failed", "Interrupted", "Running"])
    today = dt.date.today()
    days = last.date_input("Between", (today - dt.timedelta(days=30), today))

since = until = None
if isinstance(days, tuple) and len(days) == 2:
    since = dt.datetime.combine(days[0], dt.time.min, tzinfo=dt.UTC).timestamp()
    until = dt.datetime.combine(days[1], dt.time.max, tzinfo=dt.UTC).timestamp()
frame = log.query(
    who=None if who == "Everyone" else who,
    action=None if action == "All actions" else action,
    outcome=None if outcome == "All" else outcome.lower(),
    since=since, until=until,
)
if frame.empty:
    st.info("Nothing recorded for these filters yet. Actions appear here as soon as someone imports, trains "
            "or changes a campaign.", icon=":material/info:")
else:
    # What happened and how it ended first, so the result is on screen; the parameters (long) last.
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_order=["at", "who", "action", "outcome", "result", "duration_s", "role", "params"],
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "who": st.column_config.TextColumn("Who"),
            "action": st.column_config.TextColumn("Action"),
            "outcome": st.column_config.TextColumn("Outcome"),
            # Fixed widths keep every column on screen at 1,400 px; a long result or parameter list is
            # cut in its cell (the whole text is in the CSV below and on hover).
            "result": st.column_config.TextColumn("Result", width=280),
            "duration_s": st.column_config.NumberColumn("Seconds", format="%.2f"),
            "role": st.column_config.TextColumn("Role"),
            "params": st.column_config.TextColumn("Parameters", width=130),
        },
    )
    st.download_button("Download CSV", frame.to_csv(index=False).encode(), "audit-log.csv", "text/csv",
                       icon=":material/download:")
