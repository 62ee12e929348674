"""The Campaigns page's Recommenders section: a domain group's recommenders with their state and cost, and
the operator's create (use case, cost stated, confirmed), start, stop and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from services.models import campaign_health as ch
from services.models import recommenders as rs
from ui import context
from ui.actions import confirmed_button, run_action
from ui.text import md

Started = Callable[[Any, str], None]  # (the action's result, what to say): after work started in the background


def recommender_card(r: rs.RecommenderHealth, region: str, prices: dict[str, float] | None,
                     started: Started) -> None:
    personalize = context.clients().personalize
    cost = ch.monthly_cost(r.min_rps, region, prices)
    with st.container(border=True):
        st.subheader(r.name, anchor=False)
        st.caption(f"Recommender · use case {md(r.use_case)} · status {md(r.status)}")
        c1, c2, c3 = st.columns(3)
        c1.metric("Status", r.status or "unknown")
        c2.metric("Min requests/s", r.min_rps)
        c3.metric("Monthly cost", f"${cost:,.0f}" if not r.stopped else "$0",
                  help=f"{r.min_rps} requests per second minimum, billed every hour while ACTIVE, used or not.")
        if r.failed or r.update_failure:
            st.error(md(r.advice()), icon=":material/error:")
        elif r.busy:
            st.info(md(r.advice()) if r.status in rs.PENDING else f"Recommender {md(r.name)} is applying an update; "
                    "it keeps serving meanwhile.", icon=":material/sync:")
        elif r.stopped:
            st.info(md(r.advice()), icon=":material/pause_circle:")
        b1, b2, b3 = st.columns(3)
        with b1:
            if r.stopped and confirmed_button(
                    "Start", key=f"rstart_{r.name}", icon=":material/play_arrow:", disabled=r.busy,
                    consequence=f"Starting **{md(r.name)}** bills {r.min_rps} requests per second every hour "
                                f"again: about **${cost:,.0f} a month** in `{region}`."):
                started(run_action("start recommender", {"recommender": r.name},
                                   lambda: rs.start_recommender(personalize, r.arn)), f"{r.name} is starting.")
        with b2:
            if r.status == "ACTIVE" and confirmed_button(
                    "Stop", key=f"rstop_{r.name}", icon=":material/stop:", disabled=r.busy,
                    consequence=f"Stopping **{md(r.name)}** ends its recommendations (every caller gets errors) "
                                "and its bill until it is started again. Its model stays."):
                started(run_action("stop recommender", {"recommender": r.name},
                                   lambda: rs.stop_recommender(personalize, r.arn)), f"{r.name} is stopping.")
        with b3:
            if confirmed_button(
                    "Delete recommender", key=f"rdelete_{r.name}", icon=":material/delete:",
                    disabled=r.status in ("DELETE PENDING", "DELETE IN_PROGRESS"),
                    consequence=f"Deleting **{md(r.name)}** stops its recommendations at once and removes its "
                                "model: a new one must be trained again."):
                started(run_action("delete recommender", {"recommender": r.name},
                                   lambda: rs.delete_recommender(personalize, r.arn)), f"{r.name} is being deleted.")


def create_recommender_form(group_arn: str, region: str, prices: dict[str, float] | None,
                            started: Started) -> None:
    """The use cases of the group's domain; nothing for a group without one (it has no recommenders)."""
    personalize = context.clients().personalize
    cases = rs.use_cases(personalize, group_arn)
    if not cases:
        return
    with st.expander("Create a recommender", icon=":material/add_circle:"):
        st.caption("A recommender serves one use case of this domain dataset group, trained and kept up to date "
                   "by Personalize.")
        labels = {u.arn: u.name for u in cases}
        d1, d2, d3 = st.columns([3, 2, 1])
        case_arn = d1.selectbox("Use case", list(labels), format_func=labels.get, key="rec_use_case")
        name = d2.text_input("Recommender name", key="rec_new_name",
                             value=labels[case_arn].removeprefix("aws-").replace("ecomm-", "").replace("vod-", ""))
        rps = d3.number_input("Min requests/s", 1, 10_000, 1, key="rec_new_rps")
        cost = ch.monthly_cost(int(rps), region, prices)
        if confirmed_button("Create recommender", key="create_recommender", type="primary",
                            icon=":material/add_circle:",
                            consequence=f"A recommender bills {int(rps)} requests per second every hour from the "
                                        f"moment it is ACTIVE, used or not: about **${cost:,.0f} a month** in "
                                        f"`{region}`. Training starts now."):
            started(run_action("create recommender", {"name": name, "use case": labels[case_arn], "rps": int(rps)},
                               lambda: rs.create_recommender(personalize, name, group_arn, case_arn, int(rps))),
                    f"{name} is being created; it trains in the background.")
