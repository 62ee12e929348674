"""Training: retrain-and-deploy (the pipeline), solution versions, and creating solutions."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from services.core.config import sources_dir
from services.data.sources.saved import list_sources
from services.models import solutions, tuning
from services.models.campaign_health import TRAINING_HOUR_PRICE
from services.models.metric_table import METRICS
from services.pipeline import RetrainPipeline, RetrainRequest, Run, RunStore
from services.pipeline.runs import DONE, FAILED, INTERRUPTED, RUNNING, SKIPPED, SUCCEEDED
from ui import context, reads
from ui.actions import confirmation, confirmed_button, refuse_viewer, request_confirmation, run_action
from ui.feedback import attempt
from ui.text import md

TRAIN_ASKED = "_train_asked"  # (solution, mode) the Train form asked for, until Confirm or Cancel
TRAIN_STARTED = "_train_started"  # (when, sentence) of the last Train, reported for TRAIN_REPORT_S
TRAIN_REPORT_S = 60
ICONS = {DONE: ":material/check_circle:", RUNNING: ":material/progress_activity:", FAILED: ":material/error:",
         SKIPPED: ":material/skip_next:", "pending": ":material/radio_button_unchecked:"}

st.title("Training")
st.caption("Retrain a solution and put the new version live, watch versions train, create solutions.")
group_arn = context.require_dataset_group()
personalize = context.clients().personalize


@st.cache_resource
def run_store() -> RunStore:
    return RunStore()


table = attempt(lambda: solutions.solutions_table(personalize, group_arn), "Listing solutions")
if table is None:
    st.stop()
if table.empty:
    st.info("This dataset group has no solution yet: create one below.", icon=":material/info:")

names = dict(zip(table["solution_arn"], table["name"], strict=True))
chosen = st.selectbox("Solution", list(names), format_func=lambda a: names[a], key="training_solution") \
    if names else None


def how_retrain_ended(pipeline: RetrainPipeline, run_id: str) -> tuple[str, str]:
    """For the audit log, once the background run ends: its outcome and summary. A run whose job
    died (a stop, a shutdown) was interrupted, whatever its last saved status says."""
    job = pipeline.job(run_id)
    if job is None:
        return INTERRUPTED, "the run's job is not in this process"
    job.wait()
    run = job.result
    if job.error is not None or not isinstance(run, Run):
        return INTERRUPTED, f"the run was stopped ({type(job.error).__name__})"
    return (run.status if run.status in (SUCCEEDED, FAILED) else INTERRUPTED), run.summary()


# -- retrain and deploy -------------------------------------------------------------------------------
def show_run(run: Run) -> None:
    state = {SUCCEEDED: "complete", FAILED: "error", RUNNING: "running"}.get(run.status, "error")
    with st.status(md(run.summary()), state=state, expanded=True):
        for step in run.steps:
            detail = f" — {md(step.detail)}" if step.detail else ""
            st.markdown(f"{ICONS.get(step.status, '')} **{step.label}**{detail}")
        st.caption(f"Run {run.run_id}, started {run.started_at} UTC from the {run.origin}"
                   + (f" by {run.started_by}" if run.started_by else "") + ".")
    if run.status == SUCCEEDED:
        st.success(run.summary(), icon=":material/verified:")
    elif run.finished:
        st.error(run.summary() + " The campaign keeps serving its previous version.", icon=":material/error:")


def retrain_progress(solution_arn: str) -> None:
    run = run_store().latest(solution_arn)
    if run is None:
        st.caption("No retrain has run for this solution yet.")
        return
    show_run(run)
    if run.finished and st.session_state.get("_retrain_watching") == run.run_id:
        st.session_state.pop("_retrain_watching")
        st.rerun()  # the run ended: refresh the whole page (versions, campaigns) once


if chosen:
    group_name = getattr(attempt(lambda: reads.group(group_arn)), "name", "NAME")
    with st.container(border=True):
        st.subheader("Retrain and deploy", anchor=False)
        st.markdown(
            "Imports new data (optional), trains a new version, **updates every campaign of this solution to it** "
            "and checks that each one serves it. It runs on the server: you can close this tab; the progress "
            "is here when you come back. The nightly job runs the same pipeline: "
            f"`python -m services.pipeline retrain --dataset-group {group_name} --solution {names[chosen]}`."
        )
        sources = ["(no import)", *list_sources(sources_dir())]
        c1, c2 = st.columns(2)
        source = c1.selectbox("Import first from saved source", sources, key="retrain_source")
        mode = c2.radio("Training mode", solutions.TRAINING_MODES, horizontal=True, key="retrain_mode")
        store = run_store()
        active = attempt(lambda: store.active(chosen), "Reading the retrain runs")
        consequence = (
            f"This trains a new version of **{names[chosen]}** (billed per training hour, about "
            f"${TRAINING_HOUR_PRICE:.2f} an hour at list price on AWS) and then switches **every campaign of "
            "this solution** to it."
        )
        if confirmed_button(f"Retrain {names[chosen]}", key="retrain_button", consequence=consequence,
                            type="primary", icon=":material/autorenew:", disabled=active is not None):
            request = RetrainRequest(group_arn, chosen, None, None if source == "(no import)" else source, mode)
            pipeline = RetrainPipeline(context.clients(), store)
            started = run_action("retrain", {"solution": names[chosen], "import_from": request.import_from,
                                             "mode": mode},
                                 lambda: pipeline.start(request, who=context.who()).run_id,
                                 follow=lambda run_id: how_retrain_ended(pipeline, run_id))
            if started:
                st.session_state["_retrain_watching"] = started
                active = store.active(chosen)
        if active is not None:
            st.session_state.setdefault("_retrain_watching", active.run_id)
        running = active is not None
        st.fragment(run_every=1.0 if running else None)(retrain_progress)(chosen)


# -- versions -----------------------------------------------------------------------------------------
def versions_panel(solution_arn: str) -> None:
    versions = attempt(lambda: solutions.versions_table(personalize, solution_arn), "Listing versions")
    if versions is None:
        return
    if versions.empty:
        st.caption("No version yet: train one.")
    else:
        shown = versions.drop(columns=["solution_version_arn"]).assign(
            duration=versions["duration_s"].map(_duration))
        st.dataframe(shown[["version", "status", "mode", "trigger", "created", "duration", "training hours",
                            "NDCG@25", "tuned", "failure reason"]], hide_index=True, width="stretch",
                     column_config={"created": st.column_config.DatetimeColumn(  # no seconds: a narrower cell
                                        "created (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"),
                                    "training hours": st.column_config.NumberColumn(format="%.4f"),
                                    "NDCG@25": st.column_config.NumberColumn(format="%.4f"),
                                    "tuned": st.column_config.TextColumn(
                                        "tuned (HPO)", help="The hyperparameters tuning chose")})
        for progress in versions.loc[versions["HPO progress"] != "", "HPO progress"]:
            st.info(md(progress), icon=":material/tune:")
    training = versions[versions["status"].isin(solutions.TRAINING_STATUSES)] if len(versions) else versions
    for _, v in training.iterrows():
        if st.button(f"Stop training {v['version']}", icon=":material/stop_circle:", key=f"stop_{v['version']}",
                     disabled=v["status"] == "CREATE STOPPING"):
            run_action("stop training", {"version": v["solution_version_arn"]},
                       lambda arn=v["solution_version_arn"]: solutions.stop(personalize, arn),
                       success="Stop requested: the version ends CREATE STOPPED.")
    if solutions.is_training(versions) != st.session_state.get("_versions_training", False):
        st.session_state["_versions_training"] = solutions.is_training(versions)
        st.rerun()  # switch the auto-refresh on or off


def _duration(seconds: float | None) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


if chosen:
    st.subheader("Versions", anchor=False)
    with st.form("train_form", border=False):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        train_mode = c1.radio("Train a new version (without updating campaigns)", solutions.TRAINING_MODES,
                              horizontal=True, captions=["all data, from scratch",
                                                         "new data on top of the last FULL version"])
        # Viewers are refused at once (and again where it runs), not asked to confirm what they cannot do.
        if c2.form_submit_button("Train", icon=":material/model_training:") and not refuse_viewer():
            st.session_state[TRAIN_ASKED] = (chosen, train_mode)
            request_confirmation("train_button")
    asked = st.session_state.get(TRAIN_ASKED) or (chosen, "FULL")
    if asked[0] == chosen and confirmation(
        "train_button",
        f"This trains a new {asked[1]} version of **{md(names[chosen])}** (billed per training hour, about "
        f"${TRAINING_HOUR_PRICE:.2f} an hour at list price on AWS). Campaigns keep serving their version until "
        "they are updated.",
        on_cancel=lambda: st.session_state.pop(TRAIN_ASKED, None),
    ):
        st.session_state.pop(TRAIN_ASKED, None)
        if run_action("train", {"solution": names[chosen], "mode": asked[1]},
                      lambda: solutions.train(personalize, chosen, asked[1])):
            # Kept for a while: the versions table reruns the page as soon as training starts.
            st.session_state[TRAIN_STARTED] = (time.time(), f"Training of a new {asked[1]} version of "
                                               f"{names[chosen]} started; the table refreshes until it ends.")
    started = st.session_state.get(TRAIN_STARTED)
    if started and time.time() - started[0] < TRAIN_REPORT_S:
        st.success(md(started[1]), icon=":material/check_circle:")
    refresh = 2.0 if st.session_state.get("_versions_training") else None
    st.fragment(run_every=refresh)(versions_panel)(chosen)


# -- solutions ---------------------------------------------------------------------------------------
SOLUTIONS_SETTLING = "_solutions_settling"  # a solution or its latest version is still changing


def solutions_panel(group_arn: str) -> None:
    """The solutions table, read afresh on every run of this fragment: while a solution or its latest
    version is being created it reruns until that settles, so it never keeps showing CREATE IN_PROGRESS."""
    current = attempt(lambda: solutions.solutions_table(personalize, group_arn), "Listing solutions")
    if current is None or current.empty:
        return
    settling = bool(current["status"].isin(solutions.TRAINING_STATUSES).any()
                    or current["latest version"].isin(solutions.TRAINING_STATUSES).any())
    if settling != st.session_state.get(SOLUTIONS_SETTLING, False):
        st.session_state[SOLUTIONS_SETTLING] = settling
        st.rerun()  # run_every is fixed when the fragment is drawn: switch following on or off
    # "all events" in every row says nothing: the column shows once a solution trains on one event type.
    event_type = ["event type"] if (current["event type"] != "all events").any() else []
    st.dataframe(current.drop(columns=["solution_arn"]), hide_index=True, width="stretch",
                 # what is changing first, and short labels, so every column fits at 1,400 px
                 column_order=["name", "status", "latest version", "recipe", *event_type, "configuration",
                               "auto-training", "auto-training $/week"],
                 column_config={"auto-training $/week": st.column_config.NumberColumn(
                     "$/week", format="$%.2f", help="What auto-training costs a week at list price")})
    for _, row in current[current["auto-training"] != "off"].iterrows():
        st.warning(f"**{md(row['name'])}** trains itself ({row['auto-training']}): about "
                   f"${row['auto-training $/week']:.2f} a week on top of any nightly retrain.",
                   icon=":material/payments:")


st.subheader("Solutions", anchor=False)
if not table.empty:
    st.fragment(run_every=2.0 if st.session_state.get(SOLUTIONS_SETTLING) else None)(solutions_panel)(group_arn)

def hpo_fields(recipe: str) -> Callable[[], dict] | None:
    """The HPO part of the create form; returns what builds the hpoConfig (checked then) when chosen."""
    ranges = tuning.tunable(recipe)
    if not ranges:
        st.caption(f"{recipe} has no hyperparameters to tune.")
        return None
    on = st.checkbox("Tune hyperparameters (performHPO)", value=False, key="hpo_on")
    st.caption("Tuning trains the recipe several times with values drawn from the ranges below, scores each "
               "trial on a hold-out of the training data and keeps the best on the objective; the version "
               "then reports the winner (tunedHPOParams). " + tuning.cost_text())
    c1, c2, c3 = st.columns(3)
    objective = c1.selectbox("Objective (maximised)", tuning.OBJECTIVES, key="hpo_objective",
                             format_func=lambda m: METRICS[m].name)
    trials = c2.number_input("Trials (maxNumberOfTrainingJobs)", 1, tuning.MAX_TRIALS, tuning.DEFAULT_TRIALS,
                             key="hpo_trials", help="Each trial is one training, billed as one.")
    parallel = c3.number_input("Trials at a time (maxParallelTrainingJobs)", 1, tuning.MAX_TRIALS, 1,
                               key="hpo_parallel", help="Faster, not cheaper: every trial is billed.")
    chosen_ranges: dict[str, tuple[float, float]] = {}
    for r in ranges:
        if st.checkbox(f"Tune {r.name}", value=r is ranges[0], key=f"hpo_tune_{r.name}", help=r.what):
            integer = r.kind == "integer"
            low, high = (int(r.low), int(r.high)) if integer else (float(r.low), float(r.high))
            chosen_ranges[r.name] = st.slider(f"{r.name} range", low, high, (low, high), key=f"hpo_range_{r.name}",
                                              step=1 if integer else (high - low) / 100)
            st.caption(r.what)
    if not on:
        return None
    return lambda: tuning.hpo_config(recipe, objective, int(trials), int(parallel), chosen_ranges)


with st.expander("Create a solution", icon=":material/add_circle:", expanded=table.empty):
    catalogue = attempt(lambda: solutions.recipe_catalogue(personalize), "Listing recipes") or []
    by_name = {r.name: r for r in catalogue}
    if by_name:
        recipe = st.selectbox("Recipe", list(by_name), key="new_solution_recipe")
        st.info(by_name[recipe].explanation(), icon=":material/lightbulb:")
        with st.form("create_solution"):
            name = st.text_input("Name", placeholder="e.g. shop-user-personalization")
            event_type = st.text_input("Train on one event type only (optional)", placeholder="e.g. purchase")
            auto = st.checkbox("Train automatically every week (performAutoTraining)", value=False)
            st.caption(f"Off by default here, although AWS turns it on by default: automatic training bills "
                       f"about ${solutions.weekly_auto_training_cost():.2f} a week (one training hour a week, "
                       "an estimate) on top of any nightly retrain, and does not update campaigns.")
            hpo = hpo_fields(recipe)
            if st.form_submit_button("Create solution", type="primary"):
                run_action("create solution", {"name": name, "recipe": recipe, "hpo": hpo is not None},
                           lambda: solutions.create_solution(personalize, group_arn, name, recipe, event_type,
                                                             auto, hpo=hpo() if hpo else None),
                           success=f"Solution {name} created; pick it above and train its first version.")
