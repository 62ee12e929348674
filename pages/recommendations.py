"""Recommendations side by side, the cold-start duplication report, and the story in four clicks."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from services.core.aws_errors import explain
from services.core.jobs import Job, process_jobs
from services.core.resources import arn_path
from services.demo import story
from services.demo.shop_setup import DemoPlan, find_group
from services.recommendations import cell_format as cells
from services.recommendations import side_by_side as recs
from services.recommendations.duplication import DuplicationReport
from services.recommendations.runtime_call import RANKING
from ui import context, reads
from ui.actions import run_action
from ui.feedback import attempt, show_problem
from ui.text import md, md_code

LEVEL_BOX = {"critical": st.error, "warning": st.warning, "ok": st.success}
LEVEL_ICON = {"critical": ":material/error:", "warning": ":material/warning:", "ok": ":material/check_circle:"}
LEVEL_WORD = {"critical": "red", "warning": "amber", "ok": "green"}
HIGHLIGHT = "background-color: #ffe0b2"  # items most shown users share
ROW_HEIGHT = 35
POLL_S = 0.25


# ------------------------------------------------------------------------------------------------ reads


@st.cache_data(ttl=30, show_spinner="Asking every campaign for every user's recommendations…")
def fetch(campaigns: tuple[tuple[str, str, str, str], ...], users: tuple[str, ...], k: int,
          filter_arn: str | None, filter_values: tuple[tuple[str, str], ...], nonce: int,
          candidates: tuple[tuple[str, tuple[str, ...]], ...] = ()
          ) -> tuple[pd.DataFrame, dict[tuple[str, str], str], int]:
    """(name, arn, serving version, call kind) per campaign: the version is in the key, so an update shows
    at once; `candidates` are what a ranking campaign reorders, per user."""
    fetched = recs.fetch_recommendations(context.clients().runtime, {n: a for n, a, _, _ in campaigns}, users, k,
                                         filter_arn, dict(filter_values), kinds={n: c for n, _, _, c in campaigns},
                                         candidates=dict(candidates))
    errors = {key: f"{explain(exc).title}: {explain(exc).detail}" for key, exc in fetched.errors.items()}
    return fetched.frame, errors, fetched.throttled


# ------------------------------------------------------------------------------------------------ report


def show_verdict(report: DuplicationReport, heading: str) -> None:
    remedies = "".join(f"\n- {r}" for r in report.remedies)
    text = f"**{heading}: {report.verdict}**" + (f"\n\nWhat helps:{remedies}" if remedies else "")
    if report.baseline:  # the floor to compare with, neither a fault nor an achievement
        st.info(text, icon=":material/horizontal_rule:")
        return
    LEVEL_BOX[report.level](text, icon=LEVEL_ICON[report.level])
    if report.no_history_note:  # neutral: no model can personalise a user it knows nothing about
        st.info(md(f"{heading}: {report.no_history_note}"), icon=":material/person_add:")


def show_report_detail(report: DuplicationReport, key: str) -> None:
    table = recs.report_table(report)
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={
            "same top-K list": st.column_config.ProgressColumn(
                f"same top-{report.k} list", help="Share of users whose top-K equals the most common list",
                format="percent", min_value=0.0, max_value=1.0),
            "mean pairwise Jaccard": st.column_config.NumberColumn(format="%.2f"),
            "personalization": st.column_config.NumberColumn(format="%.2f",
                                                             help="1 − mean pairwise cosine; 1 = nobody shares"),
            "catalog coverage": st.column_config.NumberColumn(format="percent"),
            "slots taken by top-1% items": st.column_config.NumberColumn(format="percent"),
        },
        key=f"report-table-{key}",
    )
    overlap = report.overlap
    if len(overlap) >= 2:
        labels = [f"{u} ({c})" for u, c in zip(overlap.index, report.overlap_cohorts, strict=True)]
        fig = go.Figure(go.Heatmap(z=overlap.to_numpy(), x=labels, y=labels, zmin=0, zmax=1,
                                   colorscale="Reds", colorbar={"title": "Jaccard"},
                                   hovertemplate="%{y}<br>%{x}<br>overlap %{z:.2f}<extra></extra>"))
        fig.update_layout(title=f"Top-{report.k} overlap between users (sorted by cohort)",
                          height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                          xaxis={"showticklabels": False}, yaxis={"showticklabels": False, "autorange": "reversed"})
        st.plotly_chart(fig, key=f"heatmap-{key}")
        st.caption("Each square is a pair of users: dark red = the same list. A solid block means a whole "
                   "cohort gets one list.")


# ------------------------------------------------------------------------------------------------ grid


GRIDS_PER_ROW = 2  # a ranked cell needs ~450 px: two beside each other fit a 1,400 px window
CELL_WIDTHS = {"#": 36, "item": 290, "price": 64, "shared": 60}  # px; "item" is name · category leaf


def styled_cell(cell: pd.DataFrame) -> object:
    shown = cell.drop(columns="_share")
    mask = cell["_share"].to_numpy() >= 0.5
    styles = pd.DataFrame("", index=shown.index, columns=shown.columns)
    styles.loc[mask, :] = HIGHLIGHT
    return shown.style.apply(lambda _: styles, axis=None)


def show_cell(cell: pd.DataFrame, n_shown: int) -> None:
    """One user's list from one campaign: rank, name · category leaf, price, how many shown users got it."""
    compact = cells.compact_cell(cell)
    st.dataframe(styled_cell(compact), hide_index=True, width="stretch",
                 height=(len(compact) + 1) * ROW_HEIGHT + 3,
                 column_config={
                     "#": st.column_config.NumberColumn(width=CELL_WIDTHS["#"]),
                     "item": st.column_config.TextColumn(width=CELL_WIDTHS["item"],
                                                         help=md(cells.category_paths_help(cell))),
                     "price": st.column_config.NumberColumn(width=CELL_WIDTHS["price"], format="%.2f"),
                     "shared": st.column_config.NumberColumn(
                         width=CELL_WIDTHS["shared"], format=f"%d/{n_shown}",
                         help=f"How many of the {n_shown} users shown got this item from this campaign"),
                 })


