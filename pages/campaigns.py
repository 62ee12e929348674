"""Campaigns: is each one serving the newest model, what it costs, its settings, and a test call."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from services.core.resources import arn_name, arn_path, when_utc
from services.core.wording import update_status_words, verb
from services.models import campaigns
from services.models import recommenders as rs
from services.models.data_freshness import ago
from services.recommendations.answer_details import GroupData, cold_user_note, with_item_details
from ui import context, reads
from ui.actions import can_operate, confirmation, confirmed_button, request_confirmation, run_action
from ui.feedback import attempt, show_problem
from ui.recommender_panel import create_recommender_form, recommender_card
from ui.text import md

PRICES_KEY = "campaign_price_table"
FOLLOW_KEY = "_campaigns_following"  # background work is running: the list below reruns until it settles
NOTICE_KEY = "_campaigns_notice"  # what the last action started, said once after the rerun that follows it

st.title("Campaigns")
st.caption("A campaign serves one solution version. A newer ACTIVE version changes nothing until the campaign "
           "is updated to it (or follows new versions with syncWithLatestSolutionVersion).")
group_arn = context.require_dataset_group()
clients = context.clients()
region = context.backend_info().region

with st.expander("Price per TPS-hour by region (an estimate you can edit)", icon=":material/payments:"):
    st.caption("A campaign bills its minimum provisioned TPS every hour, whether used or not: monthly cost ≈ "
               "TPS × price per TPS-hour × 730 hours. Check current prices on the AWS pricing page.")
    edited = st.data_editor(campaigns.price_table_frame(st.session_state.get(PRICES_KEY)), num_rows="dynamic",
                            hide_index=True, key="price_editor",
                            column_config={"usd_per_tps_hour": st.column_config.NumberColumn(
                                "USD per TPS-hour", min_value=0.0, format="$%.3f")})
    try:
        st.session_state[PRICES_KEY] = campaigns.price_table_from_frame(edited)
    except ValueError as exc:
        show_problem(exc, "The price table")
prices = st.session_state.get(PRICES_KEY)
if prices is not None and region not in prices:
    st.caption(f"No price for `{region}` in the table: the us-east-1 default price is used.")


def changed(_result: object) -> None:
    """After a campaign action (even one that failed half-way): other pages read campaigns again."""
    reads.clear(reads.campaign_health, reads.recommender_health, reads.campaigns)


def started(result: object, notice: str) -> None:
    """After an action that starts background work: the whole page reruns, so the list redraws from fresh
    reads and follows the work (a fragment with run_every) until it settles. None: refused or failed,
    already said where it happened."""
    changed(result)
    if result is None:
        return
    st.session_state[NOTICE_KEY] = notice
    st.session_state[FOLLOW_KEY] = True
    st.rerun()


def health_banner(view: campaigns.CampaignView) -> None:
    """Whether the campaign serves the newest version on the newest data, in one box (and a failed update)."""
    h = view.health
    if h.stale and not h.updating:
        st.warning(h.advice(on_campaigns_page=True), icon=":material/warning:")
    elif h.updating:
        st.info(f"Updating to {arn_path(view.update_version or '')}; it keeps serving "
                f"{arn_path(h.serving_version)} until the update is ACTIVE.", icon=":material/sync:")
    elif h.behind_data:  # newest version, but data arrived since it was trained
        st.warning(h.advice(), icon=":material/schedule:")
    else:
        st.success(h.advice(), icon=":material/check_circle:")
    if h.update_failed:
        st.error(f"The last update failed: {md(h.update_failure_sentence)} The campaign still serves "
                 f"{arn_path(h.serving_version)}.", icon=":material/error:")


def campaign_card(view: campaigns.CampaignView) -> None:
    h = view.health
    with st.container(border=True):
        st.subheader(view.name, anchor=False)
        st.caption(f"{md(view.recipe)} · status {md(h.status)}")
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Serving", arn_name(h.serving_version))
        c2.metric("Newest ACTIVE", arn_name(h.newest_active_version) or "—")
        # The age fits a metric's width at 1,400 px; the exact time, with its zone, goes underneath.
        c3.metric("Last update", ago(h.updated_at, datetime.now(UTC)) if h.updated_at else "never",
                  help="When the campaign was created or last updated (its latest UpdateCampaign)")
        in_flight = update_status_words("CREATE FAILED" if h.update_failed else h.update_status)
        when = when_utc(h.updated_at) if h.updated_at else ""
        if when or in_flight:
            c3.caption(" · ".join(part for part in (when, in_flight[:1].upper() + in_flight[1:]) if part))
        c4.metric("Monthly TPS cost", f"${campaigns.cost_of(view, region, prices):,.0f}",
                  help=f"{h.min_provisioned_tps} TPS minimum, billed whether used or not.")
        health_banner(view)
        b1, b2 = st.columns(2)
        if b1.button("Update to newest", key=f"upd_{view.name}", type="primary" if h.stale else "secondary",
                     disabled=not h.stale or h.updating or not can_operate(), icon=":material/upgrade:"):
            started(run_action("update campaign", {"campaign": view.name},
                               lambda: campaigns.update_to_newest(clients.personalize, view.arn)),
                    "Update started; the campaign keeps serving its version until the new one is live.")
        sync = b2.toggle("Follow new versions (syncWithLatestSolutionVersion)", value=h.sync_with_latest,
                         key=f"sync_{view.name}", disabled=h.updating or not can_operate())
        asked = f"_sync_asked_{view.name}"  # the update takes a moment: ask once, not on every rerun
        if sync == h.sync_with_latest:
            st.session_state.pop(asked, None)
        elif st.session_state.get(asked) != sync:
            st.session_state[asked] = sync
            done = run_action("campaign sync", {"campaign": view.name, "on": sync},
                              lambda: campaigns.set_sync(clients.personalize, view.arn, sync))
            if done is None:  # refused or failed (shown above): the toggle may be tried again
                st.session_state.pop(asked, None)
            started(done, "Saved; the campaign applies it in the background.")
        with st.form(f"settings_{view.name}"):
            s1, s2, s3 = st.columns(3)
            tps = s1.number_input("Minimum provisioned TPS", min_value=1, value=h.min_provisioned_tps, step=1,
                                  key=f"tps_{view.name}")
            weight = None
            if view.exploration_weight is not None:
                weight = s2.slider("Exploration weight", 0.0, 1.0, view.exploration_weight, 0.05,
                                   help="How much to mix in new items with few interactions (0: none).")
            else:
                s2.caption("Exploration applies to User-Personalization only.")
            metadata = s3.checkbox("Return item metadata with recommendations", value=view.metadata_enabled)
            saved = st.form_submit_button("Save settings", disabled=h.updating or not can_operate())
        pending_key = f"_pending_settings_{view.name}"
        if saved:
            st.session_state[pending_key] = (int(tps), weight, metadata)
        pending = st.session_state.get(pending_key)
        if pending is not None:
            new_tps, new_weight, new_metadata = pending
            apply = new_tps <= h.min_provisioned_tps  # only raising the billed minimum needs a second yes
            if not apply:
                request_confirmation(f"tps_{view.name}")
                extra = campaigns.monthly_cost(new_tps, region, prices) - campaigns.cost_of(view, region, prices)
                apply = confirmation(
                    f"tps_{view.name}",
                    f"Raising the minimum from {h.min_provisioned_tps} to {new_tps} TPS adds about "
                    f"**${extra:,.0f} a month**: provisioned TPS is billed every hour, used or not.",
                    icon=":material/payments:", on_cancel=lambda: st.session_state.pop(pending_key, None))
            if apply:
                st.session_state.pop(pending_key, None)
                started(run_action(
                    "campaign settings", {"campaign": view.name, "tps": new_tps, "exploration": new_weight},
                    lambda: campaigns.update_settings(clients.personalize, view.arn, new_tps, new_weight,
                                                      new_metadata) or "applying"),
                    "Settings are being applied (an UpdateCampaign).")
        if confirmed_button("Delete campaign", key=f"delete_{view.name}", icon=":material/delete:",
                            consequence=f"Deleting **{view.name}** stops its recommendations at once: every "
                                        "application calling it gets errors. Its solution versions stay."):
            started(run_action("delete campaign", {"campaign": view.name},
                               lambda: campaigns.delete_campaign(clients.personalize, view.arn) or "deleting"),
                    f"{view.name} is being deleted.")


def busy(views: list[campaigns.CampaignView], recommenders: list[rs.RecommenderHealth]) -> bool:
    """Background work this page started, or someone else did, still running."""
    return (any(v.health.updating or v.health.status in rs.PENDING for v in views)
            or any(r.busy for r in recommenders))


def campaign_list() -> None:
    views = attempt(lambda: campaigns.campaign_views(clients.personalize, group_arn, region, prices),
                    "Listing campaigns")
    recommenders = attempt(lambda: rs.recommender_health(clients.personalize, group_arn, region, prices),
                           "Listing recommenders") or []
    if views is None:
        return
    # Following starts and stops with a whole-page rerun: run_every is fixed when the fragment is drawn.
    working = busy(views, recommenders)
    if working != st.session_state.get(FOLLOW_KEY, False):
        st.session_state[FOLLOW_KEY] = working
        if not working:
            reads.clear(reads.campaign_health, reads.recommender_health, reads.campaigns)
        st.rerun()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    if working:
        st.caption("Following the work in progress: this list redraws every few seconds until it settles.")
    if not views and not recommenders:
        st.info("No campaign yet. Train a solution version on the Training page, then deploy it as a campaign.",
                icon=":material/info:")
    stale = [v.name for v in views if v.health.stale and not v.health.updating]
    if stale:
        st.warning(f"**Stale:** {md(', '.join(stale))} {verb(len(stale), 'serves', 'serve')} an older "
                   "version than the newest ACTIVE one.",
                   icon=":material/warning:")
    for view in views:
        campaign_card(view)
    if recommenders:
        st.subheader("Recommenders", anchor=False)
        for r in recommenders:
            recommender_card(r, region, prices, started)


st.fragment(run_every=2.0 if st.session_state.get(FOLLOW_KEY) else None)(campaign_list)()

# -- deploy ---------------------------------------------------------------------------------------------
with st.expander("Deploy a new campaign", icon=":material/rocket_launch:"):
    versions = attempt(lambda: campaigns.deployable_versions(clients.personalize, group_arn),
                       "Listing ACTIVE solution versions") or []
    if not versions:
        st.caption("No ACTIVE solution version yet: train one on the Training page first.")
    else:
        labels = {v["arn"]: v["label"] for v in versions}
        d1, d2, d3 = st.columns([3, 2, 1])
        version_arn = d1.selectbox("Solution version", list(labels), format_func=labels.get, key="deploy_version")
        new_name = d2.text_input("Campaign name", key="deploy_name",
                                 value=labels[version_arn].split(" · ")[0] + "-campaign")
        new_tps = d3.number_input("Min TPS", 1, 10_000, 1, key="deploy_tps")
        cost = campaigns.monthly_cost(int(new_tps), region, prices)
        if confirmed_button("Deploy", key="deploy_campaign", type="primary", icon=":material/rocket_launch:",
                            consequence=f"A campaign bills {int(new_tps)} TPS every hour from the moment it is "
                                        f"ACTIVE, used or not: about **${cost:,.0f} a month** in `{region}`."):
            started(run_action("create campaign", {"name": new_name, "version": version_arn, "tps": int(new_tps)},
                               lambda: campaigns.create_campaign(clients.personalize, new_name, version_arn,
                                                                 int(new_tps))),
                    f"{new_name} is being deployed; it serves once ACTIVE.")

attempt(lambda: create_recommender_form(group_arn, region, prices, started), "Listing the domain's use cases")

# -- test campaign ------------------------------------------------------------------------------------
st.subheader("Test a campaign or recommender", anchor=False)
views = attempt(lambda: campaigns.campaign_views(clients.personalize, group_arn, region, prices),
                "Listing campaigns") or []
active: dict[str, campaigns.Testable] = {v.name: v for v in views if v.health.status == "ACTIVE"}
for r in attempt(lambda: reads.recommender_health(group_arn), "Listing recommenders") or []:
    if r.status == "ACTIVE":
        active[f"{r.name} (recommender)"] = r
if active:
    name = st.selectbox("Campaign", list(active), key="test_campaign")
    view = active[name]
    users, items = attempt(lambda: campaigns.example_ids(clients.personalize, group_arn), "Example IDs") or ([], [])
    with st.form("test_call"):
        c1, c2 = st.columns([3, 1])
        user_id = item_id = None
        ranking: list[str] = []
        if view.kind == campaigns.ITEM:
            item_id = c1.text_input("Item ID", placeholder=items[0] if items else "an item ID", key="test_item")
            hint = f"Try: {md(', '.join(items[:5]))}" if items else ""
        elif view.kind == campaigns.POPULAR:  # popular items are the same for everyone: a user is optional
            user_id = c1.text_input("User ID (optional)", key="test_user")
            hint = "The most popular items for everyone; a user ID only matters with a filter that uses one."
        else:
            user_id = c1.text_input("User ID", placeholder=users[0] if users else "a user ID", key="test_user")
            hint = f"Try: {md(', '.join(users[:5]))}" if users else ""
            if view.kind == campaigns.RANKING:
                # Personalized-Ranking reorders a list; start from the shop's most popular items.
                ranking = st.text_area("Items to rank (one per line or comma-separated)", value="\n".join(items),
                                       key="test_ranking").replace(",", "\n").splitlines()
        n = c2.number_input("Results", 1, 100, 10)
        if hint:
            st.caption(hint)
        submitted = st.form_submit_button("Get recommendations", type="primary")
    if submitted:
        columns = attempt(lambda: campaigns.item_metadata_columns(clients.personalize, group_arn),
                          "Reading the Items schema") or []
        result = attempt(lambda: campaigns.try_campaign(clients.runtime, view, user_id, item_id, ranking, int(n),
                                                        columns), "Test call")
        if result is not None:
            data = attempt(lambda: reads.group_data(group_arn), "Reading the staged data") or GroupData()
            result, joined = with_item_details(result, data.items)
            note = cold_user_note(user_id, view.kind, data)
            if note:
                st.info(md(note), icon=":material/ac_unit:")
            if not view.metadata_enabled and isinstance(view, campaigns.CampaignView):
                st.caption("Metadata is off for this campaign, so names, categories and prices come from the Items "
                           "data this dashboard imported." if joined else
                           "Metadata is off for this campaign: turn on *Return item metadata* in its settings.")
            st.dataframe(result, hide_index=True, width="stretch",
                         column_config={"score": st.column_config.NumberColumn(format="%.4f"),
                                        "price": st.column_config.NumberColumn(format="%.2f")})
else:
    st.caption("No ACTIVE campaign or recommender to test.")
