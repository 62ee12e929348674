"""Impact: what the campaigns earn (impressions, click-through, conversion, revenue), rehearsed with a
simulated day of shoppers before the shop has traffic."""

from __future__ import annotations

import dataclasses

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from services.core.jobs import process_jobs
from services.demo.shop_setup import DemoPlan
from services.evaluation import impact
from services.evaluation.experiment import Experiment, ExperimentStore, readout
from services.evaluation.rehearsal import DayStore, metric_attributions, rehearse_day, run_experiment, yesterday
from services.evaluation.simulation import SimulationResult
from services.evaluation.stories import stale_campaign_story
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
        saved = attempt(lambda: DayStore().load(group), "Reading the last simulated day")
        if saved is None:
            st.caption("No simulated day yet.")
        else:
            st.caption("The last simulated day of this dataset group, as saved in the data directory.")
            results(saved)
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
    results(job.result)


def label(arn: str) -> str:
    return names.get(arn, arn.rsplit("/", 1)[-1])


def results(day: SimulationResult) -> None:
    log = day.log
    table = impact.impact_table(log)
    table.insert(0, "name", table["campaign"].map(label))
    st.subheader("Per campaign")
    shown = table[["name", "lists", "impressions", "clicks", "click_through", "click_through_low",
                   "click_through_high", "purchases", "conversion", "conversion_low", "conversion_high", "revenue",
                   "revenue_low", "revenue_high", "revenue_per_visit", "revenue_per_visit_low",
                   "revenue_per_visit_high"]]
    st.dataframe(shown, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="percent") for c in shown.columns if c.startswith(("click_", "conv"))
    })
    figure = go.Figure(go.Bar(
        x=table["name"], y=table["click_through"],
        error_y={"type": "data", "symmetric": False, "array": table["click_through_high"] - table["click_through"],
                 "arrayminus": table["click_through"] - table["click_through_low"]}))
    figure.update_layout(yaxis_title="click-through (95% interval)", yaxis_tickformat=".1%", height=320)
    st.plotly_chart(figure, width="stretch")
    st.caption("Revenue is the summed price of attributed purchases; its 95% interval is a normal interval "
               "on the revenue per visit (a visit is one list shown; most earn nothing), times the visits.")
    st.caption(f"{day.events_sent:,} events sent through PutEvents in {day.calls:,} calls; "
               f"{int(table['unattributed_clicks'].iloc[0]):,} clicks and "
               f"{int(table['unattributed_purchases'].iloc[0]):,} purchases were of items no list had shown.")
    hourly_chart(impact.hourly_table(log))
    if len(table) == 2:
        comparison(table)


def hourly_chart(hours: pd.DataFrame) -> None:
    st.subheader("Over the simulated day")
    figure = go.Figure()
    for campaign, rows in hours.groupby("campaign"):
        figure.add_trace(go.Scatter(
            x=rows["hour"], y=rows["click_through"], mode="lines+markers", name=label(str(campaign)),
            error_y={"type": "data", "symmetric": False, "array": rows["click_through_high"] - rows["click_through"],
                     "arrayminus": rows["click_through"] - rows["click_through_low"]}))
    figure.update_layout(xaxis_title="simulated hour (from the day's first visit)", yaxis_tickformat=".1%",
                         yaxis_title="click-through (95% interval)", height=320)
    st.plotly_chart(figure, width="stretch")
    st.dataframe(hours.assign(campaign=hours["campaign"].map(label)), hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="percent") for c in hours.columns if c.startswith("click_")})


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


def story_form() -> None:
    with st.expander("Demo story: does the stale campaign cost clicks?"):
        st.caption("On the demo shop at the story's step 3 (Recommendations page: a new version trained, the "
                   "campaign still on the old one): a simulated day, then the campaign update, then the same "
                   "shoppers' next day. The figures below then compare before with after.")
        with st.form("impact-story"):
            c1, c2 = st.columns(2)
            visits = c1.number_input("Visits per day", 50, 20_000, 800, step=50, key="impact_story_visits")
            size = c2.radio("The demo shop's size", list(SHOP_SIZES), key="impact_story_shop")
            submitted = st.form_submit_button("Rehearse before and after the update", icon=":material/history:")
    if not submitted:
        return
    plan = dataclasses.replace(SHOP_SIZES[size], name=group.rsplit("/", 1)[-1])
    clients = context.clients()

    def work(progress):
        return stale_campaign_story(clients, plan, int(visits), 5, progress)

    run_action("rehearse the stale-campaign story", {"dataset_group": group, "visits": int(visits)},
               lambda: process_jobs().start(job_key(group), work, name="Stale-campaign story").name)


def preset() -> None:
    """user-personalization against popularity-count: the demo's A/B story, with settings the small demo
    shop reaches in about a day of simulated visits."""
    by_recipe = {next((r for r in ("popularity-count", "user-personalization") if names[a].endswith(r)), ""): a
                 for a in names}
    if {"popularity-count", "user-personalization"} <= set(by_recipe):
        st.session_state.update(exp_control=by_recipe["popularity-count"],
                                exp_treatment=by_recipe["user-personalization"], exp_baseline=5.0,
                                exp_lift=50.0, exp_name="personalization-vs-popularity")
    else:
        st.session_state["_exp_preset_missing"] = True


