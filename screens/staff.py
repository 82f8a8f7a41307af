"""The agent's queue screen, opened by a staff badge on the PC/SC reader: call next, recall, skip.

A call is shown on this screen and on the attract screen and announced by voice
(``KioskApp.announce_call``). Taking the badge off ends the agent's visit.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from kiosk.queue import announcement
from l10n import N_, translate
from screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class StaffScreen(BaseScreen):
    current = ObjectProperty(None, allownone=True)   # the ticket called last
    waiting = NumericProperty(0)
    last_action = StringProperty("")                  # "", "called", "recalled", "empty"

    def on_activate(self, **kwargs: object) -> None:
        self.last_action = ""
        self._refresh()

    def on_deactivate(self) -> None:
        self.current, self.last_action = None, ""

    def _refresh(self) -> None:
        queue = self.app.terminal.queue
        self.current, self.waiting = queue.current(), queue.waiting()

    def call_next(self) -> None:
        self._called(self.app.terminal.queue.call_next())

    def recall(self) -> None:
        ticket = self.app.terminal.queue.recall()
        if ticket is not None:
            self.app.announce_call(ticket)
        self._refresh()
        self.last_action = "recalled" if ticket else "empty"

    def skip(self) -> None:
        self._called(self.app.terminal.queue.skip())

    def _called(self, ticket) -> None:
        if ticket is not None:
            self.app.announce_call(ticket)
        self._refresh()
        self.last_action = "called" if ticket else "empty"

    def current_text(self, lang: str, current) -> str:
        if current is None:
            return translate(N_("No number has been called today."), lang)
        return announcement(current, lang)

    def status_text(self, lang: str, waiting: int, last_action: str) -> str:
        text = translate(N_("People waiting: {n}"), lang, n=waiting)
        if last_action == "empty":
            text += "\n" + translate(N_("Nobody is waiting."), lang)
        return text
