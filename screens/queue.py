"""Queue tickets (排队取号): a number for a window during opening hours, printed or shown.

Outside opening hours the screen says when the window opens. The ticket (number, window,
people ahead, estimated wait) is printed on the receipt printer; without a printer it
stays on the screen. Then the evaluation is offered, never forced.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from kiosk.catalog.items import VILLAGE
from kiosk.catalog.modules import PRINTER
from kiosk.printing import ticket_receipt
from l10n import N_, translate
from screens.base import BaseScreen
from screens.widgets import BigButton

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

CHOOSE, TICKET, CLOSED, UNPUBLISHED = "choose", "ticket", "closed", "unpublished"
PRINTING, PRINTED, NOT_PRINTED = "printing", "printed", "not_printed"


def when_text(moment: datetime, now: datetime, lang: str) -> str:
    """"今天14:00" / "明天8:30" / "11月30日8:30"."""
    clock = f"{moment.hour}:{moment.minute:02d}"
    days = (moment.date() - now.date()).days
    if days == 0:
        return translate(N_("today at {time}"), lang, time=clock)
    if days == 1:
        return translate(N_("tomorrow at {time}"), lang, time=clock)
    return translate(N_("{month}/{day} at {time}"), lang, month=moment.month, day=moment.day, time=clock)


class WindowButton(BigButton):
    window = StringProperty("")
    examples = StringProperty("")  # a few of the window's items, so a villager knows which to pick


class QueueScreen(BaseScreen):
    state = StringProperty(CHOOSE)
    ticket = ObjectProperty(None, allownone=True)
    print_state = StringProperty("")
    waiting = NumericProperty(0)
    opens = ObjectProperty(None, allownone=True)  # datetime the window opens next

    def on_activate(self, **kwargs: object) -> None:
        terminal = self.app.terminal
        hours, now = terminal.opening_hours, datetime.now()
        self.ticket, self.print_state = None, ""
        self.opens = hours.next_opening(now)
        if not hours.published:
            self.state = UNPUBLISHED
        elif not hours.is_open(now):
            self.state = CLOSED
        else:
            self.state = CHOOSE
            self.waiting = terminal.queue.waiting()
        self._fill_windows()

    def on_deactivate(self) -> None:
        self.ticket, self.print_state = None, ""
        self.ids.windows.clear_widgets()

    def _fill_windows(self) -> None:
        grid = self.ids.windows
        grid.clear_widgets()
        if self.state != CHOOSE:
            return
        catalog = self.app.terminal.catalog
        for window in catalog.windows(VILLAGE):
            names = [i.name for i in catalog.by_window(window, VILLAGE)[:3]]
            button = WindowButton(window=window, examples="、".join(names))
            button.bind(on_release=lambda b: self.take(b.window))
            grid.add_widget(button)

    def take(self, window: str) -> None:
        """Issue a ticket for ``window``; print it if the printer can."""
        terminal = self.app.terminal
        self.ticket = terminal.queue.issue(window)
        self.state = TICKET
        self.ids.windows.clear_widgets()
        printer = terminal.ready_printer(PRINTER)
        if printer is None:
            self.print_state = NOT_PRINTED
            return
        receipt = ticket_receipt(self.ticket, self.app.lang, station=terminal.config.terminal.station)
        self.print_state = PRINTING
        ticket = self.ticket
        printer.print_job(receipt).add_done_callback(
            lambda f: Clock.schedule_once(lambda dt: self._printed(f, ticket)))

    def _printed(self, future, ticket) -> None:
        if ticket is not self.ticket:
            return
        error = future.exception()
        if error is not None:
            log.warning("printing the queue ticket failed: %s", error)
        else:
            self.app.terminal.counters.count("prints")
        self.print_state = NOT_PRINTED if error else PRINTED

    def evaluate(self) -> None:
        self.app.go("evaluation", service="queue", case="")

    # -- texts ---------------------------------------------------------------------------
    def heading(self, lang: str, state: str) -> str:
        if state == TICKET:
            return translate(N_("Your queue number"), lang)
        return translate(N_("Take a queue number"), lang)

    def message(self, lang: str, state: str, waiting: int, opens, print_state: str) -> str:
        hours = self.app.terminal.config.terminal.opening_hours
        if state == UNPUBLISHED:
            return translate(N_("This station has not published its window hours, so no queue numbers are given "
                                "here. Please ask at the station."), lang)
        if state == CLOSED:
            opening = when_text(opens, datetime.now(), lang) if opens else ""
            return translate(N_("The window is closed now. It opens {when}."), lang, when=opening) + "\n" + \
                translate(N_("Opening hours: {hours}"), lang, hours=hours)
        if state == CHOOSE:
            return translate(N_("Choose the window you need. People waiting now: {n}"), lang, n=waiting)
        return {
            PRINTING: translate(N_("Printing your ticket… please wait."), lang),
            PRINTED: translate(N_("Printed. Please take your ticket from the printer slot."), lang),
            NOT_PRINTED: translate(N_("The ticket could not be printed. Please remember the number shown here."), lang),
        }.get(print_state, "")

    def ticket_lines(self, lang: str, ticket) -> str:
        if ticket is None:
            return ""
        return "\n".join((
            translate(N_("{window} window"), lang, window=ticket.window),
            translate(N_("People waiting before you: {n}"), lang, n=ticket.ahead),
            translate(N_("Estimated wait: about {minutes} minutes"), lang, minutes=ticket.wait_minutes),
            translate(N_("Please listen for your number and come to the window when it is called."), lang),
        ))
