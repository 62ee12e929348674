"""Buttons that change things: operators only, audited, and safe against double submits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from .context import audit_log, role, who
from .feedback import show_problem

T = TypeVar("T")
_RUNNING = "_actions_running"


def can_operate() -> bool:
    return role() == "operator"


def run_action(action: str, params: dict[str, Any], fn: Callable[[], T], success: str | None = None) -> T | None:
    """Run `fn` once for this action and parameters: audit it, show errors in words, return its result.

    A second submit of the same action while the first runs (a double click) is ignored.
    """
    if not can_operate():
        st.warning("Viewers cannot change anything here; ask an operator.", icon=":material/lock:")
        return None
    running: dict[str, float] = st.session_state.setdefault(_RUNNING, {})
    key = f"{action}:{sorted(params.items())!r}"
    if key in running and time.time() - running[key] < 30:
        st.info("This action is already running.", icon=":material/hourglass_top:")
        return None
    running[key] = time.time()
    try:
        with audit_log().action(who(), role(), action, params) as outcome:
            result = fn()
            outcome.result = str(result)[:500] if result is not None else "ok"
    except Exception as exc:  # shown in words; the audit log has recorded the failure
        show_problem(exc, action)
        return None
    finally:
        running.pop(key, None)
    if success:
        st.success(success, icon=":material/check_circle:")
    return result
