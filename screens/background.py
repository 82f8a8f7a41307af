"""Work a screen must not wait for (the platform over a village line), run off the UI thread.

``Background.run(fn, *args, done=callback)`` calls ``fn(*args)`` on a daemon thread and
``done(result, error)`` on the UI thread; a newer ``run`` or ``cancel()`` makes the older
answer be dropped, so a screen left or re-filled never shows a stale result.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kivy.clock import Clock

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._job = 0
        self._busy = False

    @property
    def busy(self) -> bool:
        """A run is under way whose answer will be delivered."""
        return self._busy

    def run(self, fn: Callable, *args: object, done: Callable[[object, BaseException | None], None]) -> None:
        self._job += 1
        job, self._busy = self._job, True

        def work() -> None:
            try:
                result, error = fn(*args), None
            except Exception as exc:  # shown to the person as words, never as a traceback
                log.warning("%s failed: %s", getattr(fn, "__name__", fn), exc)
                result, error = None, exc
            Clock.schedule_once(lambda dt: self._deliver(job, done, result, error))

        threading.Thread(target=work, name="screen-background", daemon=True).start()

    def _deliver(self, job: int, done, result, error) -> None:
        if job == self._job:
            self._busy = False
            done(result, error)

    def cancel(self) -> None:
        self._job += 1
        self._busy = False
