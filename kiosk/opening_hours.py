"""The staffed window's opening hours: the text the station publishes, read by the machine too.

``[terminal] opening_hours`` is written as the station's notice board writes it, and this
module parses exactly that form (a ValueError names what is wrong)::

    星期一至星期五 8:30—12:00，14:00—17:30；星期六 9:00—12:00
    Mon-Fri 08:30-12:00, 14:00-17:30; Sat 09:00-12:00

Rules are separated by ``；`` or ``;``. A rule is days, then one or more time ranges separated
by ``，``, ``,`` or ``、``. Days: 星期一…星期日 (星期天), 周一…周日, Mon…Sun, a span joined by
至 / - / – / ~, a list joined by 、 / ``,``, or 每天 / daily. A range is ``H:MM`` to ``H:MM``
(24:00 ends the day) joined by — / - / – / ~ / 至. A later rule adds to the days it names.
An empty text means no hours are published: the window is never taken as open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAY_NAMES = {
    **{f"星期{c}": i for i, c in enumerate("一二三四五六日")}, "星期天": 6,
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")}, "周天": 6,
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}
EVERY_DAY = {"每天", "每日", "daily"}
_RULES = re.compile(r"[；;]")
_RANGES = re.compile(r"[，,、]")
_SPAN = re.compile(r"\s*(?:至|—|–|-|~|～)\s*")
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_RULE = re.compile(r"^\s*(?P<days>[^\d]+?)\s*(?P<times>\d.*)$", re.S)

Range = tuple[int, int]  # minutes since midnight, start < end <= 1440


@dataclass(frozen=True)
class OpeningHours:
    """Open ranges per weekday (Monday = 0), in minutes since midnight, sorted and disjoint."""

    text: str
    week: tuple[tuple[Range, ...], ...]  # seven entries

    @property
    def published(self) -> bool:
        return any(self.week)

    def is_open(self, at: datetime) -> bool:
        minute = at.hour * 60 + at.minute
        return any(start <= minute < end for start, end in self.week[at.weekday()])

    def next_opening(self, after: datetime) -> datetime | None:
        """When the window next opens after ``after`` (None when no hours are published)."""
        minute = after.hour * 60 + after.minute
        for offset in range(8):
            day = after.date() + timedelta(days=offset)
            for start, _ in self.week[day.weekday()]:
                if offset or start > minute:
                    return _at(day, start)
        return None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the range open at ``at`` ends (None when closed at ``at``)."""
        minute = at.hour * 60 + at.minute
        for start, end in self.week[at.weekday()]:
            if start <= minute < end:
                return _at(at.date(), end)
        return None


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)


def parse(text: str) -> OpeningHours:
    """The hours ``text`` publishes; ValueError naming the part it cannot read."""
    week: list[list[Range]] = [[] for _ in range(7)]
    for rule in filter(str.strip, _RULES.split(text)):
        match = _RULE.match(rule)
        if not match:
            raise ValueError(f"opening hours: {rule.strip()!r} needs days and then times, e.g. 星期一至星期五 8:30—12:00")
        ranges = [_range(part) for part in _RANGES.split(match["times"]) if part.strip()]
        for day in _days(match["days"]):
            week[day].extend(ranges)
    return OpeningHours(text, tuple(_merged(day) for day in week))


def _days(text: str) -> list[int]:
    text = text.strip().rstrip(":：").strip()
    if text.lower() in EVERY_DAY:
        return list(range(7))
    days: list[int] = []
    for part in filter(str.strip, re.split(r"[、,，]", text)):
        ends = _SPAN.split(part.strip())
        if len(ends) == 1:
            days.append(_day(ends[0]))
        elif len(ends) == 2:
            first, last = _day(ends[0]), _day(ends[1])
            days += [(first + i) % 7 for i in range((last - first) % 7 + 1)]
        else:
            raise ValueError(f"opening hours: cannot read the days {part.strip()!r}")
    return days


def _day(name: str) -> int:
    key = name.strip().lower()
    if key not in DAY_NAMES:
        raise ValueError(f"opening hours: {name.strip()!r} is not a day (星期一…星期日, 周一…周日, Mon…Sun)")
    return DAY_NAMES[key]


def _range(text: str) -> Range:
    ends = _SPAN.split(text.strip())
    if len(ends) != 2:
        raise ValueError(f"opening hours: {text.strip()!r} is not a time range such as 8:30—12:00")
    start, end = _minute(ends[0]), _minute(ends[1])
    if start >= end:
        raise ValueError(f"opening hours: {text.strip()!r} ends before it starts")
    return start, end


def _minute(text: str) -> int:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"opening hours: {text.strip()!r} is not a time such as 8:30")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"opening hours: {text.strip()!r} is not a time of day")
    return hour * 60 + minute


def _merged(ranges: list[Range]) -> tuple[Range, ...]:
    out: list[list[int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)
