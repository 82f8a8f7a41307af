"""The last log lines, kept in memory for the maintenance screen.

``install()`` puts one bounded ring buffer on the root logger at app start; the
maintenance screen reads ``lines()``. Thread-safe: device threads log while the UI
thread reads.
"""
from __future__ import annotations

import logging
import threading
from collections import deque

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


class LogBuffer(logging.Handler):
    """A ``logging.Handler`` keeping the last ``capacity`` formatted lines.

    A record that formats to several lines (a traceback) takes several entries.
    """

    def __init__(self, capacity: int = 200, level: int = logging.INFO):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        super().__init__(level)
        self.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        self._lines: deque[str] = deque(maxlen=capacity)
        self._guard = threading.Lock()
        self._count = 0

    @property
    def capacity(self) -> int:
        return self._lines.maxlen or 0

    @property
    def count(self) -> int:
        """Lines ever added: changes whenever ``lines()`` would, so readers can skip a redraw."""
        return self._count

    def emit(self, record: logging.LogRecord) -> None:
        try:
            lines = self.format(record).splitlines() or [""]
        except Exception:  # a bad message must never break the caller's logging
            self.handleError(record)
            return
        with self._guard:
            self._lines.extend(lines)
            self._count += len(lines)

    def lines(self, last: int | None = None) -> list[str]:
        """The newest ``last`` lines (all kept lines if None), oldest first."""
        with self._guard:
            kept = list(self._lines)
        return kept if last is None else kept[-last:] if last > 0 else []

    def clear(self) -> None:
        with self._guard:
            self._lines.clear()


def install(capacity: int = 200, level: int = logging.INFO,
            logger: logging.Logger | None = None) -> LogBuffer:
    """The buffer on ``logger`` (default: the root logger), added once.

    If the logger's level would drop records the buffer wants, it is lowered to
    ``level``, and the handlers already there keep printing only what they did.
    """
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if isinstance(handler, LogBuffer):
            return handler
    old_level = logger.getEffectiveLevel()
    if old_level > level:
        for handler in logger.handlers:
            if handler.level < old_level:
                handler.setLevel(old_level)
        logger.setLevel(level)
    buffer = LogBuffer(capacity, level)
    logger.addHandler(buffer)
    return buffer
