"""A printer-independent receipt job, and its rendering to ESC/POS bytes.

A ``Receipt`` is a tuple of blocks: ``Text`` lines (size, bold, alignment), native
``QrCode``s, ``Feed`` and ``Cut``. ``render`` turns it into bytes using
python-escpos's ``Dummy`` printer for the command set (styles, GS ( k QR, feed,
cut); text itself goes out in GB18030 with the printer in Chinese mode (FS &),
because python-escpos's code-page magic has no CJK.
"""
from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from enum import Enum

from drivers.cache import cache_dir

ENCODING = "gb18030"
INIT = b"\x1b@"
CHINESE_ON = b"\x1c&"  # FS &: select Kanji (Chinese) character mode
QR_MAX_BYTES = 2953  # QR version 40, byte mode, level L
EC_LEVELS = ("L", "M", "Q", "H")  # QR error correction, lowest first


class Align(str, Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    """One printed line. ``width``/``height`` are character magnifications 1-8."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False
    align: Align = Align.LEFT

    def __post_init__(self) -> None:
        if not (1 <= self.width <= 8 and 1 <= self.height <= 8):
            raise ValueError(f"text size must be 1-8, not {self.width}x{self.height}")
        bad = [c for c in self.text if unicodedata.category(c) in ("Cc", "Cs")]
        if bad:
            raise ValueError(f"text holds control or surrogate characters: {bad[:3]!r}")
        object.__setattr__(self, "align", Align(self.align))


@dataclass(frozen=True)
class QrCode:
    """A QR code printed by the printer itself (GS ( k), payload sent as UTF-8."""

    payload: str
    module_size: int = 6
    error_correction: str = "M"
    align: Align = Align.CENTER

    def __post_init__(self) -> None:
        size = len(self.payload.encode("utf-8", "surrogatepass"))
        if not 1 <= size <= QR_MAX_BYTES:
            raise ValueError(f"QR payload must be 1-{QR_MAX_BYTES} bytes, not {size}")
        if any(unicodedata.category(c) == "Cs" for c in self.payload):
            raise ValueError("QR payload holds surrogate characters")
        if not 1 <= self.module_size <= 16:
            raise ValueError(f"QR module size must be 1-16, not {self.module_size}")
        if self.error_correction not in EC_LEVELS:
            raise ValueError(f"QR error correction must be L, M, Q or H, not {self.error_correction!r}")
        object.__setattr__(self, "align", Align(self.align))


@dataclass(frozen=True)
class Feed:
    lines: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.lines <= 255:
            raise ValueError(f"feed must be 0-255 lines, not {self.lines}")


@dataclass(frozen=True)
class Cut:
    partial: bool = False


Block = Text | QrCode | Feed | Cut


@dataclass(frozen=True)
class Receipt:
    """A print job: blocks printed top to bottom."""

    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        for block in self.blocks:
            if not isinstance(block, (Text, QrCode, Feed, Cut)):
                raise TypeError(f"not a receipt block: {block!r}")

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks if isinstance(b, Text))

    @property
    def qr_payloads(self) -> tuple[str, ...]:
        return tuple(b.payload for b in self.blocks if isinstance(b, QrCode))


def _escpos():
    """python-escpos's ``Dummy`` printer and its QR levels, imported at the first receipt
    (~15 MiB and 0.3 s that an app which never prints need not pay)."""
    # it pickles its printer profiles into a new temporary folder at every import unless
    # told where: keep one, so renders are fast and /tmp does not fill up over the years
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache_dir("escpos")))
    from escpos import constants
    from escpos.printer import Dummy
    return Dummy, {level: getattr(constants, f"QR_ECLEVEL_{level}") for level in EC_LEVELS}


def render(receipt: Receipt) -> bytes:
    """The ESC/POS bytes that print ``receipt``: init, Chinese mode, then each block."""
    Dummy, ec_levels = _escpos()
    esc = Dummy()
    out = [INIT, CHINESE_ON]

    def take() -> None:
        out.append(esc.output)
        esc.clear()

    for block in receipt.blocks:
        if isinstance(block, Text):
            esc.set(align=block.align.value, bold=block.bold, custom_size=True,
                    width=block.width, height=block.height)
            take()
            out.append(block.text.encode(ENCODING) + b"\n")
        elif isinstance(block, QrCode):
            esc.set(align=block.align.value)
            esc.qr(block.payload, ec=ec_levels[block.error_correction],
                   size=block.module_size, native=True)
            take()
        elif isinstance(block, Feed):
            esc.print_and_feed(block.lines)
            take()
        else:
            esc.cut(mode="PART" if block.partial else "FULL")
            take()
    return b"".join(out)


def diagnostic_page(title: str = "自助终端打印测试") -> Receipt:
    """The test page: Chinese text, sizes, bold, alignment, a QR code and a cut."""
    return Receipt((
        Text(title, width=2, height=2, bold=True, align=Align.CENTER),
        Text("Receipt printer test page", align=Align.CENTER),
        Feed(1),
        Text("左对齐 Left"),
        Text("居中 Center", align=Align.CENTER),
        Text("右对齐 Right", align=Align.RIGHT),
        Text("粗体 Bold", bold=True),
        Text("倍高 Double height", height=2),
        Text("倍宽 Wide", width=2),
        Text("中文：政务服务一网通办 ￥12.50"),
        QrCode("https://example.gov.cn/kiosk/test", module_size=6, error_correction="M"),
        Text("扫码核验 Scan to verify", align=Align.CENTER),
        Cut(),
    ))
