"""Buttons that change things: operators only, confirmed when destructive or billable, audited,
and safe against double submits."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from services.core.audit import FAILED, INTERRUPTED, SUCCEEDED
from services.core.resources import arn_name

from .context import audit_log, role, who
from .feedback import show_problem

T = TypeVar("T")
_RUNNING = "_actions_running"
_DONE = "_actions_done"
DOUBLE_SUBMIT_WINDOW_S = 5.0
# A "running" mark older than this is taken as left behind (its run died with its session's thread
# without reaching `finally`), so the same action may start again rather than stay blocked for good.
RUNNING_MARK_EXPIRY_S = 600.0


def can_operate() -> bool:
    return role() == "operator"


def _key(action: str, params: dict[str, Any]) -> str:
    return f"{action}:{sorted((k, repr(v)) for k, v in params.items())!r}"


def refuse_viewer(what: str = "change anything here") -> bool:
    """True (after saying so) when this session may not act: checked where the action runs, so a
    widget enabled by hand in the browser changes nothing either."""
    if can_operate():
        return False
    st.warning(f"Viewers cannot {what}; ask an operator.", icon=":material/lock:")
    return True


_HIDDEN_FIELDS = ("secret", "token", "key", "tracking", "password")


def _words(name: str) -> str:
    """A class or field name as words: "LaunchedImport" and "job_name" read "launched import", "job name"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower().strip()


def _result_text(result: Any) -> str:
    """What the audit log keeps of a result, in words: its kind and its names and figures, never the data
    a result may carry (frames, files, threads) nor an object's Python repr."""
    if result is None:
        return "ok"
    if isinstance(result, str | int | float | bool):
        return str(result)[:500]
    if isinstance(result, list | tuple | set | dict):
        return f"{len(result):,} {'entry' if len(result) == 1 else 'entries'}"
    parts = []
    if dataclasses.is_dataclass(result):
        fields = [f.name for f in dataclasses.fields(result)]
        named = any(f.endswith("name") for f in fields)
        for f in fields:
            value = getattr(result, f)
            if any(h in f for h in _HIDDEN_FIELDS) or (named and f.endswith("arn")):
                continue
            if isinstance(value, str | int | float | bool) and len(str(value)) <= 200:
                shown = arn_name(value) if isinstance(value, str) and value.startswith("arn:") else value
                parts.append(f"{_words(f)} {shown}")
    kind = _words(type(result).__name__)
    return f"{kind}: {', '.join(parts)}"[:500] if parts else kind


def _follow(row_id: int, result: Any, follow: Callable[[Any], tuple[str, str]]) -> None:
    """In a daemon thread: wait for background work and record how it really ended."""
    log = audit_log()

    def wait() -> None:
        try:
            outcome, text = follow(result)
        except BaseException as exc:  # the follower itself broke: the work's end is unknown
            outcome, text = INTERRUPTED, f"not followed to its end ({type(exc).__name__}: {exc})"
        log.end(row_id, outcome, text)

    threading.Thread(target=wait, name=f"audit-follow-{row_id}", daemon=True).start()


def run_action(
    action: str, params: dict[str, Any], fn: Callable[[], T], success: str | None = None,
    follow: Callable[[T], tuple[str, str]] | None = None,
) -> T | None:
    """Run `fn` once for this action and parameters: audit it, show errors in words, return its result.

    The same action with the same parameters submitted again while it runs, or within a few seconds
    after it finished (a double click), is not run twice. With `follow`, `fn` only starts background
    work: the audit row stays "running" until `follow(result)` (run in a thread) returns the outcome
    (succeeded, failed, interrupted) and its text.
    """
    if refuse_viewer():
        return None
    key = _key(action, params)
    running: dict[str, float] = st.session_state.setdefault(_RUNNING, {})
    done: dict[str, float] = st.session_state.setdefault(_DONE, {})
    now = time.time()
    if key in running and now - running[key] < RUNNING_MARK_EXPIRY_S:
        st.info("This action is already running.", icon=":material/hourglass_top:")
        return None
    if key in done and now - done[key] < DOUBLE_SUBMIT_WINDOW_S:
        st.info("This was just done; not repeating it.", icon=":material/done_all:")
        return None
    running[key] = now
    log = audit_log()
    row_id = log.begin(who(), role(), action, params)
    try:
        result = fn()
    except Exception as exc:  # shown in words; the audit log records the failure
        log.end(row_id, FAILED, f"{type(exc).__name__}: {exc}")
        show_problem(exc, action)
        return None
    except BaseException as exc:  # a rerun, a stop, a shutdown: the action did not finish
        log.end(row_id, INTERRUPTED, f"interrupted ({type(exc).__name__})")
        raise
    finally:
        del running[key]  # set above, before fn ran
    if follow is not None:
        _follow(row_id, result, follow)
    else:
        log.end(row_id, SUCCEEDED, _result_text(result))
    done[key] = time.time()
    if success:
        st.success(success, icon=":material/check_circle:")
    return result


def operator_button(
    label: str, key: str, help: str | None = None, disabled: bool = False, **kwargs: Any,
) -> bool:
    """A button only operators can press (viewers see it disabled, with the reason)."""
    if not can_operate():
        st.button(label, key=key, disabled=True, help="Operators only: you are signed in as a viewer.",
                  **kwargs)
        return False
    return st.button(label, key=key, help=help, disabled=disabled, **kwargs)


def request_confirmation(key: str) -> None:
    """Ask for the second step of `confirmation(key, ...)`: from a button, or a form's submit button."""
    st.session_state[f"_confirm_{key}"] = True


def confirmation(
    key: str, consequence: str, icon: str = ":material/warning:", on_cancel: Callable[[], None] | None = None,
) -> bool:
    """The second step of a destructive or billable action, once requested: the consequence, Confirm and
    Cancel (widget keys "<key>-confirm" and "<key>-cancel"). True once, on Confirm; Cancel forgets the
    request, calls `on_cancel` (e.g. to drop the values a form left waiting) and reruns."""
    flag = f"_confirm_{key}"
    if not st.session_state.get(flag):
        return False
    with st.container(border=True):
        st.warning(consequence, icon=icon)
        yes, no = st.columns(2)
        if yes.button("Confirm", key=f"{key}-confirm", type="primary"):
            del st.session_state[flag]  # set: it was just read
            return True
        if no.button("Cancel", key=f"{key}-cancel"):
            del st.session_state[flag]
            if on_cancel is not None:
                on_cancel()
            st.rerun()
    return False


def confirmed_button(label: str, key: str, consequence: str, **kwargs: Any) -> bool:
    """Two steps for destructive or billable actions: the button, then the consequence and Confirm.

    Returns True once, on Confirm. A form's submit button asks through `request_confirmation` instead.
    """
    if operator_button(label, key=key, **kwargs):
        request_confirmation(key)
    return confirmation(key, consequence)
