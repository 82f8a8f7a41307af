"""The technicians' screen by real touches: the hidden gesture, the PIN and its lock-out, live
device status, self-tests on the simulators, no way out of the app, and the out-of-service page."""
from __future__ import annotations

import pytest

from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk import config
from kiosk.maintenance import PinGate
from kiosk.terminal import Terminal
from l10n import translate
from screens.maintenance import DeviceRow, SelfTest
from screens.widgets import BigButton
from screens.widgets.keypad import Keypad

PIN = "2468"


def zh(msgid: str, **params) -> str:
    return translate(msgid, "zh_CN", **params)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def screen(ui):
    """The maintenance screen with a PIN gate on a clock the test moves; restored after."""
    maintenance = ui.app.manager.get_screen("maintenance")
    saved = maintenance.gate
    clock = FakeClock()
    maintenance.gate = PinGate(PIN, lockout_s=300, clock=clock)
    yield maintenance
    maintenance.gate = saved
    ui.reset()


def corner(ui) -> tuple[float, float]:
    return (8, ui.app.root.height - 8)


def gesture(ui, taps: int = 5) -> None:
    for _ in range(taps):
        ui.tap(corner(ui))


def enter(ui, digits: str) -> None:
    keypad = ui.find(Keypad)
    for digit in digits:
        ui.tap(next(k for k in ui.find_all(BigButton, root=keypad) if k.text == digit))
    assert keypad.ids.entry.text == "●" * len(digits)  # masked
    ui.tap(keypad.ids.ok)


def unlock(ui) -> None:
    ui.wait(lambda: ui.app.terminal.online_kinds() >= {"receipt_printer", "idcard", "a4_printer", "scanner"},
            what="the simulated devices online")
    gesture(ui)
    assert ui.screen == "maintenance"
    enter(ui, PIN)
    ui.wait(lambda: ui.find_all(DeviceRow), what="the device list")


def message(ui) -> str:
    return ui.app.screen.pin_panel.ids.message.text


# -- the way in ------------------------------------------------------------------------
def test_five_corner_taps_from_attract_and_the_right_pin_open_maintenance(ui, screen):
    assert ui.screen == "attract"
    gesture(ui, 4)
    assert ui.screen == "home"  # the first tap only woke the terminal; four are not enough
    ui.tap(corner(ui))
    assert ui.screen == "maintenance"
    assert not ui.find_all(DeviceRow)
    enter(ui, PIN)
    rows = ui.find_all(DeviceRow)
    assert sorted(r.name for r in rows) == sorted(d.name for d in ui.app.terminal.devices)


def test_taps_elsewhere_break_the_gesture(ui, screen):
    ui.tap((10, 10))
    for _ in range(4):
        ui.tap(corner(ui))
    ui.tap((ui.app.root.width / 2, ui.app.root.height / 2))
    ui.tap(corner(ui))
    assert ui.screen != "maintenance"


def test_a_wrong_pin_is_refused_and_cancel_goes_back(ui, screen):
    ui.tap((10, 10))
    gesture(ui)
    enter(ui, "1357")
    assert ui.screen == "maintenance" and not ui.find_all(DeviceRow)
    assert message(ui) == zh("Wrong PIN. {tries} tries left.", tries=4)
    ui.tap(ui.app.screen.pin_panel.ids.cancel)
    assert ui.screen == "attract"  # the gesture ended the visit it interrupted


def test_five_wrong_pins_lock_out_even_the_right_one_until_the_time_is_up(ui, screen):
    gesture(ui)
    for _ in range(5):
        enter(ui, "0000")
    locked = zh("Too many wrong PINs. Maintenance is locked for {minutes} minutes.", minutes=5)
    assert message(ui) == locked
    enter(ui, PIN)
    assert message(ui) == locked and not ui.find_all(DeviceRow)
    ui.tap(ui.app.screen.pin_panel.ids.cancel)
    screen.gate.clock.now += 299
    gesture(ui)
    assert message(ui) == zh("Too many wrong PINs. Maintenance is locked for {minutes} minutes.", minutes=1)
    screen.gate.clock.now += 2
    enter(ui, PIN)
    assert ui.find_all(DeviceRow)


