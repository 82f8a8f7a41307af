"""Checks of a rendered screen a person would notice: blank, tofu, faint text, small targets.

Measured on the live widget tree and the screen's rendered PNG: every visible label's
characters exist in the font; its text colour against the background actually drawn
behind it reaches 7:1; every visible button is at least 15 mm on each side.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fontTools.ttLib import TTCollection, TTFont
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from PIL import Image

from screens.style import contrast

MIN_CONTRAST = 7.0
MIN_TARGET_MM = 15.0


@dataclass(frozen=True)
class Finding:
    screen: str
    kind: str  # blank | glyph | contrast | target
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"{self.screen}: {self.kind}: {self.widget}: {self.detail}"


@lru_cache(maxsize=4)
def font_characters(path: str) -> frozenset[int]:
    """Code points the font at ``path`` draws (first face of a collection)."""
    font = TTCollection(path).fonts[0] if path.endswith(".ttc") else TTFont(path)
    return frozenset(font.getBestCmap())


def audit(app, image_path: str, screen: str, font_path: str) -> list[Finding]:
    """Everything wrong with the screen as rendered to ``image_path``."""
    image = Image.open(image_path).convert("RGB")
    findings = _blank(image, screen)
    glyphs = font_characters(font_path)
    for widget in _visible(app.root, image.size):
        if isinstance(widget, Label) and widget.text.strip():
            findings += _glyphs(widget, glyphs, screen) + _contrast(widget, image, screen)
        if isinstance(widget, ButtonBehavior):
            findings += _target(widget, app.style, screen)
    return findings


def _visible(root, size):
    """Widgets drawn on screen: not hidden, not clipped away, inside the window."""
    width, height = size
    for widget in root.walk(restrict=True):
        if not _shown(widget, root) or widget.width < 2 or widget.height < 2:
            continue
        x, y = widget.to_window(*widget.pos)
        if x >= 0 and y >= 0 and x + widget.width <= width + 1 and y + widget.height <= height + 1:
            yield widget


def _shown(widget, root) -> bool:
    while widget is not None and widget is not root:
        if widget.opacity == 0:
            return False
        widget = widget.parent
    return True


def _name(widget) -> str:
    text = getattr(widget, "text", "")
    return f"{type(widget).__name__}({text[:20]!r})"


def _blank(image: Image.Image, screen: str) -> list[Finding]:
    colours = image.resize((192, 108)).getcolors(maxcolors=100_000) or []
    if len(colours) < 8:
        return [Finding(screen, "blank", "-", f"only {len(colours)} colours on screen")]
    return []


def _glyphs(label: Label, glyphs: frozenset[int], screen: str) -> list[Finding]:
    missing = sorted({ch for ch in label.text if not ch.isspace() and ord(ch) not in glyphs})
    if missing:
        return [Finding(screen, "glyph", _name(label), "no glyph for " + " ".join(f"{c!r}" for c in missing))]
    return []


def _contrast(label: Label, image: Image.Image, screen: str) -> list[Finding]:
    """The label's colour against the colour drawn most behind its text."""
    if not label.texture_size[0] or not label.texture_size[1]:
        return []
    x, y = label.to_window(*label.pos)
    tw, th = min(label.texture_size[0], label.width), min(label.texture_size[1], label.height)
    left = x + (label.width - tw) / 2
    top = image.height - (y + (label.height + th) / 2)
    box = tuple(int(round(v)) for v in (left, top, left + tw, top + th))
    box = (max(box[0], 0), max(box[1], 0), min(box[2], image.width), min(box[3], image.height))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return []
    background = max(image.crop(box).getcolors(maxcolors=1 << 20))[1]
    bg = tuple(c / 255 for c in background)
    alpha = label.color[3]
    fg = tuple(alpha * c + (1 - alpha) * b for c, b in zip(label.color[:3], bg))
    ratio = contrast(fg, bg)
    if ratio < MIN_CONTRAST:
        return [Finding(screen, "contrast", _name(label), f"{ratio:.1f}:1 is under {MIN_CONTRAST}:1")]
    return []


def _target(button, style, screen: str) -> list[Finding]:
    minimum = style.mm(MIN_TARGET_MM)
    if button.width + 0.5 < minimum or button.height + 0.5 < minimum:
        return [Finding(screen, "target", _name(button),
                        f"{button.width:.0f}×{button.height:.0f} px is under {minimum:.0f} px (15 mm)")]
    return []
