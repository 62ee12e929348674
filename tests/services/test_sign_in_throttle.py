"""Failed sign-ins are slowed, then locked out for a while, per name and per client (clock injected)."""

from __future__ import annotations

from services.core.access import LOCKOUT_S, SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_typos_cost_nothing_then_attempts_wait_longer():
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(3):
        assert throttle.check("pat", "10.0.0.1").allowed
        throttle.failed("pat", "10.0.0.1")
    verdict = throttle.check("pat", "10.0.0.1")
    assert not verdict.allowed and verdict.reason == "slowed" and verdict.wait_s == 1.0
    clock.now += 1.0
    assert throttle.check("pat", "10.0.0.1").allowed
    throttle.failed("pat", "10.0.0.1")
    assert throttle.check("pat", "10.0.0.1").wait_s == 2.0


def test_forty_wrong_passwords_lock_out_until_the_lockout_ends():
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(40):  # as fast as a script can: each refused attempt counts too
        throttle.failed("pat", "10.0.0.1")
        clock.now += 0.1
    verdict = throttle.check("pat", "10.0.0.1")
    assert not verdict.allowed and verdict.reason == "locked out"
    clock.now += LOCKOUT_S - 60
    assert not throttle.check("pat", "10.0.0.1").allowed  # the right password would not even be checked
    clock.now += 61
    assert throttle.check("pat", "10.0.0.1").allowed
    throttle.succeeded("pat", "10.0.0.1")
    assert throttle.check("pat", "10.0.0.1").allowed


def test_per_name_and_per_client():
    clock = Clock()
    throttle = SignInThrottle(clock)
    for i in range(10):  # one client trying many names
        throttle.failed(f"name-{i}", "10.0.0.1")
    assert throttle.check("someone-new", "10.0.0.1").reason == "locked out"
    assert throttle.check("someone-new", "10.0.0.2").allowed
    for i in range(10):  # one name tried from many clients
        throttle.failed("ops", f"10.0.1.{i}")
    assert throttle.check("OPS ", "10.0.0.9").reason == "locked out"
