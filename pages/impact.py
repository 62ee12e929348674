"""Impact: what the campaigns earn (impressions, click-through, conversion, revenue), rehearsed with a
simulated day of shoppers before the shop has traffic."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from services.core.jobs import Job, process_jobs
from services.demo.shop_setup import DemoPlan
from services.evaluation import impact
from services.evaluation.rehearsal import metric_attributions, rehearse_day
from ui import context, reads
from ui.actions import run_action
from ui.feedback import attempt, show_problem

ALPHA = 0.05
SHOP_SIZES = {"standard demo shop": DemoPlan(), "small demo shop": DemoPlan.small()}

st.title("Impact")
st.caption("What the recommendations earn: per campaign, the items shown, the clicks and purchases they led "
           "to, with 95% intervals. Rehearse it on a simulated day before your shop has traffic.")
group = context.require_dataset_group()
campaigns = [c for c in (attempt(lambda: reads.campaigns(group), "Listing campaigns") or []) if c.serves_users]
names = {c.arn: c.name for c in campaigns}


def job_key(group_arn: str) -> str:
    return f"impact-day:{group_arn}"


def start_form() -> None:
    with st.form("impact-simulate"):
        chosen = st.multiselect("Campaigns (two or more: shoppers are split between them by a stable hash)",
                                list(names), default=list(names)[:2], format_func=names.get, key="impact_campaigns")
        c1, c2, c3 = st.columns(3)
        visits = c1.number_input("Visits in the day", 50, 50_000, 2_000, step=50, key="impact_visits")
        seed = c2.number_input("Seed", 0, 2**31 - 1, 1, key="impact_seed")
        size = c3.radio("Shoppers: the demo generator's", list(SHOP_SIZES), key="impact_shop",
                        help="The simulated shoppers are the demo shop's users with their hidden tastes; "
                             "choose the size the group was generated with.")
        submitted = st.form_submit_button("Simulate a day", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    if not chosen:
        st.warning("Choose at least one campaign.")
        return
    shop = SHOP_SIZES[size]
    clients = context.clients()

    def work(progress):
        return rehearse_day(clients, group, chosen, shop, int(visits), int(seed), progress=progress)

    params = {"dataset_group": group, "campaigns": chosen, "visits": int(visits), "seed": int(seed)}
    run_action("simulate a day of shoppers", params, lambda: process_jobs().start(job_key(group), work,
                                                                                  name="Simulated day").name)


def follow() -> None:
    job = process_jobs().get(job_key(group))
    if job is None:
        st.caption("No simulated day yet.")
        return
    if job.running:
        st.session_state["_impact_following"] = True
        st.progress(job.fraction, text=job.message)
        return
    if st.session_state.pop("_impact_following", False):
        st.rerun()  # the whole page again, so the finished day stops this fragment's polling
    if job.failed:
        show_problem(job.error, "Simulating a day")
        return
    results(job)


def results(job: Job) -> None:
    log = job.result.log
    table = impact.impact_table(log)
    table.insert(0, "name", table["campaign"].map(lambda a: names.get(a, a.rsplit("/", 1)[-1])))
    st.subheader("Per campaign")
    shown = table[["name", "lists", "impressions", "clicks", "click_through", "click_through_low",
                   "click_through_high", "purchases", "conversion", "conversion_low", "conversion_high", "revenue"]]
    st.dataframe(shown, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="percent") for c in shown.columns if c.startswith(("click_", "conv"))
    })
    figure = go.Figure(go.Bar(
        x=table["name"], y=table["click_through"],
        error_y={"type": "data", "symmetric": False, "array": table["click_through_high"] - table["click_through"],
                 "arrayminus": table["click_through"] - table["click_through_low"]}))
    figure.update_layout(yaxis_title="click-through (95% interval)", yaxis_tickformat=".1%", height=320)
    st.plotly_chart(figure, width="stretch")
    st.caption(f"{job.result.events_sent:,} events sent through PutEvents in {job.result.calls:,} calls; "
               f"{int(table['unattributed_clicks'].iloc[0]):,} clicks and "
               f"{int(table['unattributed_purchases'].iloc[0]):,} purchases were of items no list had shown.")
    if len(table) == 2:
        comparison(table)


def comparison(table: pd.DataFrame) -> None:
    st.subheader("A/B comparison")
    a, b = table.iloc[0], table.iloc[1]
    result = impact.compare(int(a["clicks"]), int(a["impressions"]), int(b["clicks"]), int(b["impressions"]),
                            alpha=ALPHA)
    verdict = result.verdict(str(a["name"]), str(b["name"]))
    (st.success if result.significant else st.info)(verdict, icon=":material/science:")
    st.caption(f"Two-sided two-proportion z-test on click-through at α = {ALPHA}, decided before the run; the "
               "day's number of visits is fixed in advance and the test is read once, at its end, so looking "
               "does not inflate false positives.")


def attribution_section() -> None:
    st.subheader("Metric attributions")
    found = attempt(lambda: metric_attributions(context.clients().personalize, group), "Listing metric attributions")
    if found is None:
        return
    if not found:
        st.caption("This dataset group has no metric attribution: Personalize reports nothing per campaign "
                   "until one exists (CreateMetricAttribution).")
    for info in found:
        st.text(f"{info.name} · {info.status} · reports to {info.destination or 'CloudWatch only'}")
        st.dataframe(pd.DataFrame(info.metrics), hide_index=True)


st.markdown(
    "**What is attributable.** A click or purchase counts for a campaign when the same shopper was shown "
    f"that item by it at most {impact.DEFAULT_WINDOW_S // 60} minutes before (the newest impression wins). "
    "Items found through search, a banner or a link are not attributed to any campaign, nor is anything "
    "the shopper did later than the window, nor a purchase of a different item than the one shown. "
    "Personalize's own metric attributions follow the same idea with the `recommendationId` sent in "
    "PutEvents; an `eventAttributionSource` sent with an event takes precedence."
)
if not campaigns:
    st.info("No ACTIVE campaign recommends for users yet: deploy one on the Campaigns page.", icon=":material/info:")
else:
    start_form()
    running = bool((job := process_jobs().get(job_key(group))) and job.running)
    st.fragment(run_every=1.0 if running else None)(follow)()
attribution_section()
