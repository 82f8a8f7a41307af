"""The visit, its idle timer and its privacy wipe (pure logic; time is a fake clock)."""
from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import DeviceState, Status, StatusChange
from drivers.idcard.identity import Identity
from kiosk.session import EndReason, IdleState, IdleTimer, Phase, Session, SessionEvent, Visit

NAME = "张三丰"
ID_NUMBER = "44080319800101002X"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity() -> Identity:
    return Identity(name=NAME, gender="女", nation="汉族", birth_date=date(1980, 1, 1), address="广东省湛江市麻章区",
                    id_number=ID_NUMBER, authority="湛江市公安局麻章分局", valid_from=date(2015, 1, 1),
                    valid_to=None, photo=b"WLT" * 100)


def reachable(obj, seen=None):
    """Every object reachable from ``obj`` through attributes and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    elif callable(obj) and getattr(obj, "__closure__", None):
        children = [c.cell_contents for c in obj.__closure__]
    else:
        children = []
    for child in children:
        yield from reachable(child, seen)


def card_change(old: str, new: str, kind: str = "idcard") -> StatusChange:
    return StatusChange("reader", kind, DeviceState(Status.ONLINE, {"card": old}), DeviceState(Status.ONLINE, {"card": new}))


# -- IdleTimer --------------------------------------------------------------------------
def test_idle_then_warning_then_expired():
    timer = IdleTimer(0.0, idle_timeout=60, warning=20)
    assert timer.tick(10) == IdleState(Phase.ACTIVE, 50)
    assert timer.tick(60) == IdleState(Phase.WARNING, 20)
    assert timer.tick(75) == IdleState(Phase.WARNING, 5)
    assert timer.tick(80).phase == Phase.EXPIRED
    timer.touch(81)  # too late: an expired visit stays expired
    assert timer.tick(82).phase == Phase.EXPIRED


def test_touch_and_extend_restart():
    timer = IdleTimer(0.0, idle_timeout=60, warning=20)
    timer.touch(50)
    assert timer.tick(100) == IdleState(Phase.ACTIVE, 10)
    assert timer.tick(115).phase == Phase.WARNING
    timer.extend(115)
    assert timer.tick(116) == IdleState(Phase.ACTIVE, 59)


def test_warn_starts_the_countdown_now():
    timer = IdleTimer(0.0)
    timer.warn(5)
    assert timer.tick(5) == IdleState(Phase.WARNING, 20)
    assert timer.tick(25).phase == Phase.EXPIRED


def test_bad_timeouts_are_refused():
    with pytest.raises(ValueError):
        IdleTimer(0, idle_timeout=0)


OPS = st.lists(st.tuples(st.sampled_from(["touch", "extend", "tick", "warn"]), st.floats(-5, 200)), max_size=40)


@settings(max_examples=300)
@given(OPS, st.floats(1, 100), st.floats(1, 50))
def test_idle_timer_model(ops, idle, warning):
    """Against a simple model: expiry happens exactly when idle+warning passed since the
    last restart (or warning since a warn), and never goes back."""
    timer = IdleTimer(0.0, idle, warning)
    now, active_until, expires, expired = 0.0, idle, idle + warning, False
    for op, dt in ops:
        now = max(now, now + dt)  # the timer treats a clock going back as standing still
        expired = expired or now >= expires
        if op in ("touch", "extend"):
            getattr(timer, op)(now)
            if not expired:
                active_until, expires = now + idle, now + idle + warning
        elif op == "warn":
            timer.warn(now)
            if not expired and now < active_until:
                active_until, expires = now, now + warning
        state = timer.tick(now)
        if expired:
            assert state == IdleState(Phase.EXPIRED, 0.0)
        elif now >= active_until:
            assert state.phase == Phase.WARNING and 0 < state.seconds_left <= warning
        else:
            assert state.phase == Phase.ACTIVE and 0 < state.seconds_left <= idle


# -- Visit --------------------------------------------------------------------------------
def test_visit_dir_is_private_and_wipe_shreds(tmp_path: Path):
    visit = Visit(0.0, tmp_path)
    assert stat.S_IMODE(visit.dir.stat().st_mode) == 0o700
    scan = visit.scan_path(".png")
    scan.write_bytes(b"secret scan" * 1000)
    (visit.dir / "stray.tmp").write_bytes(b"also secret")
    image = bytearray(b"camera frame")
    visit.images.append(image)
    visit.identity = identity()
    visit.form["name"] = NAME
    folder = visit.dir
    visit.wipe()
    assert not folder.exists() and visit.dir is None
    assert image == bytearray(len(image))  # zeroed in place, for anyone still holding it
    assert (visit.identity, visit.form, visit.images, visit.scans) == (None, {}, [], [])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        visit.scan_path()


def test_wipe_overwrites_before_deleting(tmp_path: Path):
    """A second hard link to the scan shows what was left on disk: zeros only."""
    visit = Visit(0.0, tmp_path)
    scan = visit.scan_path(".jpg")
    scan.write_bytes(b"\xffIDCARD" * 500)
    witness = tmp_path / "witness"
    witness.hardlink_to(scan)
    visit.wipe()
    assert witness.read_bytes() == bytes(3500)


# -- Session ------------------------------------------------------------------------------
def make_session(tmp_path: Path) -> tuple[Session, Clock, list[SessionEvent]]:
    clock = Clock()
    session = Session(idle_timeout=60, warning=20, clock=clock, temp_root=tmp_path)
    events: list[SessionEvent] = []
    session.subscribe(events.append)
    return session, clock, events


def test_first_touch_starts_idle_wipes(tmp_path: Path):
    session, clock, events = make_session(tmp_path)
    assert session.tick() is None and not session.active
    session.touch()
    visit = session.visit
    visit.identity = identity()
    visit.form.update(name=NAME, id_number=ID_NUMBER, phone="13800000000")
    visit.scan_path().write_bytes(ID_NUMBER.encode())
    visit.images.append(b"photo of " + NAME.encode())
    folder = visit.dir
    clock.now += 59
    assert session.tick().phase == Phase.ACTIVE
    clock.now += 1
    assert session.tick() == IdleState(Phase.WARNING, 20)
    assert session.prompt() == "Are you still there?"
    clock.now += 20
    assert session.tick().phase == Phase.EXPIRED
    assert events == [SessionEvent("started"), SessionEvent("ended", EndReason.IDLE)]
    assert not session.active and not folder.exists()
    for obj in reachable(session):
        if isinstance(obj, (str, bytes)):
            assert NAME not in str(obj) and ID_NUMBER not in str(obj)
        assert not isinstance(obj, (Identity, Visit))


def test_extend_keeps_the_visit(tmp_path: Path):
    session, clock, events = make_session(tmp_path)
    session.start()
    clock.now += 70
    assert session.tick().phase == Phase.WARNING
    session.extend()
    clock.now += 59
    assert session.tick().phase == Phase.ACTIVE and session.active
    assert events == [SessionEvent("started")]


def test_card_removal_asks_still_there(tmp_path: Path):
    session, clock, events = make_session(tmp_path)
    session.on_device_change(card_change("present", "absent"))  # no visit: nothing happens
    session.touch()
    session.on_device_change(card_change("absent", "present"))
    session.on_device_change(card_change("present", "absent", kind="printer"))
    assert session.tick().phase == Phase.ACTIVE
    session.on_device_change(card_change("present", "absent"))
    state = session.tick()
    assert state == IdleState(Phase.WARNING, 20) and session.active
    assert "ID card" in session.prompt()
    clock.now += 20
    session.tick()
    assert events[-1] == SessionEvent("ended", EndReason.CARD_REMOVED)


def test_card_removal_then_tap_continues(tmp_path: Path):
    session, clock, events = make_session(tmp_path)
    session.touch()
    session.on_device_change(card_change("present", "absent"))
    clock.now += 5
    session.extend()
    assert session.tick().phase == Phase.ACTIVE and session.prompt() == "Are you still there?"


def test_end_finished_and_listener_errors(tmp_path: Path):
    session, clock, events = make_session(tmp_path)

    def broken(event: SessionEvent) -> None:
        raise RuntimeError("listener bug")

    unsubscribe = session.subscribe(broken)
    session.start()
    assert session.start() is session.visit  # a second start keeps the running visit
    session.end(EndReason.FINISHED)
    session.end(EndReason.OUT_OF_SERVICE)  # no visit: no event
    unsubscribe()
    assert events == [SessionEvent("started"), SessionEvent("ended", EndReason.FINISHED)]
    assert list(tmp_path.iterdir()) == []
