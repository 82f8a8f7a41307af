"""Applying at the terminal by touch: guide → ID card → form → scans → check → submit → printed notice.

Real touches through Kivy's input path on the simulated station: the SAM reader on a pty
reads the demo card, the document camera source and SANE's test backend scan, the
ESC/POS simulator decodes the notice. The application is stored by the real
``terminal.cases`` (SQLite store, sealed scans) and sent by the real outbox to the
session's upstream sandbox (tests/ui/conftest.py): on the platform at once, or — while
the sandbox is in an outage — queued at the terminal and delivered once it is back.

The agent's staff badge arrives as the app's ``_on_staff_badge`` call that the PC/SC
reader's listener makes (libpcsclite takes one pcscd per process and this process's
PC/SC reader is left out; the badge's PC/SC path runs in tests/test_pcsc.py).
"""
from __future__ import annotations

import os
from pathlib import Path

from drivers.idcard.identity import masked_id
from drivers.sim.samv_reader import DEMO_IDENTITIES
from fleet.protocol import Stamp, now
from kiosk.drafts import Draft
from screens import apply_card, apply_submit
from screens.apply_form import FieldChoice, FieldRow
from screens.apply_materials import PageThumb
from screens.apply_review import ReviewRow
from screens.guides import ItemButton
from screens.widgets import BodyLabel
from screens.widgets.pinyin_keyboard import CandidateButton, Key

SHOTS = Path(os.environ.get("KIOSK_SHOTS", "/tmp/kiosk-shots"))
PERSON = DEMO_IDENTITIES[0]
STAMP = Stamp(now(), 1, "boot-ui")
APPLY_SCREENS = ("apply_card", "apply_form", "apply_materials", "apply_review", "apply_submit")
BADGE = "04A22B5C"  # a staff card of the conftest's [queue] staff_cards
ELECTRICITY = "2001601000"  # 居民用电报装: not done on the spot; its install address is typed
OUTAGE_S = 20.0  # longer than storing the application and its first try to send it


