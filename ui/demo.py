"""The sidebar's demo-shop block (local mode only).

On a fresh install (the dashboard's own embedded engine, no dataset group, no demo made before) the
demo shop is created at once, with progress, and selected: within seconds every page has something
true to show. Afterwards a button offers another one. AWS mode offers nothing: a demo there would
train and deploy campaigns on the user's bill.

The shop is built in a background thread owned by the process (st.cache_resource), not by the script
run: a click elsewhere reruns the page and would otherwise abort the build half-way. Every run and
every tab just follows the one job, so the first start happens once, however many tabs are open.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from services.core import config
from services.core.audit import AuditLog
from services.core.clients import Clients
from services.core.config import BackendInfo
from services.core.resources import dataset_groups
from services.demo.shop_setup import DemoPlan, create_demo_shop, find_group

from . import context
from .actions import run_action
from .feedback import show_problem

DEMO_NAME = "demo-shop"
MARKER = "demo-first-start.json"  # in the data dir: made once, never again automatically
_FOLLOWING = "_demo_following"  # session: the name of the demo job this session waits for
_POLL_S = 0.25


@dataclass
class DemoJob:
    name: str
    message: str = "Starting"
    fraction: float = 0.0
    arn: str | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _progress(self, message: str, fraction: float) -> None:
        self.message, self.fraction = message, fraction


@dataclass
class DemoJobs:
    """Demo builds of this process, by shop name; `lock` makes claiming one atomic."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, DemoJob] = field(default_factory=dict)
    first_start: DemoJob | None = None

    def start(self, clients: Clients, plan: DemoPlan) -> DemoJob:
        """Start building `plan` unless a build of that name already runs; returns the job to follow."""
        with self.lock:
            existing = self.jobs.get(plan.name)
            if existing is not None and (existing.running or existing.arn):
                return existing
            job = DemoJob(plan.name)
            job.thread = threading.Thread(
                target=_build, args=(job, clients, plan), daemon=True, name=f"demo-{plan.name}"
            )
            self.jobs[plan.name] = job
            job.thread.start()
            return job


def _build(job: DemoJob, clients: Clients, plan: DemoPlan) -> None:
    try:
        job.arn = create_demo_shop(clients, plan, job._progress).dataset_group_arn
        job._progress("The demo shop is ready", 1.0)
    except Exception as exc:  # shown by whichever session follows the job
        job.error = exc


@st.cache_resource
def demo_jobs() -> DemoJobs:
    return DemoJobs()


def next_demo_name(existing: set[str], base: str = DEMO_NAME) -> str:
    """demo-shop, then demo-shop-2, demo-shop-3, ..."""
    if base not in existing:
        return base
    n = 2
    while f"{base}-{n}" in existing:
        n += 1
    return f"{base}-{n}"


def _marker():
    return config.data_dir() / MARKER


def is_fresh_install(info: BackendInfo) -> bool:
    # Only the dashboard's own engine (data_dir set): an engine started separately may be shared.
    return info.is_local and info.data_dir is not None and not _marker().exists()


def _select(arn: str) -> None:
    """Make `arn` the chosen group from the next run on; the group list is re-read at once."""
    context.select_group(arn)


def _follow(job: DemoJob) -> None:
    """Show the job's progress until it ends, then select its shop (or explain why it failed)."""
    st.session_state[_FOLLOWING] = job.name
    with st.status(f"Setting up the demo shop {job.name!r}", expanded=True) as status:
        bar = st.progress(job.fraction)
        text = st.empty()
        while job.running:  # the build runs in its own thread; this run only watches it
            bar.progress(min(1.0, job.fraction))
            text.write(job.message + "…")
            time.sleep(_POLL_S)
        if job.error is not None:
            status.update(label="The demo shop could not be set up", state="error", expanded=True)
    st.session_state.pop(_FOLLOWING, None)
    if job.error is not None:
        show_problem(job.error, "Setting up the demo shop")
        return
    if job.arn:
        _select(job.arn)
        st.rerun()


def _first_start(clients: Clients, audit: AuditLog) -> DemoJob | None:
    """Claim the first start for this process once; later calls (other runs, tabs) get the same job."""
    jobs = demo_jobs()
    with jobs.lock:
        claimed = jobs.first_start is None
        if claimed:
            jobs.first_start = DemoJob(DEMO_NAME)  # placeholder so a second tab does not claim too
    if not claimed:
        return jobs.jobs.get(DEMO_NAME) or jobs.first_start
    try:
        exists = find_group(clients, DEMO_NAME)  # e.g. made by an earlier dashboard on this engine
    except Exception as exc:  # the backend hiccuped: say so, and try again on the next run
        jobs.first_start = None
        show_problem(exc, "Creating the demo shop")
        return None
    if exists:
        jobs.first_start = None
        return None
    audit.record("dashboard", "system", "create demo shop (first start)", {"name": DEMO_NAME}, True, "started", 0)
    job = jobs.start(clients, DemoPlan(name=DEMO_NAME))
    jobs.first_start = job
    _marker().write_text(json.dumps({"name": DEMO_NAME, "started_at": time.time()}))
    return job


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
        job = run_action("create demo shop", {"name": name}, lambda: demo_jobs().start(clients, DemoPlan(name=name)))
        if job is not None:
            _follow(job)


def demo_sidebar(info: BackendInfo, has_groups: bool) -> None:
    """Called by app.py inside the sidebar, after the dataset group picker."""
    if not info.is_local:
        return
    following = st.session_state.get(_FOLLOWING)
    job = demo_jobs().jobs.get(following) if following else None
    if job is None and not has_groups:
        first = demo_jobs().first_start
        if is_fresh_install(info):
            job = _first_start(context.clients(), context.audit_log())
        elif first is not None and first.arn and find_group(context.clients(), first.name):
            _select(first.arn)  # another tab made it; the cached group list has not caught up yet
            st.rerun()
        else:
            job = first if first is not None and first.running else None
    if job is not None and (job.running or job.arn or job.error):
        _follow(job)
    _offer(has_groups)
