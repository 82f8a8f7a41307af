"""Service guides by touch: search by initials on the pinyin keyboard, the guide page, printing.

Every step is a real touch through Kivy's input path; printing goes through the escpos
driver to the ESC/POS simulator, which decodes what it receives.
"""
from __future__ import annotations

import os
from pathlib import Path

from fleet.protocol import Stamp, now
from screens.guide import QrImage
from screens.guides import CategoryButton, ItemButton
from screens.widgets.pinyin_keyboard import CandidateButton, Key

SHOTS = Path(os.environ.get("KIOSK_SHOTS", "/tmp/kiosk-shots"))


def shot(ui, name: str) -> None:
    """Save what the screen shows (look at these when changing a layout)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    ui.frames(4)
    ui.app.root.export_to_png(str(SHOTS / f"{name}.png"))


def open_guides(ui) -> None:
    ui.tap((10, 10))  # wakes the terminal at home
    ui.tap(ui.app.screen.ids.guides)
    assert ui.screen == "guides"


def type_letters(ui, letters: str) -> None:
    for letter in letters:
        keys = [k for k in ui.find_all(Key) if k.value == letter]
        assert keys, f"no key {letter!r} on {ui.screen} ({len(ui.find_all(Key))} keys)"
        ui.tap(keys[0])


def listed(ui) -> list[str]:
    results = ui.app.screen.ids.results.ids.grid.children
    return [b.item.name for b in reversed(results) if isinstance(b, ItemButton)]


def test_search_by_initials_open_and_print(ui):
    open_guides(ui)
    ui.tap(ui.app.screen.ids.tab_search)
    type_letters(ui, "wfc")
    assert ui.app.screen.search_panel.ids.field.letters == "wfc"
    assert listed(ui)[0] == "无房产证明"
    shot(ui, "guides-search-landscape")
    before = len(ui.station.printer.documents)
    ui.app.terminal.counters.take(Stamp(now(), 0, "test"))  # the fleet's metrics: a fresh window

    ui.tap(ui.find(ItemButton, "无房产证明"))
    assert ui.screen == "guide"
    screen = ui.app.screen
    assert screen.item.name == "无房产证明"
    shot(ui, "guide-landscape")
    ui.wait(lambda: screen.printer_ready, what="the receipt printer online")
    ui.tap(screen.ids.print_button)
    ui.wait(lambda: screen.print_state == "done", what="the guide printed")
    doc = ui.station.printer.wait_documents(before + 1)[before]
    text = "\n".join(doc.texts)
    assert "无房产证明" in text
    for material in screen.item.materials:
        assert material.name[:8] in text.replace(" ", "")
    assert [qr.payload for qr in doc.qr_codes] == ["https://www.gdzwfw.gov.cn/portal/v2/guide/2000501000"]
    assert "湖光镇东岭村便民服务站" in text
    assert ui.app.terminal.counters.take(Stamp(now(), 1, "test")).prints == 1
    shot(ui, "guide-printed-landscape")

    ui.tap(ui.app.root.ids.topbar.ids.back)  # back to the same search
    assert ui.screen == "guides" and ui.app.screen.mode == "search"
    assert listed(ui)[0] == "无房产证明"


def test_browse_by_window_and_by_life_event(ui):
    open_guides(ui)
    screen = ui.app.screen
    ui.tap(screen.ids.tab_window)
    ui.tap(ui.find(CategoryButton, "民政"))
    assert screen.category == "民政" and listed(ui)
    catalog = ui.app.terminal.catalog
    assert set(listed(ui)) <= {i.name for i in catalog.by_window("民政")}
    shot(ui, "guides-window-landscape")

    ui.tap(screen.ids.tab_event)
    ui.tap(ui.find(CategoryButton, "婚姻"))
    expected = [i.name for i in catalog.by_life_event("marriage")]
    assert listed(ui) == expected[:len(listed(ui))] and listed(ui)
    shot(ui, "guides-event-landscape")


def test_results_page_with_big_buttons(ui):
    open_guides(ui)
    screen = ui.app.screen
    ui.tap(screen.ids.tab_event)
    results = screen.ids.results
    event = max(ui.app.terminal.catalog.life_events(), key=lambda e: len(ui.app.terminal.catalog.by_life_event(e)))
    screen.choose(event)
    ui.frames(3)
    assert results.pages > 1, "the busiest life event should need more than one page"
    first = listed(ui)
    ui.tap(results.ids.pager.ids.next_page)
    assert results.page == 1 and listed(ui) and listed(ui)[0] not in first
    ui.tap(results.ids.pager.ids.previous_page)
    assert listed(ui) == first


def test_pinyin_keyboard_chooses_characters(ui):
    open_guides(ui)
    screen = ui.app.screen
    ui.tap(screen.ids.tab_search)
    type_letters(ui, "dibao")
    ui.tap(ui.find(CandidateButton, "低保"))
    keyboard = screen.search_panel.ids.keyboard
    assert keyboard.text == "低保" and keyboard.letters == ""
    assert "低保" in screen.search_panel.ids.field.ids.shown.text
    assert any("低保" in n or "最低生活保障" in n for n in listed(ui))
    shot(ui, "guides-keyboard-dibao-landscape")
    ui.tap(keyboard.ids.backspace)
    assert keyboard.text == "低"
    ui.tap(keyboard.ids.clear_key)
    assert keyboard.text == "" and listed(ui) == []


def test_paper_out_says_so_and_shows_the_qr(ui):
    printer = ui.station.printer
    open_guides(ui)
    ui.tap(ui.app.screen.ids.tab_search)
    type_letters(ui, "wfc")
    ui.tap(ui.find(ItemButton, "无房产证明"))
    screen = ui.app.screen
    printer.fault = "paper_out"
    try:
        ui.tap(screen.ids.print_button)
        ui.wait(lambda: screen.print_state in ("failed", "unavailable"), what="the print refused")
        status = screen.ids.status
        assert status.opacity == 1 and status.text
        qr = ui.find(QrImage)
        assert qr.payload.endswith("/2000501000") and qr.texture is not None
        assert ui.app.screen.ids.qr_box.height >= qr.height
        shot(ui, "guide-paper-out-landscape")
    finally:
        printer.fault = "none"
    ui.wait(lambda: screen.printer_ready, timeout=15, what="the printer back after the paper is refilled")
