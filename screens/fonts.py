"""The Chinese font, registered as Kivy's default so no label can show tofu; and text
rendering that does not keep each label's pixels twice."""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.core.text import DEFAULT_FONT, LabelBase

log = logging.getLogger(__name__)

# First face of each file is a Simplified Chinese design (Noto's .ttc opens on its JP face).
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def register_cjk_font() -> str:
    """Make the first installed Chinese font the default; returns its path."""
    for path in CANDIDATES:
        if Path(path).exists():
            LabelBase.register(DEFAULT_FONT, path)
            return path
    raise RuntimeError("no Chinese font installed: install the package fonts-wqy-microhei")


def let_rendered_text_go() -> None:
    """Kivy's SDL2 text keeps the surface a label rendered into (its pixels, as large as the
    texture they are copied into) until that label renders again: as much memory again as
    every text on every screen built. Here it is let go once copied."""
    from kivy.core.text.text_sdl2 import LabelSDL2
    copy_out = LabelSDL2._render_end
    if getattr(copy_out, "lets_go", False):
        return

    def render_end(label):
        try:
            return copy_out(label)
        finally:
            label._surface = None

    render_end.lets_go = True  # type: ignore[attr-defined]
    LabelSDL2._render_end = render_end
