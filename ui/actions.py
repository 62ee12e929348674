"""Buttons that change things: operators only, confirmed when destructive or billable, audited,
and safe against double submits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from .context import audit_log, role, who
from .feedback import show_problem

T = TypeVar("T")
_RUNNING = "_actions_running"
_DONE = "_actions_done"
DOUBLE_SUBMIT_WINDOW_S = 5.0


def can_operate() -> bool:
    return role() == "operator"


def _key(action: str, params: dict[str, Any]) -> str:
    return f"{action}:{sorted((k, repr(v)) for k, v in params.items())!r}"


def run_action(
    action: str, params: dict[str, Any], fn: Callable[[], T], success: str | None = None,
) -> T | None:
    """Run `fn` once for this action and parameters: audit it, show errors in words, return its result.

    The same action with the same parameters submitted again while it runs, or within a few seconds
    after it finished (a double click), is not run twice.
    """
    if not can_operate():
        st.warning("Viewers cannot change anything here; ask an operator.", icon=":material/lock:")
        return None
    key = _key(action, params)
    running: dict[str, float] = st.session_state.setdefault(_RUNNING, {})
    done: dict[str, float] = st.session_state.setdefault(_DONE, {})
    now = time.time()
    if key in running and now - running[key] < 600:
        st.info("This action is already running.", icon=":material/hourglass_top:")
        return None
    if key in done and now - done[key] < DOUBLE_SUBMIT_WINDOW_S:
        st.info("This was just done; not repeating it.", icon=":material/done_all:")
        return None
    running[key] = now
    try:
        with audit_log().action(who(), role(), action, params) as outcome:
            result = fn()
            outcome.result = str(result)[:500] if result is not None else "ok"
    except Exception as exc:  # shown in words; the audit log has recorded the failure
        show_problem(exc, action)
        return None
    finally:
        running.pop(key, None)
    done[key] = time.time()
    if success:
        st.success(success, icon=":material/check_circle:")
    return result


def operator_button(label: str, key: str, help: str | None = None, **kwargs: Any) -> bool:
    """A button only operators can press (viewers see it disabled, with the reason)."""
    disabled = bool(kwargs.pop("disabled", False))
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
            st.session_state.pop(flag, None)
            return True
        if no.button("Cancel", key=f"{key}-cancel"):
            st.session_state.pop(flag, None)
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
