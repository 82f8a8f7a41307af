"""Opening hours: the published text parsed, open or closed at a moment, the next opening."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.opening_hours import parse

DEMO = "星期一至星期五 8:30—12:00，14:00—17:30"
MONDAY = datetime(2026, 11, 23)  # a Monday


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(day=MONDAY.day + day_offset, hour=hour, minute=minute)


def test_the_demo_stations_hours():
    hours = parse(DEMO)
    assert hours.week[0] == ((510, 720), (840, 1050))
    assert hours.week[4] == hours.week[0] and hours.week[5] == () and hours.week[6] == ()
    assert hours.is_open(at(0, 8, 30)) and hours.is_open(at(0, 11, 59))
    assert not hours.is_open(at(0, 12, 0)) and not hours.is_open(at(0, 8, 29))
    assert not hours.is_open(at(5, 10))
    assert hours.next_opening(at(0, 12, 30)) == at(0, 14)
    assert hours.next_opening(at(4, 18)) == at(7, 8, 30)  # Friday evening → Monday morning
    assert hours.closes_at(at(0, 15)) == at(0, 17, 30) and hours.closes_at(at(0, 13)) is None


@pytest.mark.parametrize("text", [
    "Mon-Fri 08:30-12:00, 14:00-17:30",
    "周一至周五：8:30~12:00、14:00～17:30",
    "星期一、星期二、星期三、星期四、星期五 8:30至12:00,14:00-17:30",
])
def test_other_ways_of_writing_the_same_hours(text):
    assert parse(text).week == parse(DEMO).week


def test_rules_add_up_wrap_around_the_week_and_merge():
    hours = parse("星期六至星期一 9:00—12:00；周一 11:00—13:00；每天 20:00—24:00")
    assert hours.week[0] == ((540, 780), (1200, 1440))
    assert hours.week[5] == hours.week[6] == ((540, 720), (1200, 1440))
    assert hours.week[2] == ((1200, 1440),)
    assert hours.is_open(at(2, 23, 59))


def test_no_hours_published():
    hours = parse("")
    assert not hours.published and not hours.is_open(at(0, 10)) and hours.next_opening(at(0, 10)) is None


@pytest.mark.parametrize("text, part", [
    ("星期八 8:00—12:00", "星期八"),
    ("星期一 8:00", "8:00"),
    ("星期一 12:00—8:00", "ends before"),
    ("星期一 25:00—26:00", "25:00"),
    ("星期一 8:61—9:00", "8:61"),
    ("8:00—12:00", "needs days"),
    ("星期一至星期三至星期五 8:00—9:00", "days"),
])
def test_mistakes_are_named(text, part):
    with pytest.raises(ValueError, match=part):
        parse(text)


@given(st.text(alphabet="星期一二三四五六日周至每天Mon-Fri:：0123456789—~，,;；、 ", max_size=40))
def test_any_text_parses_or_fails_with_a_value_error(text):
    try:
        hours = parse(text)
    except ValueError as exc:
        assert str(exc).startswith("opening hours:")
        return
    for ranges in hours.week:
        assert all(0 <= s < e <= 1440 for s, e in ranges)
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440)),
                min_size=1, max_size=4),
       st.integers(0, 6), st.integers(0, 23), st.integers(0, 59))
def test_generated_hours_round_trip(rules, day, hour, minute):
    names = "一二三四五六日"
    text = "；".join(f"星期{names[a]}至星期{names[b]} {s // 60}:{s % 60:02d}—{(s + d) // 60}:{(s + d) % 60:02d}"
                    for a, b, s, d in rules if s + d <= 1440)
    if not text:
        return
    hours = parse(text)
    moment = at(day, hour, minute)
    expected = any(s <= hour * 60 + minute < s + d and (day - a) % 7 <= (b - a) % 7
                   for a, b, s, d in rules if s + d <= 1440)
    assert hours.is_open(moment) == expected
    opening = hours.next_opening(moment)
    assert opening is not None and opening > moment and hours.is_open(opening)
