"""One case's progress (办件进度): status in plain words, promised date, overdue, history, reason.

When the certificate is ready it prints on A4 (``kiosk.certificate``: the terminal's
template, the verification code and a QR code); the evaluation is offered for the case.
The platform is asked off the UI thread; the screen says so while it waits.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty

from drivers.base import DeviceError
from kiosk.catalog.modules import A4_PRINTER, PRINTER
from kiosk.certificate import render, sheet_for
from l10n import N_, translate
from screens.background import Background
from screens.base import BaseScreen
from screens.widgets import BodyLabel

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LOADING, SHOWN, NOT_FOUND, FAILED = "loading", "shown", "not_found", "failed"
PRINTING, PRINTED, PRINT_FAILED = "printing", "printed", "print_failed"

# status → (symbol, words): the symbol and the words together, colour never alone
STATUS = {
    "queued": ("○", N_("Saved at this terminal, waiting to be sent")),
    "draft": ("○", N_("Being prepared")),
    "submitted": ("→", N_("Sent, waiting to be accepted")),
    "accepted": ("●", N_("Accepted")),
    "processing": ("●", N_("Being processed")),
    "completed": ("✓", N_("Completed")),
    "rejected": ("✕", N_("Not approved")),
}


def status_text(status: str, lang: str) -> str:
    symbol, msgid = STATUS.get(status, ("?", N_("Unknown")))
    return f"{symbol} {translate(msgid, lang)}"


def day_text(day: date | datetime | None, lang: str) -> str:
    if day is None:
        return ""
    return translate(N_("{day}/{month}/{year}"), lang, day=day.day, month=day.month, year=day.year)


class CaseScreen(BaseScreen):
    number = StringProperty("")
    state = StringProperty(LOADING)
    case = ObjectProperty(None, allownone=True)
    print_state = StringProperty("")
    print_error = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self._work = Background()
        self._printing = Background()
        self.app.bind(lang=lambda *_: self._fill_history())

    def on_activate(self, number: str = "", **kwargs: object) -> None:
        self.number, self.case, self.state, self.print_state, self.print_error = number, None, LOADING, "", ""
        self._fill_history()
        terminal = self.app.terminal  # its cases open on first use: in the worker
        self._work.run(lambda: terminal.cases.find(number), done=self._found)

    def on_deactivate(self) -> None:
        self._work.cancel()
        self._printing.cancel()
        self.case, self.print_state, self.print_error = None, "", ""
        self.ids.history.clear_widgets()

    def _found(self, case, error) -> None:
        self.case = case
        self.state = FAILED if error is not None else SHOWN if case is not None else NOT_FOUND
        self._fill_history()

    def _fill_history(self) -> None:
        box = self.ids.history
        box.clear_widgets()
        if self.case is None:
            return
        lang = self.app.lang
        for when, status, note in reversed(self.case.history):
            line = f"{when:%Y-%m-%d %H:%M}　{status_text(status, lang)}"
            box.add_widget(BodyLabel(text=line + (f"\n　　{note}" if note else "")))

    # -- certificate ---------------------------------------------------------------------
    def print_certificate(self) -> None:
        if self.case is None or self.print_state == PRINTING:
            return
        terminal = self.app.terminal
        printer = terminal.ready_printer(A4_PRINTER)
        if printer is None:
            self.print_state, self.print_error = PRINT_FAILED, translate(
                N_("The A4 printer is not working just now. Please ask the station staff."), self.app.lang)
            return
        visit = self.app.session.visit or self.app.session.start()
        self.print_state, self.print_error = PRINTING, ""
        self._printing.run(self._print, terminal, printer, self.case, visit.scan_path(".pdf"), done=self._printed)

    @staticmethod
    def _print(terminal, printer, case, path: Path):
        """Fetch the certificate, lay it out, print it and wait for the job (a worker thread)."""
        certificate = terminal.cases.certificate(case)
        item = terminal.catalog.get(case.item_code)
        config = terminal.config.terminal
        sheet = sheet_for(certificate, case, handling_body=item.handling_body if item else "",
                          station=config.station, verify_url=config.verify_url)
        render(sheet, path)
        return printer.print_pdf(path, title=f"certificate {case.case_no}").result()

    def _printed(self, _result, error) -> None:
        if error is None:
            self.print_state = PRINTED
            self.app.terminal.counters.count("prints")
            return
        lang = self.app.lang
        if isinstance(error, DeviceError):
            reason = f"{error.message(lang)} {error.hint(lang)}"
        elif type(error).__name__ == "Unavailable":  # kiosk.upstream.client.Unavailable
            reason = translate(N_("The government platform cannot be reached just now. Please try again later."), lang)
        else:
            reason = translate(N_("Please ask the station staff."), lang)
        self.print_state, self.print_error = PRINT_FAILED, reason

    # -- the receipt again ---------------------------------------------------------------
    def reprint_receipt(self) -> None:
        """The acceptance notice of a case submitted at this terminal, printed again."""
        printer = self.app.terminal.ready_printer(PRINTER)
        if self.case is None or not self.case.ref or self.print_state == PRINTING:
            return
        if printer is None:
            self.print_state, self.print_error = PRINT_FAILED, translate(
                N_("The receipt printer is not working just now."), self.app.lang)
            return
        self.print_state, self.print_error = PRINTING, ""
        self._printing.run(self._reprint, self.app.terminal, printer, self.case.ref, self.app.lang,
                           done=self._printed)

    @staticmethod
    def _reprint(terminal, printer, ref: str, lang: str):
        from kiosk.receipts import notice_receipt
        submitted = terminal.cases.receipt(ref)
        if submitted is None:  # its personal data was purged after the retention period
            raise LookupError(ref)
        config = terminal.config.terminal  # the first print's progress address in the QR code
        return printer.print_job(notice_receipt(submitted, lang, station=config.station,
                                                url_pattern=config.progress_url)).result()

    def evaluate(self) -> None:
        if self.case is not None:
            self.app.go("evaluation", service="case", case=self.case.case_no or self.case.ref)

    # -- texts ---------------------------------------------------------------------------
    def summary(self, lang: str, state: str, case, number: str) -> str:
        if state == LOADING:
            return translate(N_("Looking up case {number}…"), lang, number=number)
        if state == NOT_FOUND:
            return translate(N_("No case with the number {number} was found. Please check the number on your "
                                "receipt."), lang, number=number)
        if state == FAILED or case is None:
            return translate(N_("The case cannot be looked up just now. Please try again later."), lang)
        lines = [
            translate(N_("Case number: {number}"), lang, number=case.case_no or case.ref),
            translate(N_("Status: {status}"), lang, status=status_text(case.status, lang)),
        ]
        if case.promised_date:
            lines.append(translate(N_("Promised by: {date}"), lang, date=day_text(case.promised_date, lang)))
        return "\n".join(lines)

    def warning(self, lang: str, case) -> str:
        """The overdue flag and the reason for a refusal (words and a symbol)."""
        if case is None:
            return ""
        parts = []
        if case.overdue:
            parts.append("△ " + translate(N_("Overdue: the promised date has passed. The station will follow it up; "
                                             "you may also ask the staff."), lang))
        if case.status == "rejected":
            reason = case.reason or translate(N_("No reason was given; please ask the station."), lang)
            parts.append("✕ " + translate(N_("Reason: {reason}"), lang, reason=reason))
        return "\n".join(parts)

    def certificate_note(self, lang: str, case, print_state: str, print_error: str) -> str:
        if case is None or not case.certificate_ready:
            return ""
        return {
            PRINTING: translate(N_("Printing the certificate… please wait."), lang),
            PRINTED: translate(N_("Printed. Please take the certificate from the A4 printer."), lang),
            PRINT_FAILED: translate(N_("Could not print: {reason}"), lang, reason=print_error),
        }.get(print_state, translate(N_("Your certificate is ready and can be printed here."), lang))

    def print_note(self, lang: str, case, print_state: str, print_error: str) -> str:
        """How printing the receipt again went (a case without a certificate)."""
        if case is None or case.certificate_ready:
            return ""
        return {
            PRINTING: translate(N_("Printing… please wait."), lang),
            PRINTED: translate(N_("Printed. Please take the receipt from the printer slot."), lang),
            PRINT_FAILED: translate(N_("Could not print: {reason}"), lang, reason=print_error),
        }.get(print_state, "")
