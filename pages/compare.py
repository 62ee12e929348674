"""Compare recipes: Personalize's metrics per solution version against popularity, and (on the embedded
engine) the dashboard's own metrics on a forward hold-out, kept apart."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from services.models import comparison as compare
from services.models import noise, tuning
from services.models import recommenders as rs
from services.models.compare_table import metrics_by_version
from services.models.metric_table import (
    METRICS,
    POPULARITY_RECIPE,
    metric_history,
    to_csv_bytes,
    winner_summaries,
)
from services.models.ranking_metrics import metric_glossary
from ui import context, reads
from ui.feedback import attempt
from ui.text import md

st.title("Compare recipes")
st.caption("Which recipe wins, on which metric, by how much over the popularity baseline? AWS advises reading "
           f"these numbers relative to {POPULARITY_RECIPE} trained on the same data.")
group_arn = context.require_dataset_group()
clients = context.clients()
personalize = clients.personalize



def recommender_metrics() -> bool:
    """A domain group's recommenders with their modelMetrics, beside the solution versions; True if shown."""
    health = attempt(lambda: reads.recommender_health(group_arn), "Reading recommenders") or []
    table = rs.metrics_table(health)
    if table.empty:
        return False
    st.subheader("Recommenders (modelMetrics of DescribeRecommender)", anchor=False)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Each recommender's metrics are computed as GetSolutionMetrics's, on the data its use case learns "
               "from (purchases only, views only, or all events): compare a recommender with a solution version "
               "of the same kind of use case, and popular-items use cases with the popularity baseline.")
    return True


versions = attempt(lambda: compare.active_versions(personalize, group_arn), "Listing solution versions")
if versions is None:
    st.stop()
if versions.empty:
    if not recommender_metrics():
        st.info("No ACTIVE solution version yet: train solutions on the Training page (include "
                f"{POPULARITY_RECIPE} as the baseline), then come back.", icon=":material/info:")
    st.stop()

labels = {r["solution_version_arn"]: compare.version_label(r) for _, r in versions.iterrows()}
default = versions.loc[versions["newest"], "solution_version_arn"].tolist()
chosen = st.multiselect("Solution versions to compare", list(labels), default=default,
                        format_func=labels.get, key="compare_versions",
                        help="By default the newest ACTIVE version of each solution.")
picked = versions[versions["solution_version_arn"].isin(chosen)]
if picked.empty:
    st.info("Choose at least one solution version.", icon=":material/info:")
    st.stop()

cmp = attempt(lambda: compare.comparison(personalize, picked), "Reading GetSolutionMetrics")
if cmp is None or cmp.table.empty:
    st.stop()

# The one-sentence answer first: that is the question the page exists for. One per kind of recipe: an
# item-to-item recipe answers another question than a user recipe and is never ranked against one.
for number, sentence in enumerate(winner_summaries(cmp)):
    (st.success if number == 0 else st.info)(f"**{sentence}**", icon=":material/emoji_events:")
own_key = str(("own_metrics", tuple(sorted(chosen))))
measured = st.session_state.get(own_key)
if measured is not None and measured.available:  # the only numbers here that carry their noise
    st.info(f"Measured per user on this dashboard's own hold-out (below): {md(compare.winner_by_metric(measured))}",
            icon=":material/calculate:")
st.caption(cmp.baseline_note)
difference = attempt(lambda: compare.data_difference(personalize, group_arn, picked),
                     "Reading what each version trained on")
if difference:
    st.warning(difference, icon=":material/compare_arrows:")

st.subheader("Reported by Personalize (GetSolutionMetrics)", anchor=False)
tuned = attempt(lambda: tuning.tuned_column(personalize, picked["solution_version_arn"].tolist()),
                "Reading tuned hyperparameters")
# Metrics as rows, one column per version: eight metric columns side by side did not fit a laptop screen.
tall, prefix = metrics_by_version(cmp, tuned)
# Tall enough for every row: a dozen rows do not need a scroller of their own (35 px a row, as Streamlit draws).
st.dataframe(tall, hide_index=True, width="stretch", height=(len(tall) + 1) * 35 + 3)
named = (f"Columns are the compared solutions, named without the “{md(prefix)}” they all start with. "
         if prefix else "")
st.caption(named + f"★ best value of each metric. In brackets: change against the {POPULARITY_RECIPE} baseline. "
           + compare.NOISE_NOTE)
recommender_metrics()
with st.expander("What the metrics mean", icon=":material/help:"):
    for info in METRICS.values():
        st.markdown(f"**{info.name}**: {info.description}")