def show_grid(fetched: recs.Fetched, errors: dict, users: pd.DataFrame, campaign_names: list[str],
              data: recs.GroupData, history_n: int) -> None:
    shown = users["user_id"].tolist()
    counts = {c: recs.shown_item_counts(fetched, c, shown) for c in campaign_names}
    twins = {c: recs.same_list_counts(fetched, c, shown) for c in campaign_names}
    history = recs.recent_history(data.interactions, shown, history_n, data.items)
    for row in users.itertuples():
        st.divider()
        st.markdown(f"**{md(row.user_id)}** · {row.interactions} interaction(s) · cohort {md(row.cohort)}")
        past = cells.history_line(history.get(row.user_id))
        st.caption(f"Recent history, newest first: {md(past)}" if past else "No history: a new user.")
        for start in range(0, len(campaign_names), GRIDS_PER_ROW):
            names = campaign_names[start:start + GRIDS_PER_ROW]
            for col, name in zip(st.columns(GRIDS_PER_ROW), names, strict=False):
                with col:
                    show_campaign_cell(fetched, errors, name, row.user_id, data, counts[name],
                                       twins[name].get(row.user_id, 0), len(shown))


def show_campaign_cell(fetched: recs.Fetched, errors: dict, name: str, user: str, data: recs.GroupData,
                       counts: pd.Series, same: int, n_shown: int) -> None:
    if (name, user) in errors:
        st.markdown(f"**{md(name)}**")
        st.error(md(errors[(name, user)]), icon=":material/error:")
        return
    cell = recs.ranked_cell(fetched, name, user, data.items, counts, n_shown)
    if not len(cell):
        st.markdown(f"**{md(name)}**")
        st.caption("No recommendations (a filter may exclude everything).")
        return
    badge = (f":orange-badge[:material/content_copy: same list as {same} other user{'s' if same > 1 else ''} "
             "shown]" if same else ":green-badge[:material/person: a list of its own]")
    st.markdown(f"**{md(name)}** {badge}")
    show_cell(cell, n_shown)


def candidate_input(chosen: list[recs.CampaignInfo]) -> str:
    """The items a ranking campaign reorders, typed; asked only when a chosen campaign ranks."""
    if not any(c.call == RANKING for c in chosen):
        return ""
    return st.text_input("Items a ranking campaign reorders", key="rec_candidates",
                         placeholder="empty: each user's most popular unseen items",
                         help="Personalized-Ranking does not choose items, it reorders a list you give it.")


