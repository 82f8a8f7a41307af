"""Every screen, both orientations, both languages: nothing blank, no tofu, 7:1 text, 15 mm targets."""
from __future__ import annotations

import subprocess
import sys

import pytest
from kivy.uix.label import Label
from PIL import Image

from screens.audit import audit
from screens.fonts import register_cjk_font
from screens.screenshots import _shots
from screens.widgets import BigButton


def test_the_audit_finds_faint_text_tofu_and_small_targets(ui, tmp_path):
    ui.tap((500, 500))
    body = ui.app.screen.ids.groups
    faint = Label(text="看不清的字", color=(0.8, 0.8, 0.8, 1), font_size=40, size_hint_y=None, height=120)
    tofu = Label(text="⌂ 首页", color=(0, 0, 0, 1), font_size=40, size_hint_y=None, height=120)
    tiny = BigButton(text="小", size_hint=(None, None), size=(30, 30))
    for widget in (faint, tofu, tiny):
        body.add_widget(widget)
    try:
        ui.screenshot(tmp_path / "home.png")
        findings = audit(ui.app, str(tmp_path / "home.png"), "home", register_cjk_font())
    finally:
        for widget in (faint, tofu, tiny):
            body.remove_widget(widget)
    found = {(f.kind, f.widget.split("(")[1][:4]) for f in findings}
    assert ("contrast", "'看不清") in found
    assert ("glyph", "'⌂ 首") in found
    assert ("target", "'小')") in found
    assert len(findings) == 3, findings


def test_the_audit_finds_a_blank_screen(ui, tmp_path):
    Image.new("RGB", (1920, 1080), (244, 241, 234)).save(tmp_path / "blank.png")
    findings = audit(ui.app, str(tmp_path / "blank.png"), "blank", register_cjk_font())
    assert [f.kind for f in findings if f.kind == "blank"] == ["blank"]


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_screen_passes_the_audit(tmp_path, orientation, lang):
    out = tmp_path / f"{orientation}-{lang}"
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "screenshots",
                             "--out", str(out), "--orientation", orientation, "--lang", lang],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, (out / "audit.txt").read_text() if (out / "audit.txt").exists() else result.stderr[-3000:]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(name for name, _ in _shots())
    size = Image.open(out / "home.png").size
    assert size == ((1920, 1080) if orientation == "landscape" else (1080, 1920))
