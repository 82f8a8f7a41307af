"""One service item's guide, laid out for an elderly reader, and printing it.

The name big; then the handling body, the item code and the published fields in
order (materials as a numbered checklist, steps numbered); big page buttons move
through long text. "Print this guide" prints it on the receipt printer with a QR
code; when the printer cannot print, the screen says so and shows the QR code.
"Apply here" (items with a form) starts an application at the terminal (``screens/apply_*``).
Once printed, the evaluation of the service is offered (never forced).
"""
from __future__ import annotations

from pathlib import Path

import qrcode
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalog.modules import PRINTER
from kiosk.forms import applicable
from kiosk.printing import CHECKBOX, guide_receipt, guide_sections, guide_url
from l10n import N_, translate
from screens.base import BaseScreen
from screens.receipt_print import ReceiptPrint, failure_text
from screens.widgets import BodyLabel, TitleLabel
from screens.widgets.paging import PagedScroll  # noqa: F401  (kv rules)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

IDLE, PRINTING, DONE, FAILED, UNAVAILABLE = "", "printing", "done", "failed", "unavailable"


class QrImage(Widget):
    """A QR code of ``payload``, drawn pixel-exact on a white quiet zone."""

    payload = StringProperty("")
    texture = ObjectProperty(None, allownone=True)

    def on_payload(self, _widget, payload: str) -> None:
        if not payload:
            self.texture = None
            return
        code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(payload)
        code.make(fit=True)
        matrix = code.get_matrix()
        size = len(matrix)
        pixels = bytes(v for row in reversed(matrix) for dark in row for v in ((0, 0, 0, 255) if dark else (255,) * 4))
        texture = Texture.create(size=(size, size), colorfmt="rgba")
        texture.mag_filter = texture.min_filter = "nearest"
        texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
        self.texture = texture


class NumberedLine(BoxLayout):
    number = StringProperty("")
    text = StringProperty("")


class SectionView(BoxLayout):
    heading = StringProperty("")


class GuideScreen(BaseScreen):
    item = ObjectProperty(None, allownone=True)
    print_state = StringProperty(IDLE)
    error = ObjectProperty(None, allownone=True)
    printer_ready = BooleanProperty(False)
    qr_payload = StringProperty("")
    can_apply = BooleanProperty(False)  # the item can be applied for at this terminal
    def on_kv_post(self, base_widget) -> None:
        self._print = ReceiptPrint(self.app, "guide", self._printed)
        self.app.bind(lang=lambda *_: self._fill())

    def on_activate(self, code: str = "", **kwargs: object) -> None:
        self.item = self.app.terminal.catalog.get(code)
        self.print_state, self.error = IDLE, None
        self._print.forget()  # a print finishing from an earlier visit of this screen is not shown
        self.qr_payload = guide_url(self.item, self.app.terminal.config.terminal.guide_url) if self.item else ""
        self.can_apply = self.item is not None and applicable(self.item)
        self._refresh_printer()
        self._fill()
        self.ids.paged.home()

    def on_deactivate(self) -> None:
        self.item, self.error, self.print_state, self.qr_payload, self.can_apply = None, None, IDLE, "", False
        self.ids.paged.body.clear_widgets()

    def on_device_change(self, change) -> None:
        if change.kind == PRINTER:
            self._refresh_printer()

    def apply(self) -> None:
        """Apply for this item here: the ID card first."""
        if self.item is not None and self.can_apply:
            self.app.go("apply_card", code=self.item.code.basic)

    def evaluate(self) -> None:
        """Offered once the guide is printed; the evaluation screen can always be skipped."""
        self.app.go("evaluation", service="guide", case="")

    # -- printing -------------------------------------------------------------------
    def print_guide(self) -> None:
        if self.item is None or self.print_state == PRINTING:
            return
        config = self.app.terminal.config.terminal
        receipt = guide_receipt(self.item, self.app.lang, station=config.station, url_pattern=config.guide_url)
        if self._print.start(receipt):
            self.print_state, self.error = PRINTING, None
        else:
            self.print_state = UNAVAILABLE

    def _printed(self, error) -> None:
        self.error, self.print_state = error, DONE if error is None else FAILED
        self._refresh_printer()

    def _refresh_printer(self) -> None:
        self.printer_ready = self._print.printer() is not None

    def status_text(self, lang: str, state: str, error, ready: bool) -> str:
        """What the panel under the print button says."""
        scan = translate(N_("Scan the QR code with your phone to keep this guide."), lang)
        if state == PRINTING:
            return translate(N_("Printing… please wait."), lang)
        if state == DONE:
            return translate(N_("Printed. Please take the receipt from the printer slot."), lang)
        if state == FAILED:
            return translate(N_("Could not print: {reason}"), lang, reason=failure_text(error, lang)) + "\n" + scan
        if not ready:
            return translate(N_("The receipt printer is not working just now."), lang) + "\n" + scan
        return ""

    # -- the text ---------------------------------------------------------------------
    def _fill(self) -> None:
        body = self.ids.paged.body
        body.clear_widgets()
        item, lang = self.item, self.app.lang
        if item is None:
            if self.manager is not None and self.manager.current == self.name:
                body.add_widget(BodyLabel(text=translate(N_("This guide is no longer in the catalog."), lang)))
            return
        body.add_widget(TitleLabel(text=item.name, font_size=self.app.style.title * 1.2))
        if item.on_the_spot:
            body.add_widget(BodyLabel(text="★ " + translate(N_("Done on the spot at the counter"), lang), bold=True))
        for section in guide_sections(item, lang):
            view = SectionView(heading=section.heading)
            for n, line in enumerate(section.lines, 1):
                if section.numbered:
                    mark = f"{CHECKBOX} {n}." if section.key == "materials" else f"{n}."
                    view.add_widget(NumberedLine(number=mark, text=line))
                else:
                    view.add_widget(BodyLabel(text=line))
            body.add_widget(view)