def ranking_candidates(campaigns: tuple[tuple[str, str, str, str], ...], typed: str, data: recs.GroupData,
                       users: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per user, the typed items (the same for everyone) or else their most popular unseen ones; nothing
    when no chosen campaign ranks."""
    if not any(kind == RANKING for *_, kind in campaigns):
        return ()
    listed = tuple(dict.fromkeys(typed.replace(",", " ").split()))
    unseen = recs.popular_unseen(data.interactions, users) if not listed else {}
    return tuple((u, listed or tuple(unseen.get(u, []))) for u in users)


def side_by_side(group: str) -> None:
    campaigns = attempt(lambda: reads.campaigns(group), "Listing campaigns")
    if campaigns is None:
        return
    usable = [c for c in campaigns if c.serves_users]
    if not usable:
        st.info("No ACTIVE campaign that recommends for users yet. Deploy one on the **Campaigns** page "
                "(or run step 1 of the story).", icon=":material/info:")
        return
    data = attempt(lambda: reads.group_data(group), "Reading the staged data") or recs.GroupData()
    by_name = {c.name: c for c in usable}

    with st.expander("What to compare", expanded=False, icon=":material/tune:"):
        chosen = st.multiselect("Campaigns (columns)", list(by_name), default=list(by_name), key="rec_campaigns")
        c1, c2, c3, c4 = st.columns(4)
        k = c1.number_input("Items per list (top K)", 1, 50, 10, key="rec_k")
        shown_per_cohort = c2.number_input("Users shown per cohort", 1, 10, 2, key="rec_shown")
        report_per_cohort = c3.number_input("Users per cohort in the report", 2, 200, 25, key="rec_report_n")
        seed = c4.number_input("Sample seed", 0, 10_000, 0, key="rec_seed")
        has_history = data.interactions is not None
        sources = ["Sample by history length", "Type user ids"] if has_history else ["Type user ids"]
        source = st.radio("Users (rows)", sources, horizontal=True, key="rec_source")
        typed = ""
        if source == "Type user ids":
            if not has_history:
                st.caption("No interactions file staged from this dashboard for this group, so users cannot "
                           "be sampled by history: type their ids.")
            typed = st.text_area("User ids (comma, space or newline separated)", key="rec_typed")
        filter_arn, filter_values = choose_filter(group)
        typed_candidates = candidate_input([by_name[n] for n in chosen])
        if st.button("Refresh recommendations", icon=":material/refresh:", key="rec_refresh"):
            st.session_state["rec_nonce"] = st.session_state.get("rec_nonce", 0) + 1

    if not chosen:
        st.info("Choose at least one campaign.")
        return
    if source == "Type user ids":
        users = recs.typed_users(typed, data.history_lengths)
        shown = users
    else:
        users = recs.sample_users(data.history_lengths, data.users, int(report_per_cohort), int(seed))
        shown = users.groupby("cohort", sort=False).head(int(shown_per_cohort))
    if users.empty:
        st.info("Type one or more user ids above to compare their recommendations.", icon=":material/info:")
        return

    key_campaigns = tuple((n, by_name[n].arn, by_name[n].solution_version_arn, by_name[n].call) for n in chosen)
    candidates = ranking_candidates(key_campaigns, typed_candidates, data, list(users["user_id"]))
    result = attempt(lambda: fetch(key_campaigns, tuple(users["user_id"]), int(k), filter_arn,
                                   tuple(sorted(filter_values.items())), st.session_state.get("rec_nonce", 0),
                                   candidates), "Getting recommendations")
    if result is None:
        return
    frame, errors, throttled = result
    fetched = recs.Fetched(frame)
    if errors:
        sample = next(iter(errors.values()))
        st.warning(f"{len(errors)} of {len(users) * len(chosen)} requests failed; those cells show why. "
                   f"First: {md(sample)}", icon=":material/warning:")
    if throttled:
        st.caption(f"AWS throttled {throttled} request(s); the dashboard backed off and retried.")

    show_findings(fetched, errors, users, shown, chosen, data, {c.name: c.recipe for c in usable}, int(k))


def show_findings(fetched: recs.Fetched, errors: dict, users: pd.DataFrame, shown: pd.DataFrame,
                  chosen: list[str], data: recs.GroupData, recipes: dict[str, str], k: int) -> None:
    """The verdict per campaign, the grid, and the report in detail, for the users asked about."""
    frame = fetched.frame
    reports = recs.duplication_reports_for(fetched, data, k, recipes=recipes) if len(frame) else {}
    st.subheader("Are users getting the same items?")
    st.caption(f"Judged on {len(users)} users sampled by history length "
               f"({', '.join(f'{c}: {n}' for c, n in users['cohort'].value_counts(sort=False).items())}); "
               f"cohorts count each user's interactions in the data as it is now "
               f"({int(data.history_lengths.sum()):,} interactions).")
    for name in chosen:
        if name in reports:
            show_verdict(reports[name], name)

    st.subheader("Side by side")
    st.caption("Per user: their recent history, then each campaign's list (two campaigns to a row). "
               "Highlighted: items that at least half of the users shown here get from that campaign; "
               "'shared' counts them. Item: name · last level of its category (the column's help has the "
               "full categories).")
    show_grid(fetched, errors, shown.reset_index(drop=True), chosen, data, history_n=5)

    st.subheader("Duplication report in detail")
    if reports:
        for tab, name in zip(st.tabs(list(reports)), reports, strict=True):
            with tab:
                show_report_detail(reports[name], f"grid-{name}")


def choose_filter(group: str) -> tuple[str | None, dict[str, str]]:
    filters = attempt(lambda: reads.filters(group), "Listing filters") or []
    if not filters:
        st.caption("No filters in this dataset group (create one to exclude, e.g., items already bought).")
        return None, {}
    names = ["(no filter)"] + [f["name"] for f in filters]
    picked = st.selectbox("Filter", names, key="rec_filter")
    if picked == "(no filter)":
        return None, {}
    f = next(f for f in filters if f["name"] == picked)
    st.caption(f"Expression: {md_code(f['expression'])}")
    raw = {name: st.text_input(f"Value(s) for ${name}", key=f"rec_filter_{picked}_{name}",
                               help="Comma-separated; quotes are added for you")
           for name in recs.filter_placeholders(f["expression"])}
    return f["arn"], recs.filter_values_param(raw)


# ------------------------------------------------------------------------------------------------ story


DEMO_SIZES = {"default": "1,500 users, 32,000 events (the story's figures)",
              "small": "300 users, 6,000 events (quick)"}


def plan_for(size: str) -> DemoPlan:
    return DemoPlan.small() if size == "small" else DemoPlan()


@st.cache_data(show_spinner="Drawing the story's panel of users…")
def panel_for(size: str) -> story.Panel:
    return story.story_panel(plan_for(size))


@st.cache_data(ttl=120, show_spinner="Measuring the story's panel…")
def story_report_for(size: str, done: int, campaign: str | None, serving: str | None) -> DuplicationReport:
    # Keyed on where the story is and what the campaign serves: each step changes the key.
    status = story.StoryStatus(campaign_arn=campaign, serving_version=serving, done=done)
    return story.story_report(context.clients(), status, panel_for(size))


def story_section() -> None:
    st.markdown(
        "Real teams met this: with little data every user got the same products, and a retrain did not "
        "help because the campaign still served the old model. Four clicks replay it on the demo shop "
        "(dataset group `demo-shop`); each step says what it does, and the report below follows the same "
        "100 users throughout (25 per cohort of history length **when the story began**).")
    size = st.session_state.get("story_size", "default")
    plan = plan_for(size)
    follow_running_step(plan)
    clients = context.clients()
    status = attempt(lambda: story.story_status(clients, plan), "Reading where the story is")
    if status is None:
        return
    if status.problem:
        st.error(status.problem, icon=":material/error:")
    if status.busy:
        st.info(f"In progress: {status.busy}. Refresh in a moment.", icon=":material/hourglass_top:")
    for number, (title, explanation) in enumerate(story.steps_for(plan), start=1):
        story_step(number, title, explanation, status, plan)
    with st.expander("Demo shop size", icon=":material/settings:"):
        st.radio("Size of the demo shop the story creates", list(DEMO_SIZES), format_func=DEMO_SIZES.get,
                 key="story_size", disabled=status.done >= 1,
                 help="Choose before step 1; the later steps regenerate the same shop from its seed.")
    if status.done < 1 or status.busy or status.campaign_arn is None:
        return
    story_report(size, status)


def story_step(number: int, title: str, explanation: str, status: story.StoryStatus, plan: DemoPlan) -> None:
    with st.container(border=True):
        done = status.done >= number
        mark = ":material/check_circle:" if done else ":material/radio_button_unchecked:"
        st.markdown(f"{mark} **Step {number}. {title}**")
        st.caption(explanation)
        is_next = number == status.next_step and not status.busy and not status.problem
        if st.session_state.get("story_done_message", (0, ""))[0] == number:
            st.success(st.session_state.pop("story_done_message")[1], icon=":material/check_circle:")
        clicked = st.button(f"Run step {number}", key=f"story_step_{number}", disabled=not is_next,
                            type="primary" if is_next else "secondary")
        if clicked and run_story_step(number, plan):
            step_finished(number, plan)
        if number == 3 and status.done == 3 and status.health and status.health.stale:
            st.warning(status.health.advice(), icon=":material/update:")


def step_finished(number: int, plan: DemoPlan) -> None:
    reads.clear(*reads.GROUP_CONTENTS, reads.dataset_groups)  # a story step changes all of them
    fetch.clear()
    story_report_for.clear()
    if number == 1:
        select_group(plan.name)
    st.session_state["story_done_message"] = (number, f"Step {number} done. The report "
                                              "below now shows where the story is.")
    st.rerun()  # redraw every step's mark and the report from the engine's new state


def story_report(size: str, status: story.StoryStatus) -> None:
    report = attempt(lambda: story_report_for(size, status.done, status.campaign_arn, status.serving_version),
                     "Measuring the story's panel")
    if report is None:
        return
    store = story.SnapshotStore()
    story.record_snapshot(store, status, report)
    st.subheader(f"The report now (after step {status.done}), campaign serving "
                 f"`{arn_path(status.serving_version or '')}`")
    show_verdict(report, f"Report {LEVEL_WORD[report.level]}")
    snapshots = store.load(status.group_arn or "")
    story_metrics(report, snapshots.get(1))
    first_events = int(panel_for(size).history_at_start.sum())
    if story.unchanged_since_start(snapshots, status.done):
        st.info(f"**Nothing changed since step 1**: the campaign still serves the model trained on the first "
                f"{first_events:,} events. Imported data and new versions reach users only through the "
                "campaign.", icon=":material/info:")
    elif snapshots.get(1) and status.done > 1:
        st.caption("Deltas compare with the report after step 1.")
    if snapshots:
        show_snapshots(snapshots, size)
    st.caption(f"Cohorts here are each panel user's history **when the story began** ({first_events:,} "
               "events then). The Side by side tab counts history as it is now, so a user who was cold at "
               "the start and has history now is in a different cohort there: the two tabs can differ, "
               "and both are right about the users they name.")
    with st.expander("The panel's figures and overlap", icon=":material/grid_on:"):
        show_report_detail(report, "story")
    st.caption("Users with no interactions at all keep getting the popular items until they send events; "
               "the **Events** page shows one click changing a new user's list.")




def show_snapshots(snapshots: dict[int, story.Snapshot], size: str) -> None:
    """The report after each step: figures and the verdict's headline in the table (it fits a 1,400 px
    window), each step's verdict in full under it."""
    st.markdown("**Before and after: the report after each step**")
    table = story.snapshots_frame(snapshots, plan_for(size))
    steps, full = table["after step"].tolist(), table["verdict"].tolist()
    # The step's number only: its title is in the step's box above and in the verdicts under the table.
    table["after step"] = [int(str(s).partition(".")[0]) for s in steps]
    table["verdict"] = table["verdict"].map(cells.verdict_headline)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={
                     "after step": st.column_config.NumberColumn(width=80, help="; ".join(md(s) for s in steps)),
                     "report": st.column_config.TextColumn(width=64),
                     story.COLD_COLUMN: st.column_config.NumberColumn(
                         "≤2 at start: same top-10", format="percent", help=story.COLD_COLUMN),
                     "all: mean Jaccard": st.column_config.NumberColumn(format="%.2f", width=130),
                     "all: personalization": st.column_config.NumberColumn(format="%.2f", width=140),
                     "verdict": st.column_config.TextColumn(help="The headline; each verdict in full is below"),
                 })
    with st.expander("Each step's verdict in full", icon=":material/notes:"):
        for step, verdict in zip(steps, full, strict=True):
            st.markdown(f"**{md(step)}**: {md(verdict)}")


