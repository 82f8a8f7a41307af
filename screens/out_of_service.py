"""The out-of-service page: shown when no device of the terminal serves, left by itself.

``ServiceWatch(app)`` checks ``terminal.serviceable()`` on every device change and on a
clock; after ``grace_s`` seconds without service it ends a visit in progress (the privacy
wipe) and shows this page, and when service returns the attract screen comes back. While
the fleet holds the terminal for maintenance (``terminal.held_for_maintenance``) the page
shows at once, saying so, once the visit in progress has ended. The maintenance screen is
never interrupted, and the hidden maintenance gesture works here too (it sits on the window).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty

from kiosk.session import EndReason
from screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))
log = logging.getLogger(__name__)

NAME = "out_of_service"
UNINTERRUPTED = ("maintenance",)


class OutOfServiceScreen(BaseScreen):
    """A calm full-screen page: what happened, where to go instead. Touches do nothing."""

    show_top_bar = False
    maintenance = BooleanProperty(False)  # held for maintenance by the fleet, not a fault

    def on_activate(self, maintenance: bool = False, **kwargs: object) -> None:
        self.maintenance = maintenance

    def on_touch_down(self, touch) -> bool:
        return True

    def on_touch_up(self, touch) -> bool:
        return True


class ServiceWatch:
    """Switches to and from the out-of-service page; ``grace_s`` rides out short faults."""

    def __init__(self, app, interval_s: float = 3.0, grace_s: float = 10.0, clock=time.monotonic):
        self.app, self.grace_s, self.clock = app, grace_s, clock
        self._down_since: float | None = None
        self._stopped = False
        app.terminal.on_device_change(lambda change: Clock.schedule_once(lambda dt: self.check()))
        self._event = Clock.schedule_interval(lambda dt: self.check(), interval_s)

    def check(self) -> None:
        current = self.app.manager.current
        if self._stopped or current in UNINTERRUPTED:
            return
        if self.app.terminal.held_for_maintenance:
            self._down_since = None
            if not self.app.session.active:  # a visit in progress ends first
                self._show(maintenance=True)
            return
        if self.app.terminal.serviceable():
            self._down_since = None
            if current == NAME:
                log.info("the terminal can serve again")
                self.app.history = []
                self.app.show("attract")
            return
        if current == NAME and not self.app.screen.maintenance:
            return
        now = self.clock()
        if self._down_since is None:
            self._down_since = now
        if now - self._down_since >= self.grace_s or current == NAME:
            log.warning("no device serves: showing the out-of-service page")
            self._show(maintenance=False)

    def _show(self, maintenance: bool) -> None:
        if self.app.manager.current == NAME and self.app.screen.maintenance == maintenance:
            return
        if self.app.session.active:
            self.app.session.end(EndReason.OUT_OF_SERVICE)  # the privacy wipe first
        self.app.history = []
        self.app.show(NAME, maintenance=maintenance)

    def stop(self) -> None:
        """Switch pages no more (the screenshots show each page as they ask for it)."""
        self._stopped = True
        self._event.cancel()
