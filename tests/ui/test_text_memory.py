"""Text keeps its pixels once, in its texture: Kivy would also keep the surface each label
rendered into, and the last texture of a label whose text was emptied (screens reuse labels)."""
from __future__ import annotations

from screens.widgets import BodyLabel, BigButton


def test_rendered_text_keeps_no_surface(ui):
    ui.tap((10, 10))
    ui.app.go_home()
    ui.frames(3)
    labels = ui.find_all(BigButton) + ui.find_all(BodyLabel)
    assert labels and all(label.texture is not None for label in labels)  # drawn
    assert [label.text for label in labels if getattr(label._label, "_surface", None) is not None] == []


def test_an_emptied_label_lets_its_texture_go(ui):
    ui.tap((10, 10))
    ui.app.go("guides")
    ui.frames(3)
    label = ui.find_all(BodyLabel)[0]
    shown = label.text
    assert label._label.texture is not None
    try:
        label.text = ""
        ui.frames(2)
        assert label.texture is None and label._label.texture is None
    finally:
        label.text = shown  # the app lives on for the next tests
