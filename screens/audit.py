"""Checks of a rendered screen a person would notice: blank, tofu, faint text, small targets,
buttons or text pushed out of the window.

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
from kivy.uix.modalview import ModalView
from kivy.uix.stencilview import StencilView
from PIL import Image

from screens.style import contrast

MIN_CONTRAST = 7.0
MIN_TARGET_MM = 15.0


@dataclass(frozen=True)
class Finding:
    screen: str
    kind: str  # blank | glyph | contrast | target | outside
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
    window = app.root.get_root_window()
    overlays = [w for w in window.children if isinstance(w, ModalView)]
    top = overlays[0] if overlays else app.root  # an open overlay covers the screen under it
    findings += _outside(top, image.size, screen)
    for widget in _visible(top, image.size):
        if isinstance(widget, Label) and widget.text.strip():
            findings += _glyphs(widget, glyphs, screen) + _contrast(widget, image, screen)
        if isinstance(widget, ButtonBehavior):
            findings += _target(widget, app.style, screen)
    return findings


def _visible(root, size):
    """Widgets drawn whole on screen: not hidden, not clipped by a scroll view, in the window."""
    for widget in root.walk(restrict=True):
        if widget.width < 2 or widget.height < 2:
            continue
        clip = _clip(widget, root, (0, 0, *size))
        if clip is None:
            continue
        x, y = widget.to_window(*widget.pos)
        left, bottom, right, top = clip
        if x >= left - 1 and y >= bottom - 1 and x + widget.width <= right + 1 and y + widget.height <= top + 1:
            yield widget


def _outside(root, size, screen: str) -> list[Finding]:
    """Buttons and texts that stick out of the window where no scroll view can bring them in."""
    width, height = size
    found = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, (ButtonBehavior, Label)) or not getattr(widget, "text", "").strip():
            continue
        if _clip(widget, root, (0, 0, width, height)) is None or _scrolled(widget, root):
            continue
        x, y = widget.to_window(*widget.pos)
        if x < -1 or y < -1 or x + widget.width > width + 1 or y + widget.height > height + 1:
            found.append(Finding(screen, "outside", _name(widget), f"at {x:.0f},{y:.0f} size "
                                 f"{widget.width:.0f}×{widget.height:.0f} leaves the {width}×{height} window"))
    return found


def _scrolled(widget, root) -> bool:
    node = widget.parent
    while node is not None and node is not root.parent:
        if isinstance(node, StencilView):
            return True
        node = node.parent
    return False


def _clip(widget, root, window_box):
    """The window area ``widget`` can show in (scroll views clip), or None when hidden."""
    left, bottom, right, top = window_box
    node = widget
    while node is not None and node is not root.parent:
        if node.opacity == 0:
            return None
        if isinstance(node, StencilView) and node is not widget:
            x, y = node.to_window(*node.pos)
            left, bottom = max(left, x), max(bottom, y)
            right, top = min(right, x + node.width), min(top, y + node.height)
        node = node.parent
    return left, bottom, right, top


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
