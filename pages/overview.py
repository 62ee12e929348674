"""Overview: is the data healthy, and is every campaign serving the newest model?"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from services.core.resources import arn_name
from services.data import dataset_status as ds
from services.data.imports import jobs_table
from services.data.schemas import dataset_type_description
from services.data.time_axis import clip_days
from services.models import campaign_health as ch
from services.models import recommenders as rs
from ui import context, reads
from ui.feedback import attempt
from ui.text import md, md_code

_CHECK_ICON = {"ok": ":material/check_circle:", "missing": ":material/cancel:", "unknown": ":material/help:"}
_SEVERITY = {"error": st.error, "warning": st.warning, "info": st.info}


def _figure(value: object) -> str:
    return "unknown" if value is None else f"{value:,}"


def _version_id(arn: str | None) -> str:
    # The campaign's name already says which solution; the version id is what differs.
    return arn_name(arn) or "none"


def campaign_block(health: list[ch.CampaignHealth], flags: list[ch.AutoTrainingFlag],
                   recommenders: list[rs.RecommenderHealth]) -> None:
    st.subheader("Campaign health")
    stale = [h for h in health if h.stale]
    for h in stale:
        st.warning(h.advice(), icon=":material/history:")
        st.page_link(
            "pages/campaigns.py", label=f"Update {h.name} on the Campaigns page", icon=":material/arrow_forward:"
        )
    for h in health:
        if h.update_failed:
            st.error(f"The last update of campaign {md(h.name)} failed: {md(h.update_failure_sentence)}",
                     icon=":material/error:")
    if not health and not recommenders:
        st.info("No campaigns in this dataset group yet; deploy one on the Campaigns page.", icon=":material/info:")
    behind = [h for h in health if h.behind_data and not h.stale and h.freshness is not None]
    for h in behind:  # newest version, yet data arrived since it was trained: only a retrain helps
        st.warning(f"Campaign {h.name}: {h.freshness.sentence()}", icon=":material/schedule:")
    if health and not stale:
        fresh = "" if behind else ", trained on all the interactions imported so far"
        st.success(
            f"All {len(health)} campaign{'s' if len(health) > 1 else ''} serve the newest ACTIVE solution "
            f"version{fresh}.", icon=":material/verified:",
        )
    for flag in flags:
        st.warning(flag.advice(), icon=":material/payments:")
    if health:
        table = pd.DataFrame(
            [
                {
                    "campaign": h.name,
                    "status": h.status,
                    "serving version": _version_id(h.serving_version),
                    "newest ACTIVE": _version_id(h.newest_active_version),
                    "up to date": "updating" if h.updating else ("no" if h.stale else "yes"),
                    "auto-sync": "on" if h.sync_with_latest else "off",
                    "imports since training": h.freshness.newer_imports if h.freshness else None,
                    "min TPS": h.min_provisioned_tps,
                    "TPS cost / month (USD)": round(h.monthly_tps_cost, 2),
                }
                for h in health
            ]
        )
        # Short labels (the frame keeps its full names), so every column fits at 1,400 px beside long names.
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "serving version": st.column_config.TextColumn("serving"),
            "newest ACTIVE": st.column_config.TextColumn("newest", help="The newest ACTIVE solution version"),
            "imports since training": st.column_config.NumberColumn(
                "new imports", help="Interaction imports finished after the serving version was trained"),
            "TPS cost / month (USD)": st.column_config.NumberColumn(
                "TPS $/month", format="$%.2f", help="minProvisionedTPS cost a month at list price"),
        })
        st.caption(
            "minProvisionedTPS is billed every hour whether or not it is used (estimate at list price, "
            f"{ch.HOURS_PER_MONTH} hours a month)."
        )


def recommender_block(recommenders: list[rs.RecommenderHealth]) -> None:
    """A domain group's recommenders: failed or stopped ones named, and what each bills."""
    if not recommenders:
        return
    for r in recommenders:
        if r.failed or r.update_failure:
            st.error(md(r.advice()), icon=":material/error:")
        elif r.stopped:
            st.info(md(r.advice()), icon=":material/pause_circle:")
    table = pd.DataFrame([
        {"recommender": r.name, "use case": r.use_case, "status": r.status,
         "failure reason": r.failure_reason or "", "min requests/s": r.min_rps,
         "cost / month (USD)": round(r.monthly_cost, 2)}
        for r in recommenders])
    st.dataframe(table, hide_index=True)
    st.caption("A recommender bills minRecommendationRequestsPerSecond every hour while it is ACTIVE, used or "
               f"not (estimate at the TPS list price, {ch.HOURS_PER_MONTH} hours a month); a stopped one bills "
               "nothing.")


def readiness_block(status: ds.GroupStatus) -> None:
    st.subheader("Ready to train?")
    verdict = {
        True: ("Meets AWS's minimum to train.", st.success),
        False: ("Not ready: AWS's minimum to train is not met.", st.error),
        None: ("Unknown: some figures are not available.", st.info),
    }[status.ready]
    verdict[1](verdict[0])
    for check in status.readiness:
        st.markdown(f"{_CHECK_ICON[check.state]} **{md(check.requirement)}**: {md(check.detail)}")


