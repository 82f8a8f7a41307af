"""My cases (办件查询) by touch, against the session's upstream sandbox.

Two applications of the card's holder go in through the real ``terminal.cases`` (sealed
store, outbox) to the sandbox, which decides their fate by its documented rules: one is
granted (completed, certificate ready), one is denied (a form value with 驳回: rejected
with the platform's reason). Then, by touch: the ID card on the reader lists them; the
rejected one shows its reason; the completed one, opened by the digits of its terminal
reference typed on the keypad, prints its certificate through the private cupsd and
cups-pdf (the PDF's text checked with pdftotext) and its acceptance notice again on the
ESC/POS simulator, with the same progress address in the QR code as the first print.
The receipt's QR code laid under the simulated document camera opens its case; a QR code
that is not ours says so and leaves the keypad and the retry.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from _platform import tap_shown, type_on_keypad, within
from drivers.sim.camera_source import render_qr_paper
from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk.cases import Applicant, Application, ScannedMaterial
from kiosk.catalog.modules import A4_PRINTER, CAMERA, PRINTER
from kiosk.receipts import progress_url
from kiosk.upstream.client import Upstream
from kiosk.upstream.sandbox.rules import DENIED_REASON
from screens.cases import CaseButton

PERSON = DEMO_IDENTITIES[0]  # the card on the simulated reader
ITEM = "2000102000"  # a village item the sandbox accepts


def submit(terminal, pages: Path, purpose: str):
    """One application of the card's holder, stored and delivered by the real store and outbox."""
    item = terminal.catalog.get(ITEM)
    materials = []
    for n, material in enumerate(item.materials[:2]):
        page = pages / f"{purpose}-{n}.png"
        Image.new("L", (64, 48), 40 + 60 * n).save(page)
        materials.append(ScannedMaterial(material.name, (page,)))
    application = Application(item, Applicant.from_identity(PERSON, "13800138000"), {"purpose": purpose},
                              tuple(materials))
    return terminal.cases.submit(application, wait_s=15)


def settled(terminal, ref: str, status: str):
    """The case once the platform says ``status`` (the sandbox moves a step every pace seconds)."""
    return within(lambda: (case := terminal.cases.find(ref)) is not None and case.status == status and case,
                  60, f"case {ref} to become {status}")


@pytest.fixture(scope="module")
def cases(harness, tmp_path_factory):
    """(granted, rejected): each a (Submitted, CaseView) once the platform has decided."""
    terminal, pages = harness.app.terminal, tmp_path_factory.mktemp("pages")
    granted, denied = submit(terminal, pages, "入学"), submit(terminal, pages, "入学（驳回）")
    assert granted.delivered and denied.delivered, "the sandbox is up: both go straight to the platform"
    return ((granted, settled(terminal, granted.ref, "completed")),
            (denied, settled(terminal, denied.ref, "rejected")))


def open_my_cases(ui):
    ui.tap((10, 10))  # wakes the terminal at home
    ui.tap(ui.app.screen.ids.cases)
    assert ui.screen == "cases"
    return ui.app.screen


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_by_id_card_the_rejected_case_shows_its_reason(ui, cases):
    (granted, _), (denied, rejected) = cases
    screen = open_my_cases(ui)  # the card is on the reader: read at once
    ui.wait(lambda: screen.state == "listed", timeout=40, what="the card read and the cases listed")
    numbers = {c.case_no for c in screen.cases}
    assert {granted.case_no, denied.case_no} <= numbers
    assert f"您共有 {len(screen.cases)} 件办件" in screen.ids.status.text
    button = next(b for b in ui.find_all(CaseButton) if b.case.case_no == denied.case_no)
    assert "✕ 不予办理" in button.text and denied.case_no in button.text
    tap_shown(ui, button)
    assert ui.screen == "case"
    case = ui.app.screen
    ui.wait(lambda: case.state == "shown", timeout=20, what="the case looked up")
    assert case.case == rejected and f"办件编号：{denied.case_no}" in case.ids.summary.text
    assert "✕ 不予办理" in case.ids.summary.text
    assert f"✕ 原因：{DENIED_REASON}" in case.ids.warning.text
    assert not case.case.certificate_ready and case.ids.print_certificate.opacity == 0
    history = [line.text for line in reversed(case.ids.history.children)]  # as shown, top down
    assert len(history) == 4 and "不予办理" in history[0] and "已提交" in history[-1]  # newest first


