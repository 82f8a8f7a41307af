"""Attract → home → group → module, by touch; the waking touch presses nothing."""
from __future__ import annotations

from screens.widgets import BigButton


def test_touch_wakes_to_home_and_presses_nothing_under_it(ui):
    assert ui.screen == "attract"
    ui.app.show("home")
    ui.frames(3)
    guides = ui.find(BigButton, "办事指南")
    where = guides.to_window(*guides.center)
    ui.app.show("attract")
    ui.frames(3)
    ui.tap(where)  # the same spot that, on home, is the guides button
    assert ui.screen == "home"


def test_every_module_is_two_taps_from_home(ui):
    ui.tap((10, 10))
    from kiosk.catalog.modules import GROUPS, modules_in
    for group in GROUPS:
        ui.app.go_home()
        ui.frames(2)
        ui.tap(ui.find(text=_zh(group.title)))
        assert ui.screen == "group"
        titles = [_zh(m.title) for m in modules_in(group.id)]
        for title in titles:
            assert ui.find(BigButton, title)


def test_back_returns_to_the_group(ui):
    ui.tap((10, 10))
    ui.tap(ui.find(text="组织运作"))
    ui.tap(ui.find(BigButton, "新闻"))
    assert ui.screen == "module"
    ui.tap(ui.app.root.ids.topbar.ids.back)
    assert ui.screen == "group" and ui.app.screen.group_id == "village"


def test_language_switch(ui):
    ui.tap((10, 10))
    ui.tap(ui.app.root.ids.topbar.ids.language)
    assert ui.find(BigButton, "Service guides")
    ui.tap(ui.app.root.ids.topbar.ids.language)
    assert ui.find(BigButton, "办事指南")


def _zh(msgid: str) -> str:
    from l10n import translate
    return translate(msgid, "zh_CN")
