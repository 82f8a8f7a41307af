"""The station's own queue: tickets for a window, called by the village agent, kept in SQLite.

A ticket's number is the window's letter and the day's sequence of that window ("B007" is
the 7th ticket of 民政 today). One agent serves every window of a village station, so
tickets are called in the order they were taken. The queue survives restarts (SQLite,
WAL, synchronous FULL) and starts afresh every day: only today's tickets count.

The estimate of the wait is the people ahead times the time one person takes, measured
from today's calls (the mean gap between consecutive calls), else ``minutes_per_person``.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from kiosk.catalog.items import VILLAGE_WINDOWS
from l10n import N_, translate

WAITING, CALLED, MISSED = "waiting", "called", "missed"
KEEP_DAYS = 7  # older tickets are deleted when the queue opens
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    day TEXT NOT NULL, window TEXT NOT NULL, seq INTEGER NOT NULL, number TEXT NOT NULL,
    issued_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'waiting', called_at TEXT,
    PRIMARY KEY (day, window, seq));
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets (day, status, issued_at);
"""


@dataclass(frozen=True)
class QueueOptions:
    """The ``[queue]`` section: where the queue is kept and who may call it."""

    db: str = "/var/lib/kiosk/queue.sqlite"
    staff_cards: tuple[str, ...] = ()  # UIDs (hex) of the agents' staff badges
    minutes_per_person: float = 5.0  # the estimate until today's calls measure it

    def __post_init__(self) -> None:
        if not self.db:
            raise ValueError("key 'db' must name a file")
        if not 0.5 <= self.minutes_per_person <= 120:
            raise ValueError("key 'minutes_per_person' must be between 0.5 and 120")
        for uid in self.staff_cards:
            if not uid or any(c not in "0123456789abcdefABCDEF" for c in uid):
                raise ValueError(f"key 'staff_cards': {uid!r} is not a card UID in hex")


@dataclass(frozen=True)
class Ticket:
    number: str             # "B007"
    window: str             # "民政"
    issued_at: datetime
    status: str = WAITING   # waiting | called | missed
    called_at: datetime | None = None
    ahead: int = 0          # people waiting before this ticket (when it was issued or looked at)
    wait_minutes: int = 0   # estimated minutes until it is called

    @property
    def waited_s(self) -> float:
        return ((self.called_at or self.issued_at) - self.issued_at).total_seconds()


def announcement(ticket: Ticket, language: str, spoken: bool = False) -> str:
    """What the terminal shows (and, ``spoken``, says) when the ticket is called."""
    number = spoken_number(ticket.number, language) if spoken else ticket.number
    return translate(N_("Number {number}, please come to the {window} window."), language,
                     number=number, window=ticket.window)


def spoken_number(number: str, language: str) -> str:
    """"B007" → "B 0 0 7": read digit by digit, as halls call numbers."""
    return " ".join(number) if language == "zh_CN" else number


