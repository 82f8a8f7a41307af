"""The Chinese font, registered as Kivy's default so no label can show tofu."""
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
