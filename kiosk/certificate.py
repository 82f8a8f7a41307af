"""A completed case's certificate on A4: the terminal's template filled from the case's data.

Decision: the terminal prints its own template, filled from what the platform says about
the case (item, case number, result and completion date from the case's history, the
handling body from the catalog), with the platform's verification code and a QR code of
the verification page. The platform's own PDF stays the original: anyone checks the paper
against it with the code or the QR code. The kiosk has no library that can place another
PDF's pages (reportlab cannot import pages), and rasterising an outside PDF at the terminal
would add a converter to the runtime for no gain in trust.

Drawn with reportlab; Chinese in WenQuanYi Micro Hei (fonts-wqy-microhei). The
certificate is an official paper: it is always in Chinese.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from l10n import N_, translate

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WenQuanYiMicroHei"
LANGUAGE = "zh_CN"
MM = 72 / 25.4


@dataclass(frozen=True)
class Sheet:
    """What the certificate page shows."""

    item_name: str
    case_no: str
    verification_code: str
    verify_url: str               # the QR code's payload
    handling_body: str = ""
    result: str = ""              # the platform's note on completion
    completed_on: date | None = None
    station: str = ""
    printed_at: datetime | None = None


def verify_link(pattern: str, case_no: str, code: str) -> str:
    """``{case_no}`` and ``{code}`` of ``pattern`` filled in."""
    return pattern.replace("{case_no}", case_no).replace("{code}", code)


def sheet_for(certificate, case, *, handling_body: str = "", station: str = "", verify_url: str,
              printed_at: datetime | None = None) -> Sheet:
    """The sheet of a ``kiosk.cases.Certificate`` for its ``CaseView``."""
    done = [(when, note) for when, status, note in case.history if status == "completed"]
    when, note = done[-1] if done else (None, "")
    return Sheet(item_name=certificate.item_name or case.item_name, case_no=certificate.case_no or case.case_no,
                 verification_code=certificate.verification_code,
                 verify_url=verify_link(verify_url, certificate.case_no or case.case_no, certificate.verification_code),
                 handling_body=handling_body, result=note, completed_on=when.date() if when else None,
                 station=station, printed_at=printed_at)


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE, subfontIndex=0))
    return FONT


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points, between any two characters
    (Chinese has no spaces to break at)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    lines, line = [], ""
    for char in text:
        if line and stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = ""
        line += char
    return lines + [line] if line else lines


def render(sheet: Sheet, out: Path) -> Path:
    """Write the certificate PDF to ``out`` (one A4 page); FileNotFoundError without the font."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    t = lambda msgid, **p: translate(msgid, LANGUAGE, **p)  # noqa: E731
    font, (width, height) = _font(), A4
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = Canvas(str(out), pagesize=A4)
    pdf.setTitle(t(N_("Certificate")) + f" {sheet.case_no}")
    margin = 20 * MM
    pdf.setLineWidth(2)
    pdf.rect(margin / 2, margin / 2, width - margin, height - margin)

    y = height - 2 * margin
    pdf.setFont(font, 22)
    for line in _lines(sheet.item_name, font, 22, width - 2 * margin):
        pdf.drawCentredString(width / 2, y, line)
        y -= 30
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, y, t(N_("Notice of the result")))
    y -= 50

    rows = [
        (t(N_("Case number")), sheet.case_no),
        (t(N_("Service item")), sheet.item_name),
        (t(N_("Handled by")), sheet.handling_body),
        (t(N_("Result")), sheet.result or t(N_("Completed"))),
        (t(N_("Completed on")), t(N_("{year}-{month}-{day}"), year=sheet.completed_on.year,
                                   month=f"{sheet.completed_on.month:02d}", day=f"{sheet.completed_on.day:02d}")
         if sheet.completed_on else ""),
    ]
    label_w = 32 * MM
    for label, value in rows:
        if not value:
            continue
        pdf.setFont(font, 13)
        pdf.drawString(margin, y, label + t(N_(": ")))
        for line in _lines(value, font, 13, width - 2 * margin - label_w):
            pdf.drawString(margin + label_w, y, line)
            y -= 22
        y -= 8

    # the verification band: QR code, code, how to check
    qr_size = 40 * MM
    band = margin + 10 * MM
    widget = QrCodeWidget(sheet.verify_url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - margin - qr_size, band)
    pdf.setFont(font, 16)
    pdf.drawString(margin, band + qr_size - 16, t(N_("Verification code: {code}"), code=sheet.verification_code))
    pdf.setFont(font, 11)
    text_w = width - 3 * margin - qr_size
    y = band + qr_size - 40
    for line in _lines(t(N_("Scan the QR code, or enter the case number and the verification code on the "
                                 "government service website, to check this certificate.")), font, 11, text_w):
        pdf.drawString(margin, y, line)
        y -= 16
    printed = (sheet.printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    footer = t(N_("Printed at {station} {time}"), station=sheet.station, time=printed)
    for line in _lines(footer, font, 11, text_w):
        pdf.drawString(margin, y - 6, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return out
