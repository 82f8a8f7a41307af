"""Access for the elderly: large print and high contrast by one tap, read-aloud of the screen."""
from __future__ import annotations

from kivy.uix.label import Label

from screens.widgets import BigButton, BodyLabel


def mm(ui, px: float) -> float:
    return px / ui.app.style.dpi * 25.4


def test_large_print_is_one_tap_and_grows_text_and_targets(ui):
    ui.tap((500, 500))
    ui.tap(ui.find(text="组织运作"))
    ui.tap(ui.find(BigButton, "新闻"))
    before = min(mm(ui, w.font_size) for w in ui.find_all(BodyLabel))
    ui.tap(ui.app.root.ids.topbar.ids.large)
    assert ui.app.style.large
    body = [w for w in ui.find_all(BodyLabel) if w.text.strip()]
    after = min(mm(ui, w.font_size) for w in body)
    assert after > before and after >= 6.0  # body text at least 6 mm high in large print
    buttons = ui.find_all(BigButton)
    assert min(mm(ui, min(b.size)) for b in buttons) >= 15.0
    assert "✓" in ui.app.root.ids.topbar.ids.large.text or "√" in ui.app.root.ids.topbar.ids.large.text
    ui.tap(ui.app.root.ids.topbar.ids.large)
    assert not ui.app.style.large
    assert min(mm(ui, w.font_size) for w in ui.find_all(BodyLabel) if w.text.strip()) < 10.0


def test_high_contrast_is_one_tap(ui):
    ui.tap((500, 500))
    ui.tap(ui.app.root.ids.topbar.ids.contrast)
    assert ui.app.style.high_contrast and tuple(ui.app.style.bg)[:3] == (0, 0, 0)
    ui.tap(ui.app.root.ids.topbar.ids.contrast)
    assert not ui.app.style.high_contrast


def test_read_aloud_says_what_the_screen_shows(ui, monkeypatch):
    """The speaker's playback is replaced by a recorder (no sound card here); what it is
    given is the screen's text; tests/test_speech.py synthesises real Mandarin audio."""
    said = []
    monkeypatch.setattr(ui.app.terminal.speaker, "say", lambda text, language="zh_CN": said.append((text, language)))
    ui.tap((500, 500))
    ui.tap(ui.find(text="组织运作"))
    ui.tap(ui.app.root.ids.topbar.ids.speak)
    text, language = said[-1]
    assert language == "zh_CN"
    assert text.index("组织运作") < text.index("三务公开") < text.index("投诉建议咨询")
    assert all(label.text in text for label in ui.find_all(Label, root=ui.app.screen) if label.text.strip())