def test_without_a_configured_pin_maintenance_says_it_is_locked(ui, screen):
    screen.gate = PinGate("")
    gesture(ui)
    assert ui.screen == "maintenance"
    assert not ui.find_all(Keypad)
    notice = ui.find(text="[maintenance]")
    assert "pin" in notice.text and str(ui.app.terminal.config.path) in notice.text
    ui.tap(ui.app.screen.locked_panel.ids.back)
    assert ui.screen == "attract"


def test_the_gesture_works_on_every_screen_and_ends_the_visit(ui, screen):
    ui.tap((10, 10))
    visit = ui.app.session.visit
    scan = visit.scan_path()
    scan.write_bytes(b"a citizen's scan")
    ui.app.go("module", module="news")
    ui.frames(2)
    gesture(ui)
    assert ui.screen == "maintenance"
    assert not ui.app.session.active and not scan.exists()


# -- the panel ---------------------------------------------------------------------------
def row(ui, name: str) -> DeviceRow:
    return next(r for r in ui.find_all(DeviceRow) if r.name == name)


def test_devices_show_online_and_a_paper_out_arrives_live(ui, screen):
    unlock(ui)
    working = "✓ " + zh("working")
    for name in ("receipt", "idcard", "a4"):
        ui.wait(lambda: row(ui, name).ids.status.text == working, what=f"{name} online")
    printer = ui.station.printer
    try:
        printer.fault = "paper_out"
        ui.wait(lambda: zh("paper out") in row(ui, "receipt").ids.detail.text, what="paper out in the list")
        assert not row(ui, "receipt").ok  # drawn as a warning, beside the words
    finally:
        printer.fault = "none"
    ui.wait(lambda: zh("paper OK") in row(ui, "receipt").ids.detail.text, what="the paper back")
    assert row(ui, "receipt").ok and row(ui, "receipt").ids.status.text == working


def self_test(ui, test_id: str) -> SelfTest:
    """Page down (by the page buttons) until the test's button is in view, then run it."""
    ui.frames(5)  # the layout settles as device states arrive
    test = next(t for t in ui.find_all(SelfTest) if t.test_id == test_id)
    scroll = ui.app.screen.service_panel.ids.left_scroll
    next_page = ui.app.screen.service_panel.ids.left_pages.ids.next
    for _ in range(10):
        x, y = test.ids.button.to_window(*test.ids.button.center)
        left, bottom = scroll.parent.to_window(*scroll.pos)
        if left <= x <= left + scroll.width and bottom <= y <= bottom + scroll.height:
            break
        ui.tap(next_page)
    ui.tap(test.ids.button)  # inside a ScrollView the release arrives a moment later
    ui.wait(lambda: test.outcome is not None and not test.running, timeout=30,
            what=f"the {test_id} self-test ({test.outcome and test.outcome.text('en')})")
    return test


def test_receipt_self_test_prints_on_the_printer(ui, screen):
    unlock(ui)
    printed = len(ui.station.printer.documents)
    test = self_test(ui, "receipt")
    assert test.outcome.ok, test.ids.report.text
    assert test.ids.report.text.startswith("✓ ")
    document = ui.station.printer.wait_documents(printed + 1)[-1]
    assert "自助终端打印测试" in document.texts


def test_id_card_self_test_shows_the_name_and_the_masked_number_only(ui, screen):
    card = DEMO_IDENTITIES[0]
    ui.station.samv.insert(card)
    unlock(ui)
    test = self_test(ui, "idcard")
    masked = card.id_number[:6] + "********" + card.id_number[-4:]
    assert test.ids.report.text == "✓ " + zh("Card read: {name}, ID number {number}",
                                             name=card.name, number=masked)
    shown = "\n".join(w.text for w in ui.find_all() if hasattr(w, "text"))
    assert card.id_number not in shown


def test_scan_self_test_says_where_and_shows_a_thumbnail(ui, screen):
    unlock(ui)
    test = self_test(ui, "scan")
    assert test.outcome.ok, test.ids.report.text
    assert test.image and test.image in test.ids.report.text
    assert test.ids.thumbnail.texture is not None and test.ids.thumbnail.height > 0


