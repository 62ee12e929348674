"""Who may do what: two roles, and how a sign-in maps to one. Plain Python; the UI lives in ui/auth.py.

viewer    sees everything, changes nothing
operator  imports, training, retrain, campaign changes, deletes
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VIEWER = "viewer"
OPERATOR = "operator"
ROLES = (VIEWER, OPERATOR)


@dataclass(frozen=True)
class AccessConfig:
    """How sign-in works here, from `.streamlit/secrets.toml` and the environment."""

    oidc: bool  # Streamlit's st.login is configured ([auth] in secrets)
    operator_password: str | None
    viewer_password: str | None
    operators: tuple[str, ...]  # e-mails (OIDC) that get the operator role
    forced_role: str | None  # PERSONALIZE_DASHBOARD_ROLE: e.g. a read-only kiosk

    @property
    def sign_in_required(self) -> bool:
        return self.oidc or bool(self.operator_password or self.viewer_password)


def load_config(secrets: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> AccessConfig:
    secrets = secrets or {}
    env = os.environ if env is None else env
    passwords = secrets.get("passwords", {}) if isinstance(secrets.get("passwords", {}), Mapping) else {}
    roles = secrets.get("roles", {}) if isinstance(secrets.get("roles", {}), Mapping) else {}
    forced = (env.get("PERSONALIZE_DASHBOARD_ROLE") or "").strip().lower() or None
    if forced is not None and forced not in ROLES:
        raise ValueError(f"PERSONALIZE_DASHBOARD_ROLE must be viewer or operator, not {forced!r}.")
    return AccessConfig(
        oidc="auth" in secrets,
        operator_password=env.get("PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD") or passwords.get("operator"),
        viewer_password=env.get("PERSONALIZE_DASHBOARD_VIEWER_PASSWORD") or passwords.get("viewer"),
        operators=tuple(str(e).lower() for e in roles.get("operators", ())),
        forced_role=forced,
    )


def role_for_password(config: AccessConfig, password: str) -> str | None:
    """Constant-time comparison; the operator password wins if both match."""
    given = password.encode()
    if config.operator_password and hmac.compare_digest(given, config.operator_password.encode()):
        return OPERATOR
    if config.viewer_password and hmac.compare_digest(given, config.viewer_password.encode()):
        return VIEWER
    return None


def role_for_email(config: AccessConfig, email: str | None) -> str:
    return OPERATOR if email and email.lower() in config.operators else VIEWER


def open_role(config: AccessConfig) -> str:
    """The role when nobody signs in (no sign-in configured)."""
    return config.forced_role or OPERATOR


def effective_role(config: AccessConfig, signed_in_role: str) -> str:
    """A forced viewer role caps whatever the sign-in gave."""
    return VIEWER if config.forced_role == VIEWER else signed_in_role