def story_metrics(report: DuplicationReport, first: story.Snapshot | None) -> None:
    cold, everyone = report.cohorts.get("≤2"), report.overall
    m1, m2, m3 = st.columns(3)
    before = {f["users"]: f for f in first.figures} if first else {}
    m1.metric("Users with ≤2 interactions at the start sharing one top-10",
              f"{cold.same_list_share:.0%}" if cold else "–",
              delta=_delta(cold.same_list_share if cold else None, before.get("≤2", {}).get("same top-10 list")),
              delta_color="inverse")
    m2.metric("Mean pairwise Jaccard (all)", f"{everyone.mean_jaccard:.2f}",
              delta=_delta(everyone.mean_jaccard, before.get("all", {}).get("mean Jaccard"), pct=False),
              delta_color="inverse")
    m3.metric("Personalization (all)", f"{everyone.personalization:.2f}",
              delta=_delta(everyone.personalization, before.get("all", {}).get("personalization"), pct=False))


def _delta(now: float | None, before: float | None, pct: bool = True) -> str | None:
    if now is None or before is None or abs(now - before) < 1e-9:
        return None
    diff = now - before
    return f"{diff * 100:+.0f} pts" if pct else f"{diff:+.2f}"


def select_group(name: str) -> None:
    """Show the demo shop in the side-by-side tab too (as the sidebar's demo block does)."""
    arn = attempt(lambda: find_group(context.clients(), name), "Finding the demo shop")
    if arn:
        context.select_group(arn)


