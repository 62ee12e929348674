"""Campaigns page (AppTest): after *Update to newest* the page redraws from fresh reads at once and follows
the update until it settles, instead of showing the stale warning and the red button until one leaves."""

from __future__ import annotations

import pytest

from services.models import solutions
from tests.support.engine_process import wait_for
from tests.support.shops import open_page, small_shop, texts

UP = "aws-user-personalization"
NAME = "pfollow-shop-user-personalization"
FOLLOW = "_campaigns_following"


@pytest.fixture(scope="module")
def shop(engine, tmp_path_factory):
    with small_shop(engine, tmp_path_factory.mktemp("page-follow"), "pfollow-shop") as s:
        yield s


def test_update_to_newest_redraws_and_follows_until_settled(shop, monkeypatch):
    arn = shop.result.solutions[UP]
    version = solutions.train(shop.p, arn)
    wait_for(lambda: solutions.versions_table(shop.p, arn), lambda t: not solutions.is_training(t), timeout=60)
    at = open_page(monkeypatch, shop, "pages/campaigns.py")
    assert any("Stale" in w.value for w in at.warning)
    assert any("serves an older version" in w.value for w in at.warning)  # one campaign: "serves"
    assert not any("Campaigns page" in w.value for w in at.warning)  # this is the Campaigns page
    at.button(key=f"upd_{NAME}").click().run()
    assert not at.exception, at.exception
    # The same run that started the update no longer shows the stale state it replaced.
    assert not any("Stale" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key=f"upd_{NAME}").disabled
    assert "Update started" in texts(at)
    if shop.serving(UP) != version:  # still updating: the list follows it (the fragment's timer)
        assert at.session_state[FOLLOW]
        assert "Updating to" in texts(at)
    wait_for(lambda: shop.serving(UP), lambda v: v == version, timeout=60)
    for _ in range(3):  # the timer's reruns, until the page sees the update settle
        at.run()
        if not at.session_state[FOLLOW]:
            break
    assert not at.exception, at.exception
    assert not at.session_state[FOLLOW]
    assert any("Serves the newest" in s.value for s in at.success)
