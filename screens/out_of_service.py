"""The out-of-service page: shown when no device of the terminal serves, left by itself.

``ServiceWatch(app)`` checks ``terminal.serviceable()`` on every device change and on a
clock; after ``grace_s`` seconds without service it ends a visit in progress (the privacy
wipe) and shows this page, and when service returns the attract screen comes back. The
maintenance screen is never interrupted, and the hidden maintenance gesture works here
too (it sits on the window).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder

from kiosk.session import EndReason
from screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))
log = logging.getLogger(__name__)

NAME = "out_of_service"
UNINTERRUPTED = ("maintenance",)


class OutOfServiceScreen(BaseScreen):
    """A calm full-screen page: what happened, where to go instead. Touches do nothing."""

    show_top_bar = False

    def on_touch_down(self, touch) -> bool:
        return True

    def on_touch_up(self, touch) -> bool:
        return True


class ServiceWatch:
    """Switches to and from the out-of-service page; ``grace_s`` rides out short faults."""

    def __init__(self, app, interval_s: float = 3.0, grace_s: float = 10.0, clock=time.monotonic):
        self.app, self.grace_s, self.clock = app, grace_s, clock
        self._down_since: float | None = None
        app.terminal.on_device_change(lambda change: Clock.schedule_once(lambda dt: self.check()))
        self._event = Clock.schedule_interval(lambda dt: self.check(), interval_s)

    def check(self) -> None:
        current = self.app.manager.current
        if current in UNINTERRUPTED:
            return
        if self.app.terminal.serviceable():
            self._down_since = None
            if current == NAME:
                log.info("the terminal can serve again")
                self.app.history = []
                self.app.show("attract")
            return
        if current == NAME:
            return
        now = self.clock()
        if self._down_since is None:
            self._down_since = now
        if now - self._down_since >= self.grace_s:
            log.warning("no device serves: showing the out-of-service page")
            if self.app.session.active:
                self.app.session.end(EndReason.OUT_OF_SERVICE)  # the privacy wipe first
            self.app.history = []
            self.app.show(NAME)

    def stop(self) -> None:
        self._event.cancel()