def experiment_form() -> None:
    st.button("Preset: user-personalization against popularity-count", on_click=preset, key="exp_preset")
    if st.session_state.pop("_exp_preset_missing", False):
        st.warning("This dataset group has no popularity-count and user-personalization campaigns to preset.")
    with st.form("impact-experiment"):
        name = st.text_input("Name (the site's command uses it)", key="exp_name")
        c1, c2 = st.columns(2)
        control = c1.selectbox("Control (arm 0)", list(names), format_func=names.get, key="exp_control")
        treatment = c2.selectbox("Treatment (arm 1)", list(names), index=min(1, len(names) - 1),
                                 format_func=names.get, key="exp_treatment")
        c1, c2, c3, c4 = st.columns(4)
        baseline = c1.number_input("Control's click-through (%)", 0.1, 90.0, 5.0, key="exp_baseline")
        lift = c2.number_input("Smallest lift worth finding (%)", 1.0, 500.0, 20.0, key="exp_lift")
        alpha = c3.selectbox("α", [0.05, 0.01, 0.1], key="exp_alpha")
        power = c4.selectbox("Power", [0.8, 0.9, 0.95], key="exp_power")
        submitted = st.form_submit_button("Create the experiment", icon=":material/science:")
    if not submitted:
        return

    def create() -> str:
        experiment = Experiment(name.strip(), group, control, treatment, baseline / 100, lift / 100, alpha, power,
                                start=yesterday())
        ExperimentStore().save(experiment)
        st.session_state["exp_chosen"] = experiment.name
        return experiment.name

    params = {"dataset_group": group, "name": name, "control": control, "treatment": treatment}
    if run_action("create an A/B experiment", params, create) is not None:
        st.rerun()


def experiments_section() -> None:
    st.subheader("A/B experiments")
    st.caption("Shoppers are split between two campaigns by a stable hash of the experiment's name and their "
               "user id. The number of visits is fixed before the first one, from the smallest lift worth "
               "finding, α and the power; the test is read once, when that many visits are in.")
    experiment_form()
    store = ExperimentStore()
    found = attempt(lambda: store.names(group), "Listing the experiments") or []
    if not found:
        return
    chosen = st.selectbox("Experiment", found, key="exp_chosen")
    experiment = attempt(lambda: store.load(chosen), "Reading the experiment")
    if experiment is None:
        return
    key = f"impact-exp:{experiment.name}"
    job = process_jobs().get(key)
    st.fragment(run_every=1.0 if job and job.running else None)(lambda: experiment_view(experiment, key))()


def experiment_view(experiment: Experiment, key: str) -> None:
    job = process_jobs().get(key)
    if job is not None and job.running:
        st.session_state["_exp_following"] = True
        st.progress(job.fraction, text=job.message)
        return
    if st.session_state.pop("_exp_following", False):
        st.rerun()
    if job is not None and job.failed:
        show_problem(job.error, "Simulating the experiment")
    state = attempt(lambda: readout(experiment, ExperimentStore().log(experiment.name), names),
                    "Reading the experiment's figures")
    if state is None:
        return
    st.text(f"{label(experiment.control)} (control) against {label(experiment.treatment)} (treatment)")
    st.progress(state.visits / experiment.visits_needed, text=state.stopping_rule)
    if len(state.table):
        shown = state.table.assign(name=state.table["campaign"].map(label))
        st.dataframe(shown[["name", "lists", "impressions", "clicks", "click_through", "click_through_low",
                            "click_through_high", "purchases", "revenue", "revenue_low", "revenue_high",
                            "revenue_per_visit"]], hide_index=True, column_config={
            c: st.column_config.NumberColumn(format="percent") for c in shown.columns if c.startswith("click_")})
    if state.comparison is not None:
        result = state.comparison
        (st.success if result.significant else st.info)(
            result.verdict(label(experiment.control), label(experiment.treatment)), icon=":material/gavel:")
        st.text(f"Lift of the treatment: {result.lift:+.1%} (95% interval {result.lift_low:+.1%} to "
                f"{result.lift_high:+.1%}), p = {result.p_value:.2g}.")
    else:
        st.info(f"No verdict yet: the test is read once, at {experiment.visits_needed:,} visits. The running "
                "figures above are for watching, not deciding.", icon=":material/hourglass_top:")
        simulate_experiment(experiment, key, experiment.visits_needed - state.visits)
    st.caption("A shop's site picks the arm with the same hash:")
    st.code(f"python -m services.evaluation.arm --experiment {experiment.name} --user USER_ID", language="bash")


def simulate_experiment(experiment: Experiment, key: str, remaining: int) -> None:
    with st.form(f"impact-exp-run-{experiment.name}"):
        c1, c2, c3 = st.columns(3)
        visits = c1.number_input("Visits in the day", 50, 50_000, max(50, min(remaining, 2_000)), step=50,
                                 key="exp_visits")
        seed = c2.number_input("Seed", 0, 2**31 - 1, 1, key="exp_seed")
        size = c3.radio("Shoppers: the demo generator's", list(SHOP_SIZES), key="exp_shop")
        submitted = st.form_submit_button("Simulate a day of the experiment", icon=":material/play_arrow:")
    if not submitted:
        return
    clients, plan = context.clients(), SHOP_SIZES[size]

    def work(progress):
        return run_experiment(clients, experiment, plan, int(visits), int(seed), progress=progress)

    params = {"experiment": experiment.name, "visits": int(visits), "seed": int(seed)}
    if run_action("simulate a day of an A/B experiment", params,
                  lambda: process_jobs().start(key, work, name="Experiment day").name) is not None:
        st.rerun()  # the whole page, so the fragment polls the running day


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
    story_form()
    running = bool((job := process_jobs().get(job_key(group))) and job.running)
    st.fragment(run_every=1.0 if running else None)(follow)()
    experiments_section()
attribution_section()
