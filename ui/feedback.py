"""Errors as plain messages with the next step; never a traceback on the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from services.core.aws_errors import explain

from .text import md

T = TypeVar("T")


def show_problem(exc: BaseException, context: str = "") -> None:
    problem = explain(exc)
    title = f"{context}: {problem.title}" if context else problem.title
    # Titles and details quote file names, headers and failure reasons: shown as text, never as Markdown.
    st.error(f"**{md(title)}.** {md(problem.detail)}\n\n{problem.next_step}", icon=":material/error:")


def attempt(fn: Callable[[], T], context: str = "") -> T | None:
    """Run a read; on failure show the problem and return None (the page carries on)."""
    try:
        return fn()
    except Exception as exc:  # every failure is shown in words, never as a traceback
        show_problem(exc, context)
        return None
