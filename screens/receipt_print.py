"""Printing on the receipt printer for a screen: the result back on the UI thread, in words.

A print that finishes is counted for the fleet (``terminal.counters``), even when the
screen has moved on; its result reaches the screen only if no newer print was started and
the screen did not ``forget`` it meanwhile (e.g. it was left, or shows another item).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from kivy.clock import Clock

from drivers.base import DeviceError
from kiosk.catalog.modules import PRINTER
from l10n import N_, translate

log = logging.getLogger(__name__)


class ReceiptPrint:
    """``start(receipt)`` prints; ``done(error)`` follows on the UI thread (``error`` None: printed)."""

    def __init__(self, app, what: str, done: Callable[[BaseException | None], None]):
        self.app, self.what, self.done = app, what, done
        self._job = 0

    def printer(self):
        """The receipt printer if it can print now (serving, paper in, cover shut), else None."""
        return self.app.terminal.ready_printer(PRINTER)

    def start(self, receipt) -> bool:
        """Send ``receipt``; False (and nothing sent) when the printer cannot print now."""
        printer = self.printer()
        if printer is None:
            return False
        self._job += 1
        job = self._job
        future = printer.print_job(receipt)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._finished(f, job)))
        return True

    def forget(self) -> None:
        """A print under way still counts, but its result is no longer shown."""
        self._job += 1

    def _finished(self, future, job: int) -> None:
        error = future.exception()
        if error is None:
            self.app.terminal.counters.count("prints")
        else:
            log.warning("printing the %s failed: %s", self.what, error)
        if job == self._job:
            self.done(error)


def failure_text(error: BaseException, lang: str) -> str:
    """Why a print failed, for the person at the terminal: the device's words and what to do."""
    if isinstance(error, DeviceError):
        return f"{error.message(lang)} {error.hint(lang)}"
    return translate(N_("The printer did not answer as expected."), lang)
