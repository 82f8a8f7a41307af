"""Applying, step 5: submit, then the acceptance notice (受理通知书) printed, and what comes next.

``terminal.cases.submit`` stores the application durably before it answers (then waits
a little for the platform); the screen shows progress meanwhile. The notice prints on
the receipt printer; when it cannot, the screen says plainly that the application is
safe, shows the notice with its QR code and offers to print it again. Items done on the
spot lead to their certificate; every application ends with the offer to rate the
service (never forced), and "Finish" ends the visit with the privacy wipe.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.catalog.modules import PRINTER
from kiosk.drafts import Draft
from kiosk.receipts import notice_lines, notice_receipt, number_line, progress_url
from kiosk.session import EndReason
from l10n import N_, translate
from screens.apply_steps import ApplyStep, ApplySteps  # noqa: F401  (ApplySteps: kv rules)
from screens.background import Background
from screens.base import BaseScreen
from screens.guide import QrImage  # noqa: F401  (kv rules)
from screens.receipt_print import ReceiptPrint, failure_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SENDING, RESULT, FAILED = "sending", "result", "failed"
DELIVERY_WAIT_S = 3.0  # how long "Sending…" waits for the platform before the notice says "queued here"
PRINTING, PRINTED, NOT_PRINTED = "printing", "printed", "not_printed"


def _has_screen(name: str) -> bool:
    from screens.app import SCREENS
    return name in SCREENS


class ApplySubmitScreen(ApplyStep, BaseScreen):
    state = StringProperty(SENDING)
    submitted = ObjectProperty(None, allownone=True)
    print_state = StringProperty("")
    print_error = StringProperty("")
    printer_ready = BooleanProperty(False)
    error = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self._work = Background()
        self._print = ReceiptPrint(self.app, "acceptance notice", self._printed)

    def on_activate(self, **kwargs: object) -> None:
        draft = Draft.of(self.app.session.visit)
        self._refresh_printer()
        if draft is not None and draft.submitted is not None:
            self._show(draft.submitted)
        elif draft is not None and draft.ready():
            self.state, self.error, self.submitted, self.print_state = SENDING, "", None, ""
            self._work.run(self.app.terminal.cases.submit, draft.application(), DELIVERY_WAIT_S,
                           done=lambda result, error: self._submitted(draft, result, error))
        else:
            self.app.go_back()

    def on_deactivate(self) -> None:
        self._print.forget()  # a submission under way still reaches the draft (see _submitted)
        self.submitted, self.print_state, self.print_error, self.error = None, "", "", ""

    def forget(self) -> None:
        self._work.cancel()
        super().forget()

    def take_staff_badge(self, uid: str | None) -> bool:
        """While sending, the application is made: a badge now neither changes it nor leaves it."""
        return self.state == SENDING or super().take_staff_badge(uid)

    def on_device_change(self, change) -> None:
        if change.kind == PRINTER:
            self._refresh_printer()

    # -- submitting --------------------------------------------------------------------------
    def _submitted(self, draft: Draft, result, error) -> None:
        if error is not None:
            self.state = FAILED
            self.error = translate(N_("The application could not be stored: {error}"), self.app.lang, error=str(error))
            return
        draft.submitted = result
        if self.manager is None or self.manager.current != self.name:
            return  # the person went elsewhere: the case is stored, its notice is in My cases
        self.app.history = []  # Back leads home now: the application is never sent twice
        self._show(result)
        self.print_notice()

    def _show(self, submitted) -> None:
        self.submitted, self.state = submitted, RESULT

    def retry(self) -> None:
        self.on_activate()

    # -- printing ------------------------------------------------------------------------------
    def print_notice(self) -> None:
        if self.submitted is None or self.print_state == PRINTING:
            return
        config = self.app.terminal.config.terminal
        receipt = notice_receipt(self.submitted, self.app.lang, station=config.station, url_pattern=config.progress_url)
        if self._print.start(receipt):
            self.print_state, self.print_error = PRINTING, ""
        else:
            self.print_state = NOT_PRINTED
            self.print_error = translate(N_("The receipt printer is not working just now."), self.app.lang)

    def _printed(self, error) -> None:
        self.print_state = PRINTED if error is None else NOT_PRINTED
        self.print_error = "" if error is None else failure_text(error, self.app.lang)
        self._refresh_printer()

    def _refresh_printer(self) -> None:
        self.printer_ready = self._print.printer() is not None

    # -- what comes next -------------------------------------------------------------------------
    @property
    def can_evaluate(self) -> bool:
        return _has_screen("evaluation")

    @property
    def can_collect(self) -> bool:
        return _has_screen("case")

    def evaluate(self) -> None:
        if self.submitted is not None and self.can_evaluate:
            self.app.go("evaluation", case=self.submitted.progress_ref)

    def certificate(self) -> None:
        if self.submitted is not None and self.can_collect:
            self.app.go("case", number=self.submitted.progress_ref)

    def finish(self) -> None:
        self.app.session.end(EndReason.FINISHED)

    # -- the text ----------------------------------------------------------------------------------
    def qr_payload(self, submitted) -> str:
        return progress_url(submitted, self.app.terminal.config.terminal.progress_url) if submitted else ""

    @staticmethod
    def headline(lang: str, state: str, submitted, error: str) -> str:
        if state == SENDING:
            return translate(N_("Sending your application… please wait."), lang)
        if state == FAILED:
            return error + "\n" + translate(N_("Nothing was sent. Please try again, or ask the station staff."), lang)
        if submitted is None:
            return ""
        if submitted.status == "completed":
            return translate(N_("Your application was completed on the spot."), lang)
        if submitted.delivered:
            return translate(N_("Your application was accepted and sent to the department."), lang)
        return translate(N_("Your application is saved at this terminal. The line to the platform is down just now: "
                            "it will be sent by itself when the line is back."), lang)

    @staticmethod
    def number_text(lang: str, submitted) -> str:
        if submitted is None:
            return ""
        label, number = number_line(submitted, lang)
        return f"{label}{translate(N_(': '), lang)}{number}"

    @staticmethod
    def details(lang: str, submitted) -> str:
        if submitted is None:
            return ""
        colon = translate(N_(": "), lang)  # the headline says what the notice's unlabelled line says
        return "\n".join(f"{label}{colon}{text}" for label, text in notice_lines(submitted, lang) if label)

    @staticmethod
    def print_text(lang: str, print_state: str, print_error: str) -> str:
        if print_state == PRINTING:
            return translate(N_("Printing the acceptance notice…"), lang)
        if print_state == PRINTED:
            return translate(N_("Printed. Please take the acceptance notice from the printer slot."), lang)
        if print_state == NOT_PRINTED:
            return translate(N_("Your application is safe: it is stored at this terminal. The notice could not be "
                                "printed: {reason} Scan the QR code to follow your case; print the notice again here "
                                "when the printer works, or later under My cases."), lang, reason=print_error)
        return ""
