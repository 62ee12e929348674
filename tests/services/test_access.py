from __future__ import annotations

import pytest

from services.core import access


def test_no_sign_in_configured_is_open_operator():
    config = access.load_config({}, {})
    assert not config.sign_in_required
    assert access.open_role(config) == access.OPERATOR


def test_forced_viewer_caps_every_role():
    config = access.load_config({}, {"PERSONALIZE_DASHBOARD_ROLE": "viewer"})
    assert access.open_role(config) == access.VIEWER
    assert access.effective_role(config, access.OPERATOR) == access.VIEWER
    with pytest.raises(ValueError, match="viewer or operator"):
        access.load_config({}, {"PERSONALIZE_DASHBOARD_ROLE": "admin"})


def test_passwords_map_to_roles():
    config = access.load_config({"passwords": {"viewer": "look"}}, {"PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD": "act"})
    assert config.sign_in_required
    assert access.role_for_password(config, "act") == access.OPERATOR
    assert access.role_for_password(config, "look") == access.VIEWER
    assert access.role_for_password(config, "guess") is None
    assert access.role_for_password(config, "") is None


def test_oidc_operators_by_email():
    config = access.load_config({"auth": {"redirect_uri": "x"}, "roles": {"operators": ["Ops@Shop.example"]}}, {})
    assert config.oidc
    assert access.role_for_email(config, "ops@shop.example") == access.OPERATOR
    assert access.role_for_email(config, "pm@shop.example") == access.VIEWER
    assert access.role_for_email(config, None) == access.VIEWER