def shot(ui, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    ui.frames(4)
    ui.app.root.export_to_png(str(SHOTS / f"{name}.png"))


def open_guide(ui, letters: str = "wfc", name: str = "无房产证明") -> None:
    ui.tap((10, 10))  # wakes the terminal at home
    ui.settle()
    assert ui.screen == "home"
    ui.tap(ui.app.screen.ids.guides)
    ui.settle()
    assert ui.screen == "guides"
    ui.tap(ui.app.screen.ids.tab_search)
    for letter in letters:
        ui.tap(next(k for k in ui.find_all(Key) if k.value == letter))
    ui.tap(ui.find(ItemButton, name))
    assert ui.screen == "guide"


def read_card(ui) -> None:
    ui.tap(ui.app.screen.ids.apply_button)
    assert ui.screen == "apply_card"
    screen = ui.app.screen
    ui.wait(lambda: screen.state == "read", timeout=40, what="the ID card read")
    assert PERSON.name in screen.holder and masked_id(PERSON.id_number) in screen.holder
    ui.tap(screen.ids.proceed)
    assert ui.screen == "apply_form"


def keypad_type(ui, digits: str) -> None:
    keypad = ui.app.screen._keypad
    ui.tap(keypad.ids["clear"])
    for digit in digits:
        ui.tap(next(w for w in ui.find_all(root=keypad) if getattr(w, "text", None) == digit))
    ui.tap(keypad.ids.ok)


def row(ui, name: str) -> FieldRow:
    return next(r for r in ui.find_all(FieldRow) if r.name == name)


def fill_form(ui) -> None:
    """The card filled the applicant's fields; the phone and the purpose are typed and chosen."""
    screen = ui.app.screen
    assert screen.current == "phone" and screen.kind == "keypad"
    keypad_type(ui, "13800138000")
    assert screen.current == "purpose" and screen.kind == "choices"
    ui.tap(ui.find(FieldChoice, "子女入学"))
    ui.tap(screen.ids.next)
    assert ui.screen == "apply_materials"


def scan(ui, button: str) -> None:
    screen = ui.app.screen
    before = screen.pages
    ui.tap(screen.ids[button])
    ui.wait(lambda: not screen.scanning, timeout=60, what="the scan")
    assert not screen.error, screen.error
    assert screen.pages == before or screen.retake == -1


def scan_materials(ui) -> None:
    """Material 1: two pages on the camera; material 2: one on the flatbed; material 3: not needed."""
    screen = ui.app.screen
    assert screen.index == 0
    scan(ui, "scan_camera")
    scan(ui, "scan_camera")
    assert screen.pages == 2
    ui.tap(screen.ids.done)
    assert screen.index == 1
    scan(ui, "scan_flatbed")
    ui.tap(screen.ids.done)
    assert screen.index == 2
    ui.tap(screen.ids.skip)
    assert ui.screen == "apply_review"


def on_platform(ui, ref: str) -> list[dict] | None:
    """The sandbox's cases sent with terminal reference ``ref`` (None while it is unreachable)."""
    try:
        return [case for case in ui.sandbox.summary()["cases"] if case["ref"] == ref]
    except RuntimeError:  # the outage takes the sandbox's admin door away too
        return None


def submit_and_wait(ui):
    """Tap Submit on the check step; the submit screen once the application is stored."""
    ui.tap(ui.app.screen.ids.submit)
    assert ui.screen == "apply_submit"
    done = ui.app.screen
    ui.wait(lambda: done.state == "result", timeout=90, what="the application stored")
    return done


def nothing_of_the_visit_left(ui, visit, folder: Path) -> None:
    assert ui.screen == "attract" and ui.app.session.visit is None
    assert visit.identity is None and Draft.of(visit) is None and not folder.exists()
    for name in APPLY_SCREENS:
        screen = ui.app.manager.get_screen(name)
        texts = [getattr(w, "text", "") for w in screen.walk(restrict=True)]
        assert not any(PERSON.name in t or "13800138000" in t for t in texts), name
        assert getattr(screen, "draft", None) is None and getattr(screen, "submitted", None) is None


def test_apply_from_a_guide_to_the_printed_notice(ui, monkeypatch):
    """无房产证明 is done on the spot: on the platform at once, completed, its certificate offered."""
    monkeypatch.setattr(apply_submit, "DELIVERY_WAIT_S", 90.0)  # the platform is up: it answers well before
    printer = ui.station.printer
    counters = ui.app.terminal.counters
    open_guide(ui)
    read_card(ui)
    screen = ui.app.screen
    visit = ui.app.session.visit
    assert visit.identity.id_number == PERSON.id_number
    assert row(ui, "name").note and row(ui, "id_number").value.replace(" ", "") == PERSON.id_number
    shot(ui, "apply-form-landscape")

    # a wrong phone number: said in words under the field, then corrected
    keypad_type(ui, "12345")
    assert screen.current == "phone" and "手机号码" in row(ui, "phone").problem
    shot(ui, "apply-form-error-landscape")
    ui.tap(screen.ids.next)
    assert ui.screen == "apply_form" and screen.open_problems == 2  # the phone, and the purpose not chosen
    assert "2" in screen.ids.problems.text and screen.current == "phone"
    fill_form(ui)

    counters.take(STAMP)  # a new window of the fleet's counts begins
    materials = ui.app.screen
    scan(ui, "scan_camera")
    first = materials.draft.pages[0][0]
    scan(ui, "scan_camera")
    shot(ui, "apply-materials-landscape")
    # retake page 1: it is replaced, the page count stays
    ui.tap(ui.find_all(PageThumb)[0].ids.retake)
    assert materials.retake == 0
    scan(ui, "scan_camera")
    assert materials.pages == 2 and materials.draft.pages[0][0] != first and materials.retake == -1
    ui.tap(materials.ids.done)
    scan(ui, "scan_flatbed")
    ui.tap(materials.ids.done)
    ui.tap(materials.ids.skip)
    assert ui.screen == "apply_review"
    assert counters.take(STAMP).scans == 4  # three pages and a retake

    lines = [r.text for r in ui.find_all(ReviewRow)]
    assert any("138 0013 8000" in t or "13800138000" in t for t in lines)
    assert any("2页" in t for t in lines) and any("无需提供" in t or "不需要" in t for t in lines)
    shot(ui, "apply-review-landscape")
    before = len(printer.documents)
    done = submit_and_wait(ui)
    submitted = done.submitted
    assert submitted.applicant_name == PERSON.name and submitted.masked_id == masked_id(PERSON.id_number)
    assert submitted.materials == (("申请人居民身份证", 2), ("不动产登记资料查询申请书", 1))
    # on the platform, with the platform's case number; done on the spot: its result, the certificate offered
    assert submitted.delivered and submitted.case_no and submitted.status == "completed"
    terminal_id = ui.app.terminal.config.terminal.id
    assert on_platform(ui, submitted.ref) == [{"case_no": submitted.case_no, "terminal": terminal_id, "ref": submitted.ref,
                                               "item_code": "2000501000", "submitted": True, "pages": 3}]
    assert "当场办结" in done.ids.headline.text or "已办结" in done.ids.headline.text
    assert done.ids.number.text == f"办件编号：{submitted.case_no}"
    assert done.ids.certificate.opacity == 1 and not done.ids.certificate.disabled
    ui.wait(lambda: done.print_state == "printed", timeout=20, what="the notice printed")
    doc = printer.wait_documents(before + 1)[before]
    text = "".join(doc.texts).replace(" ", "")
    assert submitted.case_no in text and submitted.ref not in text
    assert masked_id(PERSON.id_number) in text and "无房产证明" in text and "当场办结" in text
    progress = f"https://www.gdzwfw.gov.cn/portal/v2/progress?case={submitted.case_no}"
    assert [qr.payload for qr in doc.qr_codes] == [progress]
    assert counters.take(STAMP).prints == 1
    shot(ui, "apply-submitted-landscape")

    ui.tap(ui.app.root.ids.topbar.ids.back)  # the way back no longer leads into the application
    assert ui.screen == "home"
    ui.app.go("apply_submit")  # coming back shows the result; nothing is sent twice
    assert ui.app.screen.submitted.ref == submitted.ref
    ui.settle()
    ui.tap(ui.app.screen.ids.certificate)  # the certificate: the case's own page prints it
    assert ui.screen == "case"
    case = ui.app.screen
    ui.wait(lambda: case.case is not None, timeout=30, what="the case from the platform")
    assert case.case.case_no == submitted.case_no and case.case.certificate_ready
    assert not case.ids.print_certificate.disabled
    ui.tap(ui.app.root.ids.topbar.ids.back)
    assert ui.screen == "apply_submit"
    assert len(on_platform(ui, submitted.ref)) == 1  # sent once
    folder = visit.dir
    ui.settle()
    ui.tap(ui.app.screen.ids.finish)
    nothing_of_the_visit_left(ui, visit, folder)


def test_paper_out_before_the_notice_the_case_is_safe_and_the_notice_reprints(ui):
    printer = ui.station.printer
    open_guide(ui)
    read_card(ui)
    fill_form(ui)
    scan_materials(ui)
    printer.fault = "paper_out"
    try:
        ui.wait(lambda: not ui.app.terminal.ready_printer("receipt_printer"), timeout=15, what="paper out seen")
        ui.tap(ui.app.screen.ids.submit)
        done = ui.app.screen
        ui.wait(lambda: done.state == "result", timeout=30, what="the application stored")
        assert done.print_state == "not_printed"
        assert "申请已安全保存" in done.ids.print_status.text or "已保存" in done.ids.print_status.text
        assert done.ids.qr.payload.endswith(done.submitted.progress_ref) and done.ids.qr.texture is not None
        assert ui.app.terminal.cases.find(done.submitted.ref) is not None
        shot(ui, "apply-paper-out-landscape")
    finally:
        printer.fault = "none"
    before = len(printer.documents)
    ui.wait(lambda: done.printer_ready, timeout=15, what="the printer back")
    ui.tap(done.ids.reprint)
    ui.wait(lambda: done.print_state == "printed", timeout=20, what="the notice reprinted")
    doc = printer.wait_documents(before + 1)[before]
    assert done.submitted.ref in "".join(doc.texts) or done.submitted.case_no in "".join(doc.texts)


def test_no_card_says_so_and_try_again_reads_it(ui, monkeypatch):
    monkeypatch.setattr(apply_card, "READ_TIMEOUT_S", 1.0)
    samv = ui.station.samv
    reader = ui.app.terminal.device_of_kind("idcard")
    samv.remove()
    try:  # seen gone before the visit starts (taking a card away during a visit asks "still there?")
        ui.wait(lambda: reader.state.detail.get("card") == "absent", what="the card seen gone")
        ui.frames(3)  # the app takes the change on its own thread
        ui.tap((10, 10))
        ui.app.go("apply_card", code="2000501000")  # the way from the guide is the first test's
        screen = ui.app.screen
        ui.wait(lambda: screen.state == "no_card", timeout=20, what="no card found")
        assert "没有" in screen.ids.message.text or "未" in screen.ids.message.text
        shot(ui, "apply-card-none-landscape")
    finally:
        samv.insert(PERSON)
        monkeypatch.undo()  # the next read waits as long as it does for a person
    ui.settle()
    ui.tap(screen.ids.again)
    ui.wait(lambda: screen.state == "read", timeout=20, what="the card read")


def test_an_idle_visit_mid_application_is_wiped(ui):
    open_guide(ui)
    read_card(ui)
    fill_form(ui)
    scan(ui, "scan_camera")
    visit = ui.app.session.visit
    folder = visit.dir
    assert any(folder.iterdir())
    session = ui.app.session
    session.timer.warn(session.clock())
    session.timer.tick(session.clock() + session.warning + 1)
    ui.frames(3)
    ui.wait(lambda: ui.screen == "attract", what="the wipe")
    nothing_of_the_visit_left(ui, visit, folder)


def type_pinyin(ui, letters: str) -> None:
    keyboard = ui.app.screen._pinyin
    for letter in letters:
        ui.tap(next(k for k in ui.find_all(Key, root=keyboard) if k.value == letter))


def test_the_agents_badge_marks_an_application_made_for_a_villager(ui, monkeypatch):
    """居民用电报装 for the card holder, by the village agent: the badge on the reader during the
    application is recorded and named on the check step and the notice; the install address,
    with its house number, is typed on the pinyin keyboard's digit row. The platform takes it
    at once (not on the spot): the notice gives the platform's case number and a promised date."""
    monkeypatch.setattr(apply_submit, "DELIVERY_WAIT_S", 90.0)  # the platform is up: it answers well before
    printer = ui.station.printer
    ui.tap((10, 10))
    ui.app.go("apply_card", code=ELECTRICITY)
    card = ui.app.screen
    ui.wait(lambda: card.state == "read", timeout=40, what="the ID card read")
    ui.tap(card.ids.proceed)
    form = ui.app.screen
    assert ui.screen == "apply_form" and Draft.of(ui.app.session.visit).agent == ""

    ui.app._on_staff_badge(BADGE)  # the agent's badge on the reader: it stays the villager's application
    ui.frames(3)
    draft = Draft.of(ui.app.session.visit)
    assert ui.screen == "apply_form" and draft.agent == BADGE
    keypad_type(ui, "13800138000")
    assert form.current == "install_address" and form.kind == "pinyin"

    keyboard = form._pinyin
    type_pinyin(ui, "dongling")
    first = ui.find_all(CandidateButton, root=keyboard)[0].text
    for digit in "12":  # a digit takes the pinyin typed so far as its first word, as Confirm does
        ui.tap(next(k for k in ui.find_all(Key, root=keyboard) if k.value == digit))
    type_pinyin(ui, "hao")
    second = ui.find_all(CandidateButton, root=keyboard)[0]
    ui.tap(second)
    assert form.typed.startswith(f"{first}12{second.text}")
    shot(ui, "apply-form-digits-landscape")
    ui.tap(keyboard.ids.confirm)
    assert draft.values["install_address"] == f"{first}12{second.text}"
    assert row(ui, "install_address").value == f"{first}12{second.text}" and not row(ui, "install_address").problem
    ui.app._on_staff_badge(None)  # the badge taken off: the application goes on, still the agent's
    ui.frames(3)
    assert ui.screen == "apply_form" and ui.app.session.active and draft.agent == BADGE

    ui.tap(form.ids.next)
    materials = ui.app.screen
    scan(ui, "scan_camera")
    ui.tap(materials.ids.done)
    scan(ui, "scan_camera")
    ui.tap(materials.ids.done)
    assert ui.screen == "apply_review"
    agent_line = "代办：村代办员（工作证 04A22B5C）"
    assert ui.find(BodyLabel, agent_line, root=ui.app.screen)
    shot(ui, "apply-review-agent-landscape")

    before = len(printer.documents)
    done = submit_and_wait(ui)
    submitted = done.submitted
    assert submitted.delivered and submitted.case_no and submitted.status != "completed"
    assert submitted.agent == BADGE and agent_line in done.ids.details.text
    assert done.ids.number.text == f"办件编号：{submitted.case_no}"
    assert "已受理" in done.ids.headline.text or "已提交" in done.ids.headline.text
    assert done.ids.certificate.opacity == 0  # not done on the spot: nothing to collect yet
    ui.wait(lambda: done.print_state == "printed", timeout=20, what="the notice printed")
    text = "".join(printer.wait_documents(before + 1)[before].texts).replace(" ", "")
    assert submitted.case_no in text and agent_line.replace(" ", "") in text and "承诺办结" in text
    assert [c["pages"] for c in on_platform(ui, submitted.ref)] == [2]
    assert ui.app.terminal.cases.receipt(submitted.ref).agent == BADGE  # a reprint names the agent too

    ui.app._on_staff_badge(BADGE)  # once it is sent, the badge opens the agent's queue screen again
    ui.frames(3)
    assert ui.screen == "staff"
    ui.app._on_staff_badge(None)
    ui.wait(lambda: ui.screen == "attract", what="the agent's visit ended")


def test_a_case_queued_in_an_outage_arrives_once_the_platform_is_back(ui, monkeypatch):
    monkeypatch.setattr(apply_submit, "DELIVERY_WAIT_S", 1.0)  # how long the notice waits is not the point here
    printer = ui.station.printer
    open_guide(ui)
    read_card(ui)
    fill_form(ui)
    scan_materials(ui)
    ui.sandbox.outage(OUTAGE_S)
    before = len(printer.documents)
    done = submit_and_wait(ui)
    submitted = done.submitted
    assert not submitted.delivered and submitted.case_no == "" and submitted.status == "queued"
    assert done.ids.number.text == f"受理编号：{submitted.ref}"
    assert "网络" in done.ids.headline.text or "线路" in done.ids.headline.text
    ui.wait(lambda: done.print_state == "printed", timeout=20, what="the notice printed")
    doc = printer.wait_documents(before + 1)[before]
    assert submitted.ref in "".join(doc.texts) and "网络恢复后自动报送" in "".join(doc.texts).replace(" ", "")
    assert doc.qr_codes[0].payload.endswith(f"case={submitted.ref}")
    shot(ui, "apply-queued-outage-landscape")

    # the outbox sends it by itself once the sandbox is back: exactly once, with all its pages
    ui.wait(lambda: (on_platform(ui, submitted.ref) or [{}])[0].get("submitted"), timeout=180,
            what="the queued case on the platform")
    (case,) = on_platform(ui, submitted.ref)
    assert case["pages"] == 3 and case["case_no"]
    view = ui.app.terminal.cases.find(submitted.ref)
    assert view.delivered and view.case_no == case["case_no"]


def test_the_card_taken_back_while_applying_asks_nothing_but_elsewhere_it_does(ui):
    samv = ui.station.samv
    reader = ui.app.terminal.device_of_kind("idcard")
    open_guide(ui)
    read_card(ui)
    try:
        samv.remove()  # the villager takes the card back once it is read
        ui.wait(lambda: reader.state.detail.get("card") == "absent", what="the card seen gone")
        ui.frames(5)  # the change reaches the app on the UI thread
        assert ui.screen == "apply_form" and ui.app.idle.parent is None
        assert ui.app.session.warning_cause is None and ui.app.session.active
        fill_form(ui)  # and the application goes on
        samv.insert(PERSON)
        ui.wait(lambda: reader.state.detail.get("card") == "present", what="the card back")
        ui.tap(ui.app.root.ids.topbar.ids.home)  # out of the application: the same removal asks again
        assert ui.screen == "home"
        samv.remove()
        ui.wait(lambda: ui.app.idle.parent is not None, what="the question after card removal")
        assert ui.find(text="身份证已取出", root=ui.app.idle)
    finally:
        samv.insert(PERSON)
