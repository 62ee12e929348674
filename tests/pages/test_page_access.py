"""Sign-in and roles through the real app (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.support.apptest import make_app


def _app(monkeypatch, engine, tmp_path, **env) -> AppTest:
    return make_app(monkeypatch, engine.url, tmp_path, **env)


def test_password_sign_in(monkeypatch, engine, tmp_path):
    at = _app(monkeypatch, engine, tmp_path, PERSONALIZE_DASHBOARD_OPERATOR_PASSWORD="open-sesame",
              PERSONALIZE_DASHBOARD_VIEWER_PASSWORD="just-looking").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Personalize dashboard"]  # the gate, not a page
    at.text_input[0].input("Pat")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("Wrong password" in e.value for e in at.error)
    assert "role" not in at.session_state
    at.text_input[1].input("just-looking")
    at.button[0].click().run()
    assert at.session_state["role"] == "viewer"
    assert at.session_state["signed_in_user"] == "Pat"
    assert any("Pat" in c.value and "viewer" in c.value for c in at.sidebar.caption)


def test_open_in_local_mode_as_operator(monkeypatch, engine, tmp_path):
    at = _app(monkeypatch, engine, tmp_path).run()
    assert not at.exception
    assert at.session_state["role"] == "operator"
    assert not at.sidebar.warning  # the no-sign-in warning is for AWS mode only


def test_forced_viewer(monkeypatch, engine, tmp_path):
    at = _app(monkeypatch, engine, tmp_path, PERSONALIZE_DASHBOARD_ROLE="viewer").run()
    assert at.session_state["role"] == "viewer"


def test_audit_log_page_lists_and_filters(monkeypatch, engine, tmp_path):
    from services.core.audit import AuditLog

    log = AuditLog(tmp_path / "audit.sqlite3")
    log.record("ana", "operator", "retrain", {"solution": "shop"}, True, "ok", 1.5)
    log.record("bo", "operator", "delete campaign", {"campaign": "c"}, False, "ResourceInUse", 0.2)
    at = _app(monkeypatch, engine, tmp_path).run()
    at.switch_page("pages/audit_log.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert set(frame["action"]) == {"retrain", "delete campaign"}
    result_box = next(s for s in at.selectbox if s.label == "Result")
    result_box.select("Failed").run()
    assert list(at.dataframe[0].value["who"]) == ["bo"]