def test_by_number_typed_the_certificate_prints_with_its_code(ui, cases):
    (granted, _), _ = cases
    station, terminal = ui.station, ui.app.terminal
    screen = open_my_cases(ui)
    digits = "".join(filter(str.isdigit, granted.ref))  # the reference's letters and hyphens cannot be typed
    assert digits != granted.ref
    type_on_keypad(ui, screen.ids.keypad, digits)
    assert ui.screen == "case"
    case = ui.app.screen
    ui.wait(lambda: case.state == "shown", timeout=20, what="the case looked up")
    assert case.case.case_no == granted.case_no and case.case.status == "completed"
    assert "✓ 办结" in case.ids.summary.text and not case.ids.warning.text
    assert "您的证照已出" in case.ids.certificate_note.text

    ui.wait(lambda: terminal.ready_printer(A4_PRINTER) is not None, timeout=30, what="the A4 printer")
    before = len(station.cups.printed())
    tap_shown(ui, case.ids.print_certificate)
    ui.wait(lambda: case.print_state != "printing", timeout=90, what="the certificate printed")
    assert case.print_state == "printed", case.print_error
    assert "打印完成" in case.ids.certificate_note.text
    within(lambda: len(station.cups.printed()) > before, 30, "cups-pdf's PDF")
    text = "".join(pdftotext(station.cups.printed()[-1]).split())
    platform = Upstream(terminal.config.upstream, terminal.config.terminal.id)  # the platform's own word
    try:
        _pdf, code = platform.certificate(granted.case_no)
    finally:
        platform.close()
    # cups-pdf's Ghostscript re-embeds the CJK font without its text map: the Chinese of the page is
    # read back in tests/test_certificate.py from the kiosk's own PDF; here, what went through CUPS
    assert code and code in text and granted.case_no in text


def test_the_receipt_reprints_with_the_first_prints_progress_address(ui, cases):
    (granted, _), _ = cases
    station, terminal = ui.station, ui.app.terminal
    ui.tap((10, 10))
    ui.app.go("case", number=granted.case_no)
    case = ui.app.screen
    ui.wait(lambda: case.state == "shown", timeout=20, what="the case looked up")
    ui.wait(lambda: terminal.ready_printer(PRINTER) is not None, timeout=30, what="the receipt printer")
    before = len(station.printer.documents)
    tap_shown(ui, case.ids.reprint)
    ui.wait(lambda: case.print_state != "printing", timeout=30, what="the receipt printed")
    assert case.print_state == "printed", case.print_error
    doc = station.printer.wait_documents(before + 1)[before]
    assert granted.case_no in "".join(doc.texts).replace(" ", "")
    progress = terminal.config.terminal.progress_url.replace("{number}", granted.case_no)
    assert [qr.payload for qr in doc.qr_codes] == [progress]  # what the APPLY flow's first print carries


def test_an_unknown_number_says_so(ui):
    screen = open_my_cases(ui)
    type_on_keypad(ui, screen.ids.keypad, "999999999999")
    case = ui.app.screen
    ui.wait(lambda: case.state != "loading", timeout=20, what="the look-up")
    assert case.state == "not_found" and "没有找到编号为 999999999999 的办件" in case.ids.summary.text


@pytest.fixture
def camera(ui):
    """The simulated document camera's desk; the form page back on it afterwards."""
    yield ui.station.camera
    ui.station.camera.show(None)


def scan_qr(ui, screen) -> None:
    ui.wait(lambda: ui.app.terminal.device_of_kind(CAMERA) is not None and screen.can_scan, timeout=30,
            what="the document camera")
    ui.tap(screen.ids.scan_qr)


def test_the_receipts_qr_code_under_the_camera_opens_its_case(ui, cases, camera):
    (granted, _), _ = cases
    camera.show(render_qr_paper(progress_url(granted, ui.app.terminal.config.terminal.progress_url)))
    screen = open_my_cases(ui)
    ui.wait(lambda: screen.state not in ("reading", "searching"), timeout=40, what="the card on the reader read")
    scan_qr(ui, screen)
    ui.wait(lambda: ui.screen == "case", timeout=30, what="the QR code read")
    case = ui.app.screen
    ui.wait(lambda: case.state == "shown", timeout=20, what="the case looked up")
    assert case.number == granted.case_no and case.case.case_no == granted.case_no
    assert f"办件编号：{granted.case_no}" in case.ids.summary.text


def test_a_qr_code_not_ours_says_so_and_the_keypad_stays(ui, camera):
    camera.show(render_qr_paper("https://www.example.com/pay?order=123456"))
    screen = open_my_cases(ui)
    ui.wait(lambda: screen.state not in ("reading", "searching"), timeout=40, what="the card on the reader read")
    scan_qr(ui, screen)
    ui.wait(lambda: screen.state != "qr_reading", timeout=30, what="the QR code read")
    assert ui.screen == "cases" and screen.state == "qr_failed"
    assert "不是本服务受理通知书上的二维码" in screen.ids.status.text and "重新扫描" in screen.ids.status.text
    assert not screen.ids.scan_qr.disabled and screen.ids.keypad.opacity == 1
    camera.show(None)  # the retry sees a page without any code
    ui.tap(screen.ids.scan_qr)
    ui.wait(lambda: screen.state != "qr_reading", timeout=30, what="the page read again")
    assert screen.state == "qr_failed" and "未识别到二维码" in screen.ids.status.text
