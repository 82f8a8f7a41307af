"""What the terminal did, counted for the fleet's metrics; one window per ``take``.

Other parts of the kiosk call ``count`` (a visit began, a case was submitted, a ticket
was issued, an evaluation given), ``gauge`` (people waiting, outbox size) and ``waited``
(a queue ticket was called after so many seconds). Thread-safe and cheap.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

from fleet.protocol import EVALUATION_LEVELS, NAME, Metrics, QueueFigures, Stamp

COUNTS = ("sessions", "cases_submitted", "prints", "scans", "queue.issued", "queue.called")
KEYED = {"cases_by_item", "evaluations"}  # count(name, key=item code or evaluation level)
GAUGES = ("queue.waiting", "outbox_pending")


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gauges = dict.fromkeys(GAUGES, 0)
        self._reset(time.monotonic())

    def _reset(self, at: float) -> None:
        self._start = at
        self._counts: Counter[str] = Counter()
        self._items: Counter[str] = Counter()
        self._evaluations: Counter[str] = Counter()
        self._waits: list[float] = []

    def count(self, name: str, n: int = 1, *, key: str | None = None) -> None:
        """Add ``n`` to ``name`` (see COUNTS); ``cases_by_item`` and ``evaluations`` need ``key``."""
        if n < 0:
            raise ValueError(f"count {name}: n must not be negative")
        with self._lock:
            if name in COUNTS and key is None:
                self._counts[name] += n
            elif name == "cases_by_item" and key is not None and NAME.fullmatch(key):
                self._items[key] += n
                self._counts["cases_submitted"] += n
            elif name == "evaluations" and key in EVALUATION_LEVELS:
                self._evaluations[key] += n
            else:
                raise ValueError(f"unknown counter {name!r} (key {key!r})")

    def gauge(self, name: str, value: int) -> None:
        """Set a level that is reported as it stands: ``queue.waiting``, ``outbox_pending``."""
        if name not in GAUGES or value < 0:
            raise ValueError(f"unknown gauge {name!r} or negative value {value}")
        with self._lock:
            self._gauges[name] = value

    def waited(self, seconds: float) -> None:
        """A ticket was called after waiting ``seconds``: counts ``queue.called``, feeds ``avg_wait_s``."""
        with self._lock:
            self._counts["queue.called"] += 1
            self._waits.append(max(0.0, seconds))

    def take(self, stamp: Stamp) -> Metrics:
        """The window since the last ``take`` as a metrics message; a new window begins."""
        now = time.monotonic()
        with self._lock:
            c, waits = self._counts, self._waits
            queue = QueueFigures(c["queue.issued"], self._gauges["queue.waiting"], c["queue.called"],
                                 round(sum(waits) / len(waits), 1) if waits else 0.0)
            metrics = Metrics(stamp, round(max(now - self._start, 0.001), 3), c["sessions"],
                              c["cases_submitted"], dict(self._items), c["prints"], c["scans"], queue,
                              {level: self._evaluations[level] for level in EVALUATION_LEVELS},
                              self._gauges["outbox_pending"])
            self._reset(now)
        return metrics