chart = cmp.table.assign(who=cmp.table["recipe"] + " · " + cmp.table["solution"])
fig = px.bar(chart, x="metric_name", y="value", color="who", barmode="group",
             labels={"metric_name": "metric", "value": "value", "who": "solution version"},
             title="Each metric, side by side")
fig.update_layout(legend={"orientation": "h", "y": -0.25}, margin={"t": 50})
st.plotly_chart(fig, width="stretch")

st.download_button("Download the comparison (CSV)", cmp.to_csv(), "recipe-comparison.csv", "text/csv",
                   icon=":material/download:")

# -- history ------------------------------------------------------------------------------------------
st.subheader("A solution's metrics across its versions", anchor=False)
# By default the solution with the most versions: a history of one point says nothing.
by_count = versions["solution"].value_counts()
solutions_listed = sorted(by_count.index)
solution = st.selectbox("Solution", solutions_listed, key="history_solution",
                        index=solutions_listed.index(by_count.sort_index().idxmax()))
all_versions = versions[versions["solution"] == solution]
history_rows = attempt(lambda: compare.reported_metrics(personalize, all_versions), "Reading metric history")
if history_rows is not None and not history_rows.empty:
    history = metric_history(history_rows, solution)
    metric = st.selectbox("Metric", [METRICS[m].name for m in METRICS], key="history_metric")
    line = history[history["metric_name"] == metric]
    fig = px.line(line, x="created", y="value", markers=True, title=f"{metric} of {solution}, version by version",
                  hover_data={"solution_version_arn": True})
    # Versions minutes apart would otherwise get millisecond ticks; a metric lives between 0 and 1.
    fig.update_xaxes(tickformat="%Y-%m-%d %H:%M", title="version created (UTC)")
    fig.update_yaxes(range=[0, max(1e-9, float(line["value"].max())) * 1.15], title=metric)
    st.plotly_chart(fig, width="stretch")
    if len(line) < 2:
        st.caption("One version so far: the line grows with each retrain.")

# -- the dashboard's own metrics ----------------------------------------------------------------------
st.divider()
st.subheader("Computed by this dashboard (not by Personalize)", anchor=False)
if not context.backend_info().is_local:
    st.caption("Available on the embedded engine only: it runs a batch inference job per version.")
    st.stop()
st.markdown(
    "**Protocol (forward hold-out).** The truth is the interactions imported *after* the newest compared "
    "version was created, so none of these versions trained on them; for up to 300 users the versions already "
    "know (a seeded sample), each version recommends its top 25 in one batch inference job (related-items "
    "recipes start from the user's newest earlier item), and the dashboard scores them (below). These are not "
    "comparable with Personalize's numbers above, which use another hold-out."
)
st.markdown("\n".join(f"- {md(line)}" for line in metric_glossary()))
missing = attempt(lambda: compare.holdout_missing(personalize, group_arn, picked), "Looking for held-out data")
if missing:
    st.info(missing, icon=":material/info:")
if st.button("Compute the dashboard's metrics", icon=":material/calculate:", disabled=bool(missing)):
    with st.spinner("Running a batch inference job per version…"):
        st.session_state[own_key] = attempt(lambda: compare.own_metrics(personalize, group_arn, picked),
                                            "Computing the dashboard's metrics")
        if st.session_state[own_key] is not None:  # on failure, keep the problem on screen
            st.rerun()  # the headline at the top shows the measured verdict too
own = st.session_state.get(own_key)
if own is not None:
    for note in own.notes:
        st.info(note, icon=":material/info:")
    if own.available:
        sentence = compare.winner_by_metric(own)
        if sentence:
            st.success(md(sentence), icon=":material/calculate:")
        st.dataframe(compare.own_cells(own), hide_index=True, width="stretch")
        st.caption(f"{own.users} users, {own.truth_events:,} held-out interactions after "
                   f"{own.cutoff:%Y-%m-%d %H:%M} UTC, K = {own.k}. Computed by this dashboard. In brackets: the "
                   f"{noise.LEVEL:.0%} interval of each value, from {noise.RESAMPLES:,} bootstrap resamples of these "
                   f"users (seed {own.seed}); personalization and catalog coverage describe the lists as a whole, "
                   "so they have none. A lead is within noise when the interval of the paired difference "
                   "includes 0.")
        st.download_button("Download these (CSV)", to_csv_bytes(own.table), "dashboard-metrics.csv", "text/csv",
                           icon=":material/download:", key="own_csv")