def watch_step(job: Job, box: Any, bar: Any) -> Any:
    """Show the step's progress messages as they come, until it ends; its result, or its error raised."""
    seen = 0
    while True:
        ended = job.wait(POLL_S)  # the step runs in a background job; this run only watches it
        for message in job.progress_since(seen):
            box.write(message)
            seen += 1
        bar.progress(job.fraction)
        if ended:
            break
    if job.error is not None:
        raise job.error
    return job.result


def run_story_step(number: int, plan: DemoPlan) -> bool:
    title = story.steps_for(plan)[number - 1][0]
    with st.status(f"Step {number}: {title}", expanded=True) as box:
        bar = st.progress(0.0)
        result = run_action(f"story step {number}", {"dataset_group": plan.name},
                            lambda: watch_step(story.start_step(process_jobs(), context.clients(), plan, number),
                                               box, bar))
        box.update(state="complete" if result is not None else "error", expanded=result is None)
    return result is not None


def follow_running_step(plan: DemoPlan) -> None:
    """A step started by an earlier run (a click elsewhere reran the page) or another tab: watch it end."""
    running = story.running_step(process_jobs(), plan)
    if running is None:
        return
    number, job = running
    with st.status(f"Step {number}: {story.STEPS[number - 1][0]}", expanded=True) as box:
        bar = st.progress(job.fraction)
        try:
            watch_step(job, box, bar)
        except Exception as exc:  # the run that started the step is gone: say why here
            box.update(state="error", expanded=True)
            show_problem(exc, f"story step {number}")
            return
        box.update(state="complete", expanded=False)
    step_finished(number, plan)


# ------------------------------------------------------------------------------------------------ page

st.title("Recommendations side by side")
st.caption("Do different users get different items? Users sampled by how much history they have, each "
           "campaign's list for them, and a report that says in words whether the lists are personal.")

side_tab, story_tab = st.tabs(["Side by side", "The cold-start story"])
with story_tab:
    story_section()
with side_tab:
    group_arn = context.dataset_group_arn()
    if not group_arn:
        st.info("No dataset group yet. Run step 1 of **The cold-start story** (next tab) to create the demo "
                "shop, or create a group on the **Data** page.", icon=":material/info:")
    else:
        side_by_side(group_arn)
