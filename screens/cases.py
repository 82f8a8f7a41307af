"""My cases (办件查询): find cases by the ID card on the reader, or by the receipt's number.

Putting the ID card on the reader lists that person's cases; typing the case number from
the receipt on the keypad, or holding the receipt's QR code under the document camera
(or on the flatbed: ``kiosk.qr_lookup``), opens that case. The identity read here belongs to the visit
(wiped with it). A case opens in ``screens.case``.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from drivers.base import DeviceError
from kiosk.catalog.modules import CAMERA, IDCARD, SCANNER
from kiosk.qr_lookup import QrLookupError, number_in_image
from l10n import N_, translate
from screens.background import Background
from screens.base import BaseScreen
from screens.case import day_text, status_text
from screens.idcard import read_identity
from screens.widgets import BigButton
from screens.widgets.keypad import Keypad  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

IDLE, READING, SEARCHING, LISTED, NONE, FAILED, NO_READER = (
    "", "reading", "searching", "listed", "none", "failed", "no_reader")
QR_READING, QR_FAILED = "qr_reading", "qr_failed"
QR_SOURCES = (CAMERA, SCANNER)  # the camera first: the receipt lies face up, nothing to lift


class CaseButton(BigButton):
    case = ObjectProperty(None)

    def label(self, lang: str) -> str:
        case = self.case
        when = day_text(case.promised_date, lang)
        lines = [case.item_name, status_text(case.status, lang) + ("　△ " + translate(N_("Overdue"), lang)
                                                                     if case.overdue else "")]
        lines.append(translate(N_("Case {number}"), lang, number=case.case_no or case.ref)
                     + (("　" + translate(N_("promised by {date}"), lang, date=when)) if when else ""))
        return "\n".join(lines)


class CasesScreen(BaseScreen):
    state = StringProperty(IDLE)
    error = StringProperty("")
    cases = ListProperty()
    progress = NumericProperty(0)
    can_scan = BooleanProperty(False)  # a document camera or a scanner is serving

    def on_kv_post(self, base_widget) -> None:
        self._work = Background()
        self.app.bind(lang=lambda *_: self._fill())

    def on_activate(self, **kwargs: object) -> None:
        self.state, self.error, self.cases = IDLE, "", []
        self.ids.keypad.clear()
        self._fill()
        self._refresh_sources()
        reader = self.app.terminal.device_of_kind(IDCARD)
        if reader is not None and reader.state.detail.get("card") == "present":
            Clock.schedule_once(lambda dt: self.read_card())

    def on_deactivate(self) -> None:
        self._work.cancel()
        self.cases = []
        self.ids.results.clear_widgets()

    def on_device_change(self, change) -> None:
        if change.kind in QR_SOURCES:
            self._refresh_sources()
        if (change.kind == IDCARD and change.new.detail.get("card") == "present"
                and change.old.detail.get("card") != "present" and self.state not in (READING, SEARCHING)):
            self.read_card()

    # -- by ID card ----------------------------------------------------------------------
    def read_card(self) -> None:
        if self.state == QR_READING:
            return
        self.state, self.error = READING, ""
        if not read_identity(self.app, self._work, self._card_read):
            self.state = NO_READER

    def _card_read(self, identity, error) -> None:
        if error is not None:
            self.state = FAILED
            self.error = error.message(self.app.lang) if isinstance(error, DeviceError) else ""
            return
        self.state = SEARCHING
        terminal = self.app.terminal  # its cases open on first use: in the worker
        self._work.run(lambda: terminal.cases.for_person(identity.id_number), done=self._listed)

    def _listed(self, cases, error) -> None:
        if error is not None:
            self.state = FAILED
            return
        self.cases = list(cases)
        self.state = LISTED if self.cases else NONE
        self._fill()

    def _fill(self) -> None:
        box = self.ids.results
        box.clear_widgets()
        for case in self.cases:
            button = CaseButton(case=case)
            button.bind(on_release=lambda b: self.open(b.case.case_no or b.case.ref))
            box.add_widget(button)

    # -- by the receipt's QR code ---------------------------------------------------------
    def _source(self):
        terminal = self.app.terminal
        return next((d for d in map(terminal.device_of_kind, QR_SOURCES) if d is not None), None)

    def _refresh_sources(self) -> None:
        self.can_scan = self._source() is not None

    def scan_qr(self) -> None:
        """Capture the receipt (camera, else flatbed), find its QR code and open the case it names."""
        device = self._source()
        if device is None or self.state in (READING, SEARCHING, QR_READING):
            return
        visit = self.app.session.visit or self.app.session.start()
        self.state, self.error, self.progress = QR_READING, "", 0
        pattern = self.app.terminal.config.terminal.progress_url
        self._work.run(self._read_qr, device, visit.scan_path(".png"), pattern,
                       lambda pct: Clock.schedule_once(lambda dt: self._progress(pct)), done=self._qr_read)

    @staticmethod
    def _read_qr(device, path: Path, pattern: str, progress) -> str:
        """The case number on the receipt (a worker thread); the picture is not kept."""
        capture = device.photo if device.kind == CAMERA else device.scan
        try:
            capture(path, progress=progress).result()
            return number_in_image(path, pattern)
        finally:
            path.unlink(missing_ok=True)

    def _progress(self, pct: float) -> None:
        if self.state == QR_READING:
            self.progress = pct

    def _qr_read(self, number, error) -> None:
        if error is None:
            self.state = IDLE
            self.open(number)
            return
        lang = self.app.lang
        if isinstance(error, QrLookupError):
            self.error = translate(error.msgid, lang)
        elif isinstance(error, DeviceError):
            self.error = f"{error.message(lang)} {error.hint(lang)}"
        else:
            self.error = translate(N_("The receipt could not be read."), lang)
        self.state = QR_FAILED

    # -- by number -----------------------------------------------------------------------
    def open(self, number: str) -> None:
        number = number.strip()
        if number:
            self.app.go("case", number=number)

    # -- texts ---------------------------------------------------------------------------
    def status_line(self, lang: str, state: str, error: str, count: int, progress: float = 0) -> str:
        return {
            IDLE: translate(N_("Put your ID card on the reader to see all your cases, scan the QR code on your "
                               "receipt, or type the digits of its number (leave out letters and dashes)."), lang),
            READING: translate(N_("Reading your ID card… please keep it on the reader."), lang),
            SEARCHING: translate(N_("Looking up your cases…"), lang),
            LISTED: translate(N_("Your cases: {n}. Tap one to see its progress."), lang, n=count),
            NONE: translate(N_("No cases were found for your ID card."), lang),
            FAILED: (translate(N_("Your cases cannot be looked up just now. You can type the case number instead."),
                               lang) + (f"\n{error}" if error else "")),
            NO_READER: translate(N_("The ID card reader is not working just now. Please type the case number "
                                    "from your receipt."), lang),
            QR_READING: translate(N_("Reading the QR code on your receipt… {percent}%  Please keep it still."),
                                  lang, percent=int(progress)),
            QR_FAILED: error + "\n" + translate(N_("Tap the button to try again, or type the case number."), lang),
        }[state]
