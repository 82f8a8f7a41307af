"""Colours and sizes, after the MIIT elderly-friendly rules scaled to a terminal.

Sizes are set in millimetres on the glass and turned into pixels with the panel's
dots per inch, so a 21.5-inch and a 32-inch terminal show the same physical sizes.
Every text/background pair reaches 7:1 (WCAG AAA) in both palettes.
"""
from __future__ import annotations

from dataclasses import dataclass

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ColorProperty, DictProperty, NumericProperty


def hex_rgba(value: str) -> tuple[float, float, float, float]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)) + (1.0,)


def luminance(rgba) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Palette:
    bg: str          # screen background
    fg: str          # body text
    muted: str       # secondary text (still 7:1)
    surface: str     # cards and panels
    primary: str     # main buttons
    primary_text: str  # text on main buttons
    border: str
    warn: str        # warning panels (with words, never colour alone)
    warn_text: str
    groups: tuple[tuple[str, str], ...]  # module group id → tile colour (text: primary_text)


NORMAL = Palette(
    bg="#F4F1EA", fg="#1B1B1B", muted="#3D3D3D", surface="#FFFFFF", primary="#0A4A82",
    primary_text="#FFFFFF", border="#5A5A5A", warn="#FFF1C2", warn_text="#3A2A00",
    groups=(("government", "#0A4A82"), ("party", "#9C1515"), ("projects", "#1C5A2B"),
            ("village", "#553384"), ("assets", "#6E4300"), ("convenience", "#005555")),
)
HIGH_CONTRAST = Palette(
    bg="#000000", fg="#FFFFFF", muted="#FFFF00", surface="#000000", primary="#000000",
    primary_text="#FFFF00", border="#FFFF00", warn="#000000", warn_text="#FFFF00",
    groups=tuple((g, "#000000") for g in ("government", "party", "projects", "village", "assets", "convenience")),
)

# (body text, titles, small print, minimum touch target), in mm on the glass
NORMAL_SIZES_MM = (7.0, 10.0, 5.5, 18.0)
LARGE_SIZES_MM = (10.0, 14.0, 8.0, 24.0)


class Style(EventDispatcher):
    """The live style every kv rule binds to; ``large`` and ``high_contrast`` switch it."""

    large = BooleanProperty(False)
    high_contrast = BooleanProperty(False)
    dpi = NumericProperty(102)
    bg = ColorProperty()
    fg = ColorProperty()
    muted = ColorProperty()
    surface = ColorProperty()
    primary = ColorProperty()
    primary_text = ColorProperty()
    border = ColorProperty()
    warn = ColorProperty()
    warn_text = ColorProperty()
    group_colors = DictProperty()
    body = NumericProperty()
    title = NumericProperty()
    small = NumericProperty()
    target = NumericProperty()
    pad = NumericProperty()
    line_height = NumericProperty(1.35)

    def __init__(self, dpi: float = 102, **kwargs):
        super().__init__(dpi=dpi, **kwargs)
        self.bind(large=self._apply, high_contrast=self._apply, dpi=self._apply)
        self._apply()

    def mm(self, millimetres: float) -> float:
        return millimetres * self.dpi / 25.4

    def _apply(self, *_: object) -> None:
        palette = HIGH_CONTRAST if self.high_contrast else NORMAL
        for name in ("bg", "fg", "muted", "surface", "primary", "primary_text", "border", "warn", "warn_text"):
            setattr(self, name, hex_rgba(getattr(palette, name)))
        self.group_colors = {g: hex_rgba(c) for g, c in palette.groups}
        body, title, small, target = LARGE_SIZES_MM if self.large else NORMAL_SIZES_MM
        self.body, self.title, self.small = self.mm(body), self.mm(title), self.mm(small)
        self.target, self.pad = self.mm(target), self.mm(3)
