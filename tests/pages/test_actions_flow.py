"""ui.actions in a real Streamlit run (AppTest of a two-button script): what an operator's click does
once, twice, when it fails and when its work ends later, what a viewer sees, what the audit log keeps,
and the two steps of a confirmed action."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.core.audit import AuditLog
from tests.support.engine_process import wait_for
from ui import actions


def _script() -> None:
    import streamlit as st

    from ui import actions

    state = st.session_state
    state.setdefault("calls", [])
    params = state.get("params", {"f": "a"})

    def fn():
        state["calls"].append(params)
        if state.get("nested"):  # the same action submitted again while this one runs
            state["inner"] = actions.run_action(state.get("action", "import"), params, lambda: "inner ran")
        if state.pop("rerun", False):  # a rerun while the action runs: it did not finish
            st.rerun()
        if state.get("fail"):
            raise ValueError("the bucket <b>shop</b> is gone")
        return state.get("result")

    if st.button("Go", key="go"):
        state["returned"] = actions.run_action(state.get("action", "import"), params, fn,
                                               success=state.get("success"), follow=state.get("follow"))
    if actions.operator_button("Delete", key="delete", help="Removes it", type="primary"):
        state["pressed"] = True
    actions.operator_button("Archive", key="archive", disabled=True)
    if actions.confirmed_button("Stop", key="stop", consequence="Stopping ends serving.",
                               help="Stops serving"):
        state["confirmed"] = state.get("confirmed", 0) + 1
    if actions.confirmation("form", "The form's consequence.", on_cancel=lambda: state.update(cancelled=True)):
        state["form_confirmed"] = True


@pytest.fixture
def app(monkeypatch, tmp_path):
    import streamlit as st

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()  # the audit log is a cached resource keyed by path
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["role"] = "operator"
    at.session_state["signed_in_user"] = "ana"
    return at.run()


def _audit(tmp_path: Path):
    return AuditLog(tmp_path / "audit.sqlite3").query()


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _click(at: AppTest, key: str) -> AppTest:
    at = _button(at, key).click().run()
    assert not at.exception, at.exception
    return at


def test_an_operator_click_runs_once_is_audited_and_a_double_click_is_not_repeated(app, tmp_path):
    app.session_state["success"] = "Imported."
    at = _click(app, "go")
    assert at.session_state["calls"] == [{"f": "a"}]
    assert [(s.value, s.icon) for s in at.success] == [("Imported.", ":material/check_circle:")]
    log = _audit(tmp_path)
    assert list(log["outcome"]) == ["succeeded"] and list(log["who"]) == ["ana"]
    assert list(log["role"]) == ["operator"] and list(log["result"]) == ["ok"]

    at = _click(at, "go")  # the same click again, within the double-submit window
    assert at.session_state["calls"] == [{"f": "a"}]
    assert at.session_state["returned"] is None
    assert any("just done" in i.value for i in at.info)
    assert len(_audit(tmp_path)) == 1

    at.session_state["params"] = {"f": "b"}  # other parameters are another action
    at = _click(at, "go")
    assert at.session_state["calls"] == [{"f": "a"}, {"f": "b"}]


def test_the_same_click_after_the_window_runs_again(app, tmp_path, monkeypatch):
    at = _click(app, "go")
    later = time.time() + actions.DOUBLE_SUBMIT_WINDOW_S + 1
    monkeypatch.setattr(actions.time, "time", lambda: later)
    at = _click(at, "go")
    assert at.session_state["calls"] == [{"f": "a"}, {"f": "a"}]
    assert not at.info


def test_a_failure_is_shown_as_text_audited_and_may_be_retried_at_once(app, tmp_path):
    app.session_state["fail"] = True
    app.session_state["success"] = "Imported."
    at = _click(app, "go")
    assert at.session_state["returned"] is None and not at.success
    error = " ".join(e.value for e in at.error)
    assert "import: " in error and "the bucket \\<b>shop" in error  # named, and escaped: text, not HTML
    log = _audit(tmp_path)
    assert list(log["outcome"]) == ["failed"]
    assert log["result"].iloc[0].startswith("ValueError: the bucket")

    at = _click(at, "go")  # a failed action is not "just done": the retry runs
    assert len(at.session_state["calls"]) == 2 and not at.info


def test_the_same_action_is_not_started_again_while_it_runs(app, tmp_path):
    app.session_state["nested"] = True
    app.session_state["result"] = "outer ran"
    at = _click(app, "go")
    assert at.session_state["inner"] is None and at.session_state["returned"] == "outer ran"
    assert [i.value for i in at.info] == ["This action is already running."]
    assert list(_audit(tmp_path)["outcome"]) == ["succeeded"] and list(_audit(tmp_path)["result"]) == ["outer ran"]


def test_followed_work_stays_running_until_its_follower_says_how_it_ended(app, tmp_path):
    import threading

    release = threading.Event()

    def follow(result):
        release.wait(10)
        return "failed", f"the job behind {result} failed"

    app.session_state["result"] = "job-1"
    app.session_state["follow"] = follow
    at = _click(app, "go")
    assert at.session_state["returned"] == "job-1"
    assert list(_audit(tmp_path)["outcome"]) == ["running"]
    # The follower is a named daemon thread: it never holds up the dashboard's shutdown.
    followers = [t for t in threading.enumerate() if t.name.startswith("audit-follow-")]
    assert len(followers) == 1 and followers[0].daemon
    release.set()
    log = wait_for(lambda: _audit(tmp_path), lambda log: list(log["outcome"]) != ["running"], timeout=10)
    assert list(log["outcome"]) == ["failed"] and list(log["result"]) == ["the job behind job-1 failed"]


def test_a_follower_that_breaks_records_the_work_as_interrupted(app, tmp_path):
    def follow(result):
        raise RuntimeError("lost the connection")

    app.session_state["follow"] = follow
    _click(app, "go")
    log = wait_for(lambda: _audit(tmp_path), lambda log: list(log["outcome"]) != ["running"], timeout=10)
    assert list(log["outcome"]) == ["interrupted"]
    assert log["result"].iloc[0] == "not followed to its end (RuntimeError: lost the connection)"


def test_a_viewer_is_refused_and_sees_disabled_buttons(app, tmp_path):
    app.session_state["role"] = "viewer"
    at = app.run()
    assert _button(at, "delete").disabled and _button(at, "stop").disabled
    assert _button(at, "delete").help == "Operators only: you are signed in as a viewer."
    assert _button(at, "delete").label == "Delete" and _button(at, "delete").proto.type == "primary"
    at = _click(at, "go")
    assert at.session_state["calls"] == [] and at.session_state["returned"] is None
    assert [(w.value, w.icon) for w in at.warning] == [
        ("Viewers cannot change anything here; ask an operator.", ":material/lock:")]
    assert _audit(tmp_path).empty


def test_an_operator_button_is_enabled_with_its_help(app):
    delete = _button(app, "delete")
    assert not delete.disabled and delete.help == "Removes it"
    assert delete.label == "Delete" and delete.proto.type == "primary"
    assert _button(app, "archive").disabled  # an operator's button may still be disabled by its page
    at = _click(app, "delete")
    assert at.session_state["pressed"] is True


def test_a_confirmed_button_asks_then_acts_once_on_confirm(app):
    assert not any(b.key == "stop-confirm" for b in app.button)
    assert (_button(app, "stop").label, _button(app, "stop").help) == ("Stop", "Stops serving")
    at = _click(app, "stop")
    assert "confirmed" not in at.session_state
    assert [w.value for w in at.warning] == ["Stopping ends serving."]
    assert at.warning[0].icon == ":material/warning:"
    confirm, cancel = _button(at, "stop-confirm"), _button(at, "stop-cancel")
    assert (confirm.label, confirm.proto.type, cancel.label) == ("Confirm", "primary", "Cancel")
    boxes = [b for b in at.main.children.values() if type(b).__name__ == "Block"]
    assert [b.proto.flex_container.border for b in boxes] == [True]  # the consequence stands apart in a box
    at = _click(at, "stop-confirm")
    assert at.session_state["confirmed"] == 1
    at = at.run()
    assert at.session_state["confirmed"] == 1 and not any(b.key == "stop-confirm" for b in at.button)


def test_cancel_forgets_the_request_and_calls_back(app):
    actions_flag = "_confirm_form"
    app.session_state[actions_flag] = True
    at = app.run()
    assert [w.value for w in at.warning] == ["The form's consequence."]
    at = _click(at, "form-cancel")
    assert at.session_state["cancelled"] is True and "form_confirmed" not in at.session_state
    assert not any(b.key == "form-confirm" for b in at.button)


@dataclass
class LaunchedImport:
    job_name: str
    job_arn: str
    rows: int
    secret_key: str
    note: str


@dataclass
class Wide:
    first: str
    second: str
    third: str


@dataclass
class Unnamed:
    solution_arn: str


def test_the_audit_text_of_a_result_names_it_in_words_without_secrets_or_data():
    text = actions._result_text(LaunchedImport("nightly", "arn:aws:personalize:us-east-1:1:import/nightly", 1200,
                                               "hunter2", "x" * 201))
    assert text == "launched import: job name nightly, rows 1200"
    assert actions._result_text(Unnamed("arn:aws:personalize:us-east-1:1:solution/shop")) == (
        "unnamed: solution arn shop")
    assert actions._result_text(None) == "ok"
    assert actions._result_text("y" * 600) == "y" * 500
    assert actions._result_text(7) == "7"
    assert actions._result_text([1]) == "1 entry"
    assert actions._result_text({"a": 1, "b": 2}) == "2 entries"
    assert actions._result_text(object()) == "object"
    assert actions._result_text(Unnamed("a" * 200)) == f"unnamed: solution arn {'a' * 200}"
    long = actions._result_text(Wide("n" * 200, "o" * 200, "p" * 200))
    assert len(long) == 500 and long.startswith("wide: first nnn") and long.endswith("ppp")


def test_the_double_submit_notice_the_audited_parameters_and_the_window_edge(app, tmp_path, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(actions.time, "time", lambda: clock[0])
    at = _click(app, "go")
    row = _audit(tmp_path).iloc[0]  # the audit row keeps what was asked for, and which action
    assert (row["action"], row["params"]) == ("import", json.dumps({"f": "a"}))
    at = _click(at, "go")
    assert [(i.value, i.icon) for i in at.info] == [("This was just done; not repeating it.", ":material/done_all:")]
    clock[0] += actions.DOUBLE_SUBMIT_WINDOW_S  # the window is open-ended: at its edge the click runs
    at = _click(at, "go")
    assert len(at.session_state["calls"]) == 2 and not at.info
    at.session_state["action"] = "export"  # another action with the same parameters is not a repeat
    at = _click(at, "go")
    assert len(at.session_state["calls"]) == 3 and not at.info


def test_the_already_running_notice_has_its_icon(app):
    app.session_state["nested"] = True
    at = _click(app, "go")
    assert [i.icon for i in at.info] == [":material/hourglass_top:"]


def test_an_action_cut_short_by_a_rerun_is_audited_as_interrupted(app, tmp_path):
    app.session_state["rerun"] = True
    at = _click(app, "go")
    log = _audit(tmp_path)
    assert list(log["outcome"]) == ["interrupted"] and list(log["result"]) == ["interrupted (RerunException)"]
    at = _click(at, "go")  # not left "running": the same click runs again at once
    assert len(at.session_state["calls"]) == 2


def test_a_running_mark_blocks_until_its_expiry_then_the_action_may_start_again(app, monkeypatch):
    clock = [2_000_000.0]
    monkeypatch.setattr(actions.time, "time", lambda: clock[0])
    key = actions._key("import", {"f": "a"})
    # A mark left behind by a run that died is taken as stale after ten minutes, not before.
    app.session_state[actions._RUNNING] = {key: clock[0] - 599.0}
    at = _click(app, "go")
    assert [i.value for i in at.info] == ["This action is already running."] and at.session_state["calls"] == []
    at.session_state[actions._RUNNING] = {key: clock[0] - 600.0}
    at = _click(at, "go")  # at ten minutes exactly the mark no longer blocks
    assert at.session_state["calls"] == [{"f": "a"}] and not at.info
