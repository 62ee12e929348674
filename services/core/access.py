"""Who may do what: two roles, and how a sign-in maps to one. Plain Python; the UI lives in ui/auth.py.

viewer    sees everything, changes nothing
operator  imports, training, retrain, campaign changes, deletes
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping
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


# -- sign-in attempts ---------------------------------------------------------------------------------
FREE_FAILURES = 3  # typos cost nothing
LOCKOUT_AFTER = 10  # failures in a row, per name or per client
LOCKOUT_S = 15 * 60
MAX_DELAY_S = 60.0


@dataclass
class _Failures:
    count: int = 0
    last_at: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """Whether a sign-in attempt may be checked now; if not, how long to wait and why."""

    allowed: bool
    wait_s: float = 0.0
    reason: str = ""  # "slowed" or "locked out"


class SignInThrottle:
    """Failed sign-ins, counted per name and per client (address) in this process: after a few, each
    next attempt has to wait longer (1 s, 2 s, 4 s, ... up to a minute); after `LOCKOUT_AFTER` in a
    row the name or client is locked out for `LOCKOUT_S`, even with the right password. An attempt
    made while it has to wait is refused without looking at the password, and counts as a failure.
    A success clears the name's and the client's count. `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, free: int = FREE_FAILURES,
                 lockout_after: int = LOCKOUT_AFTER, lockout_s: float = LOCKOUT_S) -> None:
        self._clock = clock
        self._free, self._lockout_after, self._lockout_s = free, lockout_after, lockout_s
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    @staticmethod
    def _keys(name: str, client: str | None) -> list[str]:
        return [f"name:{name.strip().lower()}", f"client:{client or 'unknown'}"]

    def _verdict(self, entry: _Failures, now: float) -> Verdict:
        if entry.locked_until > now:
            return Verdict(False, entry.locked_until - now, "locked out")
        if entry.count >= self._free:
            delay = min(MAX_DELAY_S, 2.0 ** (entry.count - self._free))
            if entry.last_at + delay > now:
                return Verdict(False, entry.last_at + delay - now, "slowed")
        return Verdict(True)

    def check(self, name: str, client: str | None) -> Verdict:
        """May this attempt be checked now? The longest wait of the name and the client wins."""
        now = self._clock()
        with self._lock:
            verdicts = [self._verdict(self._failures.get(k, _Failures()), now) for k in self._keys(name, client)]
        refused = [v for v in verdicts if not v.allowed]
        return max(refused, key=lambda v: v.wait_s) if refused else Verdict(True)

    def failed(self, name: str, client: str | None) -> Verdict:
        """Count a failure (not during a lockout: that would lock a person out for ever); the verdict
        for the next attempt."""
        now = self._clock()
        with self._lock:
            for key in self._keys(name, client):
                entry = self._failures.setdefault(key, _Failures())
                if entry.locked_until > now:
                    continue
                if entry.locked_until:  # a lockout has ended: start afresh
                    entry.count, entry.locked_until = 0, 0.0
                entry.count += 1
                entry.last_at = now
                if entry.count >= self._lockout_after:
                    entry.locked_until = now + self._lockout_s
        return self.check(name, client)

    def succeeded(self, name: str, client: str | None) -> None:
        with self._lock:
            for key in self._keys(name, client):
                self._failures.pop(key, None)