def findings_block(status: ds.GroupStatus) -> None:
    st.subheader("Data quality")
    if not status.findings:
        known = any(d.figures_known for d in status.datasets)
        st.caption("Nothing to report." if known else "No figures to check (see each dataset's note).")
    for finding in status.findings:
        _SEVERITY[finding.severity](f"**{ds.dataset_type_title(finding.dataset_type)}:** {md(finding.message)}")


def dataset_block(d: ds.DatasetStatus) -> None:
    p = d.profile
    with st.container(border=True):
        st.markdown(f"**{md(d.title)}** · {md_code(d.name)} · {md(d.status)}")
        st.caption(f"Holds {dataset_type_description(d.dataset_type)}.")
        # Only the figures that apply to this dataset type; "unknown" means AWS does not tell us.
        figures = {
            "INTERACTIONS": [("Interactions", "rows"), ("Users", "n_users"), ("Items", "n_items")],
            "ITEMS": [("Items", "rows")],
            "USERS": [("Users", "rows")],
        }.get(d.dataset_type, [("Rows", "rows")])
        cols = st.columns(5)
        for col, (label, attr) in zip(cols, figures, strict=False):
            col.metric(label, _figure(getattr(p, attr) if p else None))
        span = p.time_range if p else None
        if span:
            label = "Events" if d.dataset_type == "INTERACTIONS" else "Created"
            cols[len(figures)].metric(f"{label} from (UTC)", f"{span[0]:%Y-%m-%d}")
            cols[len(figures) + 1].metric(f"{label} to (UTC)", f"{span[1]:%Y-%m-%d}")
        st.caption(f"Schema: {md(d.schema_fields())}")
        if p is not None and p.event_types is not None:
            shares = p.event_types.assign(share=(p.event_types["share"] * 100).round(1))
            st.dataframe(shares.rename(columns={"share": "share (%)"}), hide_index=True)
        if d.last_import is not None:
            st.caption(f"Last import: {md(d.last_import.job_name)} ({md(d.last_import.status)}).")
        st.caption(d.figures_note)


def charts_block(status: ds.GroupStatus) -> None:
    inter = status.dataset("INTERACTIONS")
    if inter is None or inter.profile is None:
        return
    left, right = st.columns(2)
    per_day = inter.profile.events_per_day
    if per_day is not None and not per_day.empty:
        days = clip_days(per_day)
        fig = px.bar(days.shown, x="date", y="events", title="Events per day")
        fig.update_layout(margin={"t": 40, "b": 0}, height=320)
        left.plotly_chart(fig)
        if days.clipped:
            left.caption(md(days.note()))
    buckets = ds.interactions_per_user_buckets(inter.profile)
    if buckets is not None:
        fig = px.bar(buckets, x="interactions", y="users", title="Users by number of interactions")
        fig.update_layout(margin={"t": 40, "b": 0}, height=320)
        fig.update_xaxes(type="category")  # "6-10" and "51+" are labels, not numbers
        right.plotly_chart(fig)


def imports_block(status: ds.GroupStatus) -> None:
    st.subheader("Recent import jobs")
    if not status.jobs:
        st.caption("No imports yet; bring data in on the Data page.")
        return
    latest_by_type: dict[str, object] = {}
    for job in status.jobs:  # newest first
        latest_by_type.setdefault(job.dataset_type, job)
    for job in latest_by_type.values():
        if job.failed:
            st.error(
                f"The latest {ds.dataset_type_title(job.dataset_type)} import **{md(job.job_name)}** failed: "
                f"{md(job.failure_sentence)}",
                icon=":material/error:",
            )
    st.dataframe(jobs_table(status.jobs[:10]), hide_index=True)


group_arn = context.require_dataset_group()
head, refresh = st.columns([5, 1])
head.title("Overview")
if refresh.button("Refresh", icon=":material/refresh:"):
    reads.clear(reads.group_status, reads.campaign_health, reads.recommender_health)

status = attempt(lambda: reads.group_status(group_arn), "Reading the dataset group")
if status is not None:
    st.caption(
        f"Dataset group **{status.name}** ({status.status}) · "
        f"{len(status.datasets)} dataset{'s' if len(status.datasets) != 1 else ''}"
    )

health = attempt(lambda: reads.campaign_health(group_arn), "Reading campaigns")
recommenders = attempt(lambda: reads.recommender_health(group_arn), "Reading recommenders") or []
if health is not None:
    campaign_block(*health, recommenders)
recommender_block(recommenders)

if status is not None:
    if not status.datasets:
        st.info(
            "This dataset group has no datasets yet. Create the Interactions dataset on the Data page.",
            icon=":material/info:",
        )
        st.page_link("pages/data.py", label="Go to Data & imports", icon=":material/upload_file:")
    left, right = st.columns(2)
    with left:
        readiness_block(status)
    with right:
        findings_block(status)
    if status.datasets:
        st.subheader("Datasets")
        for dataset in status.datasets:
            dataset_block(dataset)
        charts_block(status)
    imports_block(status)
