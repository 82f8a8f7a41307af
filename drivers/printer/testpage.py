"""A one-page A4 test page with Chinese text, rendered with Pillow into a PDF.

The page is an image (150 dpi), so the only dependencies are Pillow and a CJK font
(Debian: fonts-noto-cjk).
"""
from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path


DPI = 150
A4_PX = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # 1240 x 1754
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


def cjk_font() -> Path | None:
    """The path of a font with Chinese glyphs, or None if none is installed."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True,
                               text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(found) if found and "CJK" in found.upper() else None


def make_test_page(out: Path, queue: str, terminal: str = "") -> Path:
    """Write the test page PDF to ``out``; FileNotFoundError if no CJK font exists."""
    from PIL import Image, ImageDraw, ImageFont  # here, not at start-up: ~1.6 MiB for a rare page
    font_path = cjk_font()
    if font_path is None:
        raise FileNotFoundError("no CJK font installed (fonts-noto-cjk)")
    page = Image.new("L", A4_PX, 255)
    draw = ImageDraw.Draw(page)
    title = ImageFont.truetype(str(font_path), 64)
    body = ImageFont.truetype(str(font_path), 36)
    margin = DPI  # one inch
    draw.rectangle((margin // 2, margin // 2, A4_PX[0] - margin // 2, A4_PX[1] - margin // 2), width=4)
    draw.text((margin, margin), "打印测试页 Test page", font=title, fill=0)
    lines = (
        f"队列 Queue: {queue}",
        f"终端 Terminal: {terminal or '-'}",
        f"时间 Time: {datetime.now():%Y-%m-%d %H:%M:%S}",
        "政务服务自助终端 A4 打印正常。",
        "中文字体显示正常：永和九年，岁在癸丑。",
    )
    for i, line in enumerate(lines):
        draw.text((margin, margin + 140 + i * 70), line, font=body, fill=0)
    for i in range(11):  # a grey ramp shows banding and toner problems
        x = margin + i * 90
        draw.rectangle((x, 1200, x + 80, 1300), fill=round(i * 25.5))
    out.parent.mkdir(parents=True, exist_ok=True)
    page.save(out, "PDF", resolution=DPI, title="Test page")
    return out
