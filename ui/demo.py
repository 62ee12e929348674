"""The sidebar's demo-shop block (local mode only).

On a fresh install (the dashboard's own embedded engine, no dataset group, no demo made before) the
demo shop is created at once, with progress, and selected: within seconds every page has something
true to show. Afterwards a button offers another one. AWS mode offers nothing: a demo there would
train and deploy campaigns on the user's bill.

The shop is built by a background job of the process (services.core.jobs), not by the script run: a
click elsewhere reruns the page and would otherwise abort the build half-way. Every run and every tab
just follows the one job, so the first start happens once, however many tabs are open.
"""

from __future__ import annotations

import time

import streamlit as st

from services.core.config import BackendInfo
from services.core.jobs import Job, process_jobs
from services.core.resources import dataset_groups
from services.demo.shop_setup import (
    DEMO_NAME,
    DemoPlan,
    demo_job,
    find_group,
    is_fresh_install,
    next_demo_name,
    start_demo_shop,
    start_first_demo,
)

from . import context
from .actions import run_action
from .feedback import show_problem

_FOLLOWING = "_demo_following"  # session: the name of the demo job this session waits for
_POLL_S = 0.25


def _select(arn: str) -> None:
    """Make `arn` the chosen group from the next run on; the group list is re-read at once."""
    context.select_group(arn)


def _follow(job: Job) -> None:
    """Show the job's progress until it ends, then select its shop (or explain why it failed)."""
    st.session_state[_FOLLOWING] = job.name
    with st.status(f"Setting up the demo shop {job.name!r}", expanded=True) as status:
        bar = st.progress(job.fraction)
        text = st.empty()
        while job.running:  # the build runs in its own thread; this run only watches it
            bar.progress(min(1.0, job.fraction))
            text.write(job.message + "…")
            time.sleep(_POLL_S)
        if job.failed:
            status.update(label="The demo shop could not be set up", state="error", expanded=True)
    st.session_state.pop(_FOLLOWING, None)
    if job.error is not None:
        show_problem(job.error, "Setting up the demo shop")
        return
    if job.result:
        _select(job.result)
        st.rerun()


def _first_start() -> Job | None:
    try:
        return start_first_demo(process_jobs(), context.clients(), context.audit_log())
    except Exception as exc:  # the backend hiccuped: say so, and try again on the next run
        show_problem(exc, "Creating the demo shop")
        return None


def _offer(has_groups: bool) -> None:
    with st.expander("Demo data", expanded=not has_groups, icon=":material/storefront:"):
        st.caption(
            "A seeded e-commerce shop (views, clicks, add-to-cart, purchases; items; users): imported, "
            "with popularity, personalization and similar-items trained and deployed in seconds."
        )
        if not st.button("Create a demo shop", key="demo_create", icon=":material/add_business:", width="stretch"):
            return
        clients = context.clients()
        try:
            names = {g.name for g in dataset_groups(clients.personalize)}
        except Exception as exc:  # the backend is unreachable: say so, create nothing
            show_problem(exc, "Listing dataset groups")
            return
        name = next_demo_name(names)
        job = run_action("create demo shop", {"name": name},
                         lambda: start_demo_shop(process_jobs(), clients, DemoPlan(name=name)))
        if job is not None:
            _follow(job)


def demo_sidebar(info: BackendInfo, has_groups: bool) -> None:
    """Called by app.py inside the sidebar, after the dataset group picker."""
    if not info.is_local:
        return
    following = st.session_state.get(_FOLLOWING)
    job = demo_job(process_jobs(), following) if following else None
    if job is None and not has_groups:
        first = demo_job(process_jobs(), DEMO_NAME)
        if is_fresh_install(info):
            job = _first_start()
        elif first is not None and first.succeeded and find_group(context.clients(), first.name):
            _select(first.result)  # another tab made it; the cached group list has not caught up yet
            st.rerun()
        else:
            job = first if first is not None and first.running else None
    if job is not None and (job.running or job.succeeded or job.failed):
        _follow(job)
    _offer(has_groups)