class Queue:
    """``Queue(options)``; thread-safe (the UI and the staff card's thread both use it)."""

    def __init__(self, options: QueueOptions, windows: tuple[str, ...] = VILLAGE_WINDOWS,
                 clock: Callable[[], datetime] = datetime.now, counters=None):
        self.options = options
        self.windows = windows
        self.clock = clock
        self.counters = counters  # kiosk.fleet_counters.Counters, or None
        self._lock = threading.Lock()
        Path(options.db).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(options.db, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._db.execute("DELETE FROM tickets WHERE day < ?", ((self._today() - timedelta(days=KEEP_DAYS)).isoformat(),))

    def close(self) -> None:
        self._db.close()

    def letter(self, window: str) -> str:
        return chr(ord("A") + self.windows.index(window))

    # -- the citizen's side ---------------------------------------------------------
    def issue(self, window: str) -> Ticket:
        """A new ticket for ``window`` with the people ahead and the estimated wait."""
        if window not in self.windows:
            raise ValueError(f"no window {window!r} at this station")
        now, day = self.clock(), self._today()
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets WHERE day = ? AND window = ?",
                                   (day.isoformat(), window)).fetchone()[0]
            number = f"{self.letter(window)}{seq:03d}"
            self._db.execute("INSERT INTO tickets (day, window, seq, number, issued_at) VALUES (?, ?, ?, ?, ?)",
                             (day.isoformat(), window, seq, number, now.isoformat()))
            ahead = self._waiting_locked() - 1
            minutes = self._estimate_locked(ahead)
        self._count("queue.issued")
        return Ticket(number, window, now, ahead=ahead, wait_minutes=minutes)

    def waiting(self) -> int:
        """People waiting today."""
        with self._lock:
            return self._waiting_locked()

    def estimate(self, ahead: int) -> int:
        """Minutes until someone with ``ahead`` people before them is called."""
        with self._lock:
            return self._estimate_locked(ahead)

    # -- the agent's side ---------------------------------------------------------------
    def current(self) -> Ticket | None:
        """The ticket called last today, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT window, number, issued_at, status, called_at FROM tickets WHERE day = ? AND called_at "
                "IS NOT NULL ORDER BY called_at DESC, issued_at DESC LIMIT 1", (self._today().isoformat(),)).fetchone()
        return _ticket(row) if row else None

    def call_next(self) -> Ticket | None:
        """Call the ticket that has waited longest today (None when nobody waits)."""
        now = self.clock()
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT window, number, issued_at, status, called_at, seq FROM tickets "
                "WHERE day = ? AND status = ? ORDER BY issued_at, rowid LIMIT 1",
                (self._today().isoformat(), WAITING)).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE tickets SET status = ?, called_at = ? WHERE day = ? AND window = ? AND seq = ?",
                             (CALLED, now.isoformat(), self._today().isoformat(), row[0], row[5]))
            waiting = self._waiting_locked()
        ticket = _ticket((*row[:3], CALLED, now.isoformat()))
        if self.counters is not None:
            self.counters.waited(ticket.waited_s)
        self._gauge(waiting)
        return ticket

    def recall(self) -> Ticket | None:
        """The current ticket, to call again (the person did not hear it)."""
        return self.current()

    def skip(self) -> Ticket | None:
        """The current ticket's holder did not come: mark it missed and call the next."""
        ticket = self.current()
        if ticket is not None and ticket.status == CALLED:
            with self._lock, self._db:
                self._db.execute("UPDATE tickets SET status = ? WHERE day = ? AND number = ? AND window = ?",
                                 (MISSED, self._today().isoformat(), ticket.number, ticket.window))
        return self.call_next()

    # -- inside -------------------------------------------------------------------------
    def _today(self) -> date:
        return self.clock().date()

    def _waiting_locked(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM tickets WHERE day = ? AND status = ?",
                                (self._today().isoformat(), WAITING)).fetchone()[0]

    def _estimate_locked(self, ahead: int) -> int:
        calls = [datetime.fromisoformat(r[0]) for r in self._db.execute(
            "SELECT called_at FROM tickets WHERE day = ? AND called_at IS NOT NULL ORDER BY called_at",
            (self._today().isoformat(),))]
        gaps = [(b - a).total_seconds() / 60 for a, b in zip(calls, calls[1:])]
        per_person = sum(gaps) / len(gaps) if gaps else self.options.minutes_per_person
        return round(max(ahead, 0) * max(per_person, 0.5))

    def _count(self, name: str) -> None:
        if self.counters is not None:
            self.counters.count(name)
        self._gauge(self.waiting())

    def _gauge(self, waiting: int) -> None:
        if self.counters is not None:
            self.counters.gauge("queue.waiting", waiting)


def _ticket(row) -> Ticket:
    window, number, issued_at, status, called_at = row[:5]
    return Ticket(number, window, datetime.fromisoformat(issued_at), status,
                  datetime.fromisoformat(called_at) if called_at else None)
