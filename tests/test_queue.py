"""The station's queue: numbers per window, order of calls, estimates, restarts, the daily reset."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fleet.protocol import Stamp
from kiosk.fleet_counters import Counters
from kiosk.queue import CALLED, MISSED, Queue, QueueOptions, announcement


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock():
    return Clock()


def make(tmp_path, clock, counters=None, **options) -> Queue:
    return Queue(QueueOptions(db=str(tmp_path / "q" / "queue.sqlite"), **options), clock=clock, counters=counters)


def test_numbers_per_window_and_people_ahead(tmp_path, clock):
    queue = make(tmp_path, clock)
    first = queue.issue("民政")
    clock.advance(1)
    second = queue.issue("民政")
    other = queue.issue("卫计")
    assert (first.number, second.number, other.number) == ("B001", "B002", "A001")
    assert (first.ahead, second.ahead, other.ahead) == (0, 1, 2)
    assert other.wait_minutes == 10  # two ahead, 5 minutes each before any call measured it
    assert queue.waiting() == 3
    with pytest.raises(ValueError):
        queue.issue("公安")


def test_calls_in_the_order_taken_recall_and_skip(tmp_path, clock):
    queue = make(tmp_path, clock)
    for window in ("综合", "民政", "综合"):
        queue.issue(window)
        clock.advance(1)
    assert queue.current() is None
    called = queue.call_next()
    assert (called.number, called.status) == ("F001", CALLED) and called.waited_s == 180
    assert queue.recall().number == "F001"
    nxt = queue.skip()  # F001 did not come
    assert nxt.number == "B001"
    assert queue.call_next().number == "F002"
    assert queue.call_next() is None and queue.waiting() == 0
    assert queue.current().number == "F002"


def test_the_estimate_follows_todays_pace(tmp_path, clock):
    queue = make(tmp_path, clock, minutes_per_person=5)
    for _ in range(4):
        queue.issue("人社")
    queue.call_next()
    clock.advance(12)
    queue.call_next()
    clock.advance(8)
    queue.call_next()  # 10 minutes a person today
    assert queue.estimate(3) == 30
    assert queue.issue("人社").wait_minutes == 10


def test_survives_a_restart_and_starts_afresh_each_day(tmp_path, clock):
    queue = make(tmp_path, clock)
    queue.issue("国土")
    queue.issue("国土")
    queue.call_next()
    queue.close()
    again = make(tmp_path, clock)
    assert again.waiting() == 1 and again.current().number == "D001"
    assert again.issue("国土").number == "D003"
    clock.advance(24 * 60)
    assert again.waiting() == 0 and again.current() is None
    assert again.issue("国土").number == "D001"
    assert again.call_next().number == "D001"


def test_missed_ticket_is_not_called_again(tmp_path, clock):
    queue = make(tmp_path, clock)
    queue.issue("财政")
    queue.call_next()
    assert queue.skip() is None
    assert queue.current().status == MISSED and queue.call_next() is None


def test_counters_for_the_fleet(tmp_path, clock):
    counters = Counters()
    queue = make(tmp_path, clock, counters=counters)
    queue.issue("卫计")
    queue.issue("卫计")
    clock.advance(6)
    queue.call_next()
    figures = counters.take(Stamp(clock.now, 1, "boot-1")).queue
    assert (figures.issued, figures.waiting, figures.called, figures.avg_wait_s) == (2, 1, 1, 360.0)


def test_the_call_is_announced_in_both_languages(tmp_path, clock):
    ticket = make(tmp_path, clock).issue("民政")
    assert announcement(ticket, "zh_CN") == "请 B001 号到民政窗口办理。"
    assert announcement(ticket, "zh_CN", spoken=True) == "请 B 0 0 1 号到民政窗口办理。"
    assert announcement(ticket, "en") == "Number B001, please come to the 民政 window."


@pytest.mark.parametrize("options", [dict(minutes_per_person=0), dict(staff_cards=("04-A2",)), dict(db="")])
def test_bad_options(options):
    with pytest.raises(ValueError):
        QueueOptions(**options)
