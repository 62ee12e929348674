"""Live events: an event tracker, a test event for one user, and that user's list before and after."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from services.recommendations import events as ev
from services.recommendations import side_by_side as recs
from ui import context, reads
from ui.actions import run_action
from ui.feedback import attempt
from ui.text import md, md_code

NEW_ITEM = "(type an item id)"


def campaigns_of(group: str) -> list[recs.CampaignInfo]:
    return [c for c in reads.campaigns(group) if c.serves_users]


CREATED_KEY = "_events_tracker_created"


def tracker_section(group: str) -> ev.Tracker | None:
    """The group's tracker when ACTIVE; otherwise the form to create one, or the tracker followed until
    it settles. Each run shows one state only: a click reruns the page instead of drawing on top."""
    st.subheader("Event tracker")
    trackers = attempt(lambda: reads.trackers(group), "Listing event trackers")
    if trackers is None:
        return None
    if not trackers:
        create_form(group)
        return None
    tracker = trackers[0]
    if tracker.status not in ev.TRACKER_SETTLED:
        # run_every is fixed when the fragment is drawn: it stops by rerunning the whole page once settled.
        st.fragment(run_every=1.0)(follow_tracker)(group)
        return None
    created = st.session_state.pop(CREATED_KEY, None)
    if created and tracker.status == "ACTIVE":
        st.success(f"Event tracker {md(created)} is ready.", icon=":material/check_circle:")
    show_tracker(tracker)
    if tracker.status != "ACTIVE":
        st.error("The event tracker could not be created; delete it on AWS and create it again.",
                 icon=":material/error:")
        return None
    return tracker


def show_tracker(tracker: ev.Tracker) -> None:
    st.markdown(f"**{md(tracker.name)}** · {md(tracker.status)} · tracking id {md_code(tracker.tracking_id)}")
    st.caption("Personalize allows one event tracker per dataset group; your site sends PutEvents with "
               "this tracking id.")


def follow_tracker(group: str) -> None:
    """Reads the tracker afresh every second; once it is ACTIVE (or failed) the whole page redraws."""
    trackers = attempt(lambda: ev.list_trackers(context.clients().personalize, group), "Reading the event tracker")
    tracker = trackers[0] if trackers else None
    if tracker is None or tracker.status in ev.TRACKER_SETTLED:
        reads.trackers.clear()
        st.rerun()
    show_tracker(tracker)
    st.info(f"Creating the event tracker ({md(tracker.status)}): this page follows it until it is ACTIVE.",
            icon=":material/hourglass_top:")


def create_form(group: str) -> None:
    st.info("This dataset group has no event tracker yet: without one, PutEvents has nowhere to send events.",
            icon=":material/info:")
    with st.form("create-tracker"):
        name = st.text_input("Tracker name", value="dashboard-events")
        if st.form_submit_button("Create event tracker", type="primary", icon=":material/add:"):
            made = run_action("create event tracker", {"dataset_group": group, "name": name},
                              lambda: ev.start_tracker(context.clients().personalize, group, name.strip()))
            if made is not None:
                reads.trackers.clear()
                st.session_state[CREATED_KEY] = made.name
                st.rerun()


def item_label(items: pd.DataFrame | None):
    def label(item: str) -> str:
        if item == NEW_ITEM or items is None or item not in items.index:
            return item
        row = items.loc[item]
        return f"{row['name']} ({item})" if row["name"] else item
    return label


def send_section(group: str, tracker: ev.Tracker) -> None:
    st.subheader("Send a test event")
    campaigns = attempt(lambda: campaigns_of(group), "Listing campaigns") or []
    if not campaigns:
        st.info("No ACTIVE campaign recommends for users yet, so there is no list to compare.",
                icon=":material/info:")
        return
    data = attempt(lambda: reads.group_data(group), "Reading the staged data") or recs.GroupData()
    types = ["view", "click", "add-to-cart", "purchase"]
    if data.interactions is not None and "EVENT_TYPE" in data.interactions:
        types = sorted(set(data.interactions["EVENT_TYPE"].dropna().astype(str)) | set(types))
    items = data.items
    item_ids = [NEW_ITEM] + (items.index.tolist()[:2000] if items is not None else [])
    with st.form("send-event"):
        c1, c2 = st.columns(2)
        campaign = c1.selectbox("Campaign to watch", [c.name for c in campaigns],
                                index=_preferred(campaigns), key="ev_campaign")
        user = c2.text_input("User id", value="new-visitor-1", key="ev_user",
                             help="A user the model never saw gets the popular items; one event changes that.")
        c3, c4, c5 = st.columns([2, 1, 1])
        picked = c3.selectbox("Item", item_ids, index=min(1, len(item_ids) - 1), format_func=item_label(items),
                              key="ev_item")
        typed = c3.text_input("Item id (if typed)", key="ev_item_typed")
        etype = c4.selectbox("Event type", types, index=types.index("click") if "click" in types else 0,
                             key="ev_type")
        value = c5.number_input("Event value (optional)", value=None, min_value=0.0, key="ev_value")
        n = st.slider("List length", 5, 25, 10, key="ev_n")
        ranked = st.text_input("Items to rank (ranking campaigns only)", key="ev_candidates",
                               placeholder="empty: the user's most popular unseen items",
                               help="Personalized-Ranking reorders a list you give it; the same list is ranked "
                                    "before and after the event.")
        submitted = st.form_submit_button("Send the event and compare", type="primary", icon=":material/send:")
    if not submitted:
        return
    item = typed.strip() if picked == NEW_ITEM else picked
    watched = next(c for c in campaigns if c.name == campaign)
    candidates = ranked.replace(",", " ").split() or recs.popular_unseen(data.interactions, [user.strip()])[
        user.strip()]
    settle = 0.0 if context.backend_info().is_local else 5.0  # the engine applies events at once
    event = ev.OutgoingEvent(user, item or "", etype, value)
    clients = context.clients()
    result = run_action("send test event", {"dataset_group": group, "user": user, "item": item, "type": etype},
                        lambda: ev.send_and_compare(clients.runtime, clients.events, watched.arn,
                                                    tracker.tracking_id, group, event, n=int(n),
                                                    settle_timeout=settle, kind=watched.call,
                                                    candidates=candidates))
    if result is None:
        return
    show_before_after(result, items, campaign)


def _preferred(campaigns: list[recs.CampaignInfo]) -> int:
    # User-Personalization is the recipe that uses events at once; start there.
    names = [c.recipe for c in campaigns]
    return next((i for i, r in enumerate(names) if "user-personalization" in r), 0)


def show_before_after(result: ev.BeforeAfter, items: pd.DataFrame | None, campaign: str) -> None:
    if result.changed:
        st.success(f"**{md(result.sent.user_id)}'s list changed** after one {md(result.sent.event_type)} on "
                   f"{md(result.sent.item_id)}: {md(campaign)} used the event at once, without retraining.",
                   icon=":material/check_circle:")
    else:
        st.warning(f"**{md(result.sent.user_id)}'s list did not change.** Popularity and similar-items recipes ignore "
                   "a user's events; on AWS an event can also take a few seconds to count.",
                   icon=":material/warning:")
    frame = result.frame()
    if items is not None and len(items):
        names = items["name"]
        frame["before"] = frame["before"].map(lambda i: f"{names.get(i, '')} ({i})" if i in names.index else i)
        frame["after"] = frame["after"].map(lambda i: f"{names.get(i, '')} ({i})" if i in names.index else i)
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    styles.loc[frame["new"] == "new", "after"] = "background-color: #c8e6c9"
    st.dataframe(frame.style.apply(lambda _: styles, axis=None), hide_index=True, width="stretch",
                 height=(len(frame) + 1) * 35 + 3)


def log_section(group: str) -> None:
    st.subheader("Events sent from this dashboard")
    st.caption("AWS keeps no readable copy of events sent with PutEvents, so the dashboard logs its own.")
    log = attempt(lambda: ev.EventLog().recent(group, limit=50), "Reading the event log")
    if log is not None:
        if log.empty:
            st.caption("None yet.")
        else:
            st.dataframe(log.drop(columns=["dataset_group_arn", "tracking_id"]), hide_index=True, width="stretch")
    info = context.backend_info()
    if info.is_local:
        st.subheader("The engine's recent events")
        engine = attempt(lambda: ev.engine_recent_events(info, group, limit=50), "Reading the engine's events")
        if engine is not None:
            if engine.empty:
                st.caption("The engine has received no events for this dataset group yet.")
            else:
                st.dataframe(engine, hide_index=True, width="stretch")


st.title("Events")
st.caption("Stream events with PutEvents and watch one user's recommendations change, without retraining: "
           "the cure for the cold start the Side by side page shows.")
group_arn = context.require_dataset_group()
tracker = tracker_section(group_arn)
if tracker is not None:
    send_section(group_arn, tracker)
log_section(group_arn)