def test_the_last_log_lines_are_shown(ui, screen):
    unlock(ui)
    ui.wait(lambda: "maintenance: PIN accepted" in ui.app.screen.service_panel.ids.log.text,
            what="the log line of the accepted PIN")
    assert len(ui.app.screen.log_text.splitlines()) <= 50


def test_leave_maintenance_returns_to_attract(ui, screen):
    unlock(ui)
    ui.tap(ui.app.screen.service_panel.ids.leave)
    assert ui.screen == "attract"
    gesture(ui)
    assert not ui.find_all(DeviceRow)  # the PIN is asked again


def test_the_production_config_has_no_way_out(ui, screen):
    """allow_exit is false in this config: no exit button, Escape and window close refused."""
    from kivy.core.window import Window
    assert ui.app.terminal.config.maintenance.allow_exit is False
    unlock(ui)
    assert not ui.find_all(BigButton, zh("Exit to desktop"))
    assert Window.dispatch("on_request_close", source="keyboard") is True
    assert Window.dispatch("on_keyboard", 27, 41, None, []) is True  # Escape
    assert Window.dispatch("on_keyboard", 282, 58, None, []) is True  # F1: Kivy's settings
    ui.frames(3)
    assert ui.app.root.get_root_window() is Window and ui.screen == "maintenance"


# -- out of service ----------------------------------------------------------------------
def test_out_of_service_page_when_nothing_serves_and_back_by_itself(ui, screen, tmp_path):
    """The app is pointed at a terminal whose only device (a printer on a closed port) is
    offline, then back at the simulated station."""
    dead = config.parse({"devices": {"receipt": {"driver": "escpos", "host": "127.0.0.1", "port": 9,
                                                 "timeout_s": 0.5}}}, tmp_path / "dead.toml")
    live, watch = ui.app.terminal, ui.app.service_watch
    broken = Terminal(dead)
    grace = watch.grace_s
    try:
        watch.grace_s = 3600
        ui.app.terminal = broken
        ui.tap((10, 10))  # a visit begins, on the broken terminal's session
        visit = ui.app.session.visit
        scan = visit.scan_path()
        scan.write_bytes(b"a citizen's scan")
        watch.grace_s = 0
        ui.wait(lambda: ui.screen == "out_of_service", what="the out-of-service page")
        assert not ui.app.session.active and not scan.exists()  # wiped first
        assert ui.find(text=zh("This terminal is temporarily out of service"))
        assert ui.app.root.ids.topbar.opacity == 0
        gesture(ui)  # the maintenance gesture still works here
        assert ui.screen == "maintenance"
        ui.tap(ui.app.screen.pin_panel.ids.cancel)
        assert ui.screen == "out_of_service"
        ui.app.terminal = live
        ui.wait(lambda: ui.screen == "attract", what="the attract screen by itself")
    finally:
        ui.app.terminal = live
        watch.grace_s = grace
        broken.close()



def test_the_screens_render_and_pass_the_audit(ui, screen, tmp_path):
    """Blank screens, missing glyphs, faint text and small targets, measured on what is drawn."""
    from screens.audit import audit
    from screens.fonts import register_cjk_font
    font = register_cjk_font()
    findings = []
    unlock(ui)
    ui.tap(ui.app.screen.service_panel.ids.leave)
    gesture(ui)
    enter(ui, "1")
    ui.screenshot(tmp_path / "pin.png")
    findings += audit(ui.app, str(tmp_path / "pin.png"), "maintenance-pin", font)
    enter(ui, PIN)
    self_test(ui, "receipt")
    ui.screenshot(tmp_path / "panel.png")
    findings += audit(ui.app, str(tmp_path / "panel.png"), "maintenance-panel", font)
    ui.app.show("out_of_service")
    ui.screenshot(tmp_path / "oos.png")
    findings += audit(ui.app, str(tmp_path / "oos.png"), "out_of_service", font)
    assert not findings, "\n".join(map(str, findings))
