"""Optional sign-in: Streamlit's OIDC login when configured, else a password, else open.

With no sign-in configured the dashboard is open (local mode: documented; AWS mode: a warning in the
sidebar says that anyone who can open the page can retrain and delete).
"""

from __future__ import annotations

import streamlit as st

from services.core import access
from services.core.config import BackendInfo

from . import context
from .text import md


def _secrets() -> dict:
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # no secrets.toml: nothing configured
        return {}


def _config() -> access.AccessConfig:
    return access.load_config(_secrets())


def sign_in_gate(info: BackendInfo) -> None:
    """Sets session_state['role'] and ['signed_in_user'], or shows the sign-in form and stops the page."""
    config = _config()
    if config.oidc:
        user = getattr(st, "user", None)
        if not (user and user.get("is_logged_in")):
            st.title("Personalize dashboard")
            st.write("Sign in to continue.")
            if st.button("Sign in", type="primary", icon=":material/login:"):
                st.login()
            st.stop()
        email = user.get("email") or user.get("name") or "signed-in user"
        st.session_state["signed_in_user"] = email
        st.session_state["role"] = access.effective_role(config, access.role_for_email(config, email))
        return
    if config.operator_password or config.viewer_password:
        if "role" not in st.session_state or not st.session_state.get("signed_in_user"):
            _password_form(config)
            st.stop()
        return
    st.session_state["role"] = access.open_role(config)
    st.session_state.setdefault("signed_in_user", None)


@st.cache_resource
def sign_in_throttle() -> access.SignInThrottle:
    """One count of failed sign-ins for the whole process: a new session or tab does not reset it."""
    return access.SignInThrottle()


def _client() -> str | None:
    """The browser's address as Streamlit sees it (behind a proxy: the proxy's), None where unknown."""
    try:
        return st.context.ip_address
    except Exception:  # no request context (bare mode, tests)
        return None


def _wait_words(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{max(1, round(seconds))} s"


def _refuse(name: str, client: str | None, reason: str, verdict: access.Verdict) -> None:
    """Say no, and write the failed sign-in to the audit log (the name as typed, never the password)."""
    context.audit_log().record(name.strip() or "(no name)", "-", "sign in", {"client": client or "unknown"},
                               False, reason, 0.0)
    if verdict.allowed:
        st.error("Wrong password, or no name given. Ask an operator for the password.")
    elif verdict.reason == "locked out":
        st.error(f"Too many failed sign-ins: locked out for {_wait_words(verdict.wait_s)}. Ask an operator "
                 "if you have forgotten the password.")
    else:
        st.error(f"Wrong password, or no name given; too many failed sign-ins: try again in "
                 f"{_wait_words(verdict.wait_s)}.")


def _password_form(config: access.AccessConfig) -> None:
    st.title("Personalize dashboard")
    with st.form("sign-in"):
        name = st.text_input("Your name (for the audit log)")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    throttle, client = sign_in_throttle(), _client()
    waiting = throttle.check(name, client)
    if not waiting.allowed:  # the password is not even looked at while a wait or a lockout lasts
        _refuse(name, client, f"refused unchecked: {waiting.reason}", throttle.failed(name, client))
        return
    role = access.role_for_password(config, password)
    if role is None or not name.strip():
        _refuse(name, client, "wrong password" if role is None else "no name given", throttle.failed(name, client))
        return
    throttle.succeeded(name, client)
    st.session_state["signed_in_user"] = name.strip()
    st.session_state["role"] = access.effective_role(config, role)
    st.rerun()


def sidebar_identity(info: BackendInfo) -> None:
    config = _config()
    role = st.session_state.get("role", access.VIEWER)
    who = st.session_state.get("signed_in_user")
    icon = ":material/admin_panel_settings:" if role == access.OPERATOR else ":material/visibility:"
    st.caption(f"{icon} {md(who or 'Not signed in')} · **{role}**")
    if config.sign_in_required and who:
        if st.button("Sign out", key="sign-out"):
            if config.oidc:
                st.logout()
            for key in ("role", "signed_in_user"):
                st.session_state.pop(key, None)
            st.rerun()
    elif not config.sign_in_required and not info.is_local:
        st.warning("No sign-in is configured: anyone who can open this page can retrain and delete in "
                   "your AWS account. See the README's Access section.", icon=":material/warning:")
