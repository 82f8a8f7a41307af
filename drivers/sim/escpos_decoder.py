"""An incremental ESC/POS decoder: bytes in, printed documents out.

Understands what receipts use (ESC @, ESC a, ESC E, ESC !, GS !, FS & / FS .,
LF, ESC d, GS V, GS ( k QR, DLE EOT) and skips the length of other known
commands; anything else is recorded in ``unknown`` and skipped. Text is GB18030
in Chinese mode, code page 437 otherwise. Bytes may arrive split anywhere; the
buffer never holds more than one command (at most 64 KiB).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
_ESC_ARGS = {b"a": 1, b"E": 1, b"!": 1, b"d": 1, b"t": 1, b"-": 1, b"M": 1, b"G": 1, b"J": 1,
             b"2": 0, b"3": 1, b" ": 1, b"R": 1, b"V": 1, b"{": 1, b"r": 1, b"T": 1, b"U": 1,
             b"=": 1, b"e": 1, b"$": 2, b"\\": 2, b"p": 3, b"c": 2, b"B": 2, b"%": 1, b"L": 0,
             b"S": 0, b"i": 0, b"m": 0}
_GS_ARGS = {b"!": 1, b"B": 1, b"H": 1, b"L": 2, b"W": 2, b"h": 1, b"w": 1, b"f": 1, b"a": 1,
            b"r": 1, b"I": 1, b"b": 1, b"P": 2, b"$": 2, b"\\": 2}
_FS_ARGS = {b"&": 0, b".": 0, b"!": 1, b"-": 1, b"C": 1, b"S": 2, b"W": 1, b"p": 2}
_DLE_DC4_ARGS = {1: 2, 2: 3, 7: 1, 8: 7}
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_NEED_MORE = -1


@dataclass(frozen=True)
class Line:
    text: str
    width: int = 1
    height: int = 1
    bold: bool = False
    align: str = "left"


@dataclass(frozen=True)
class QrRecord:
    payload: str
    module_size: int
    error_correction: str


@dataclass(frozen=True)
class Document:
    """What came out of the printer up to and including one cut."""

    lines: tuple[Line, ...]
    qr_codes: tuple[QrRecord, ...]
    cut: str  # "full" or "partial"
    feeds: int = 0

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(line.text for line in self.lines)

    def as_text(self) -> str:
        out = [line.text for line in self.lines]
        out += [f"[QR] {qr.payload}" for qr in self.qr_codes]
        return "\n".join(out + [f"--- {self.cut} cut ---", ""])


class EscposDecoder:
    """Feed it bytes; it calls ``on_status(n)`` for DLE EOT n and ``on_document`` at each cut.

    While ``paper_out`` is set nothing is printed: lines, QR codes and cuts are
    counted in ``dropped`` instead.
    """

    def __init__(self, on_status: Callable[[int], None] = lambda n: None,
                 on_document: Callable[[Document], None] = lambda d: None):
        self.on_status = on_status
        self.on_document = on_document
        self.paper_out = False
        self.dropped = 0
        self.unknown: deque[bytes] = deque(maxlen=100)
        self._buf = bytearray()
        self._skip = 0
        self._reset()
        self._new_page()

    def _reset(self) -> None:
        self.chinese = False
        self.width = self.height = 1
        self.bold = False
        self.align = "left"
        self._qr_data = b""
        self._qr_size, self._qr_ec = 3, "L"
        self._clear_text()

    def _clear_text(self) -> None:
        self._pieces: list[str] = []
        self._raw = bytearray()
        self._style: tuple[int, int, bool, str] | None = None

    def _new_page(self) -> None:
        self._lines: list[Line] = []
        self._qrs: list[QrRecord] = []
        self._feeds = 0

    # -- input -----------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._buf:
            if self._skip:
                n = min(self._skip, len(self._buf))
                del self._buf[:n]
                self._skip -= n
                continue
            used = self._step()
            if used == _NEED_MORE:
                return
            del self._buf[:used]

    def _step(self) -> int:
        b = self._buf
        first = b[0]
        if first >= 0x20 and first != 0x7F:
            end = 1
            while end < len(b) and (b[end] >= 0x20 and b[end] != 0x7F):
                end += 1
            self._text(bytes(b[:end]))
            return end
        if first == 0x0A:
            self._flush_line(force=True)
        elif first == 0x0C:
            self._flush_line(force=False)
        elif first in (ESC, GS, FS, DLE):
            if len(b) < 2:
                return _NEED_MORE
            return {ESC: self._esc, GS: self._gs, FS: self._fs, DLE: self._dle}[first]()
        return 1  # CR, HT, NUL and other controls: nothing to print

    # -- command families ----------------------------------------------------------
    def _args(self, table: dict[bytes, int]) -> int:
        """Length of a fixed-size command, or of the two bytes of an unknown one."""
        need = table.get(bytes(self._buf[1:2]))
        if need is None:
            self.unknown.append(bytes(self._buf[:2]))
            return 2
        return 2 + need if len(self._buf) >= 2 + need else _NEED_MORE

    def _esc(self) -> int:
        b, op = self._buf, self._buf[1:2]
        if op == b"@":
            self._reset()
            return 2
        if op == b"*":  # bit image: ESC * m nL nH data
            if len(b) < 5:
                return _NEED_MORE
            self._skip = (b[3] | b[4] << 8) * (1 if b[2] in (0, 1) else 3)
            return 5
        if op == b"D":  # tab stops, NUL-terminated (at most 32)
            end = b.find(0, 2, 35)
            return end + 1 if end >= 0 else (_NEED_MORE if len(b) < 35 else 35)
        used = self._args(_ESC_ARGS)
        if used > 2:
            n = b[2]
            if op == b"a":
                self.align = _ALIGN.get(n, self.align)
            elif op == b"E":
                self.bold = bool(n & 1)
            elif op == b"!":
                self.bold = bool(n & 0x08)
                self.height, self.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)
            elif op == b"d":
                self._flush_line(force=False)
                self._feeds += n
        return used

    def _gs(self) -> int:
        b, op = self._buf, self._buf[1:2]
        if op == b"V":
            return self._cut()
        if op == b"(":
            if len(b) < 5:
                return _NEED_MORE
            size = b[3] | b[4] << 8
            if b[2:3] != b"k":
                self._skip = size
                return 5
            if len(b) < 5 + size:
                return _NEED_MORE
            self._two_d(bytes(b[5:5 + size]))
            return 5 + size
        if op == b"v":  # raster image: GS v 0 m xL xH yL yH data
            if len(b) < 8:
                return _NEED_MORE
            self._skip = (b[4] | b[5] << 8) * (b[6] | b[7] << 8)
            return 8
        if op == b"k":  # barcode: m<=6 NUL-terminated, else a length byte
            if len(b) < 3:
                return _NEED_MORE
            if b[2] <= 6:
                end = b.find(0, 3, 260)
                return end + 1 if end >= 0 else (_NEED_MORE if len(b) < 260 else 260)
            if len(b) < 4:
                return _NEED_MORE
            self._skip = b[3]
            return 4
        used = self._args(_GS_ARGS)
        if op == b"!" and used == 3:
            self.width, self.height = (b[2] >> 4 & 7) + 1, (b[2] & 7) + 1
        return used

    def _fs(self) -> int:
        op = self._buf[1:2]
        if op in (b"&", b"."):
            self._text_piece()
            self.chinese = op == b"&"
        return self._args(_FS_ARGS)

    def _dle(self) -> int:
        b, op = self._buf, self._buf[1]
        if op not in (0x04, 0x05, 0x14):
            self.unknown.append(bytes(b[:2]))
            return 2
        if len(b) < 3:
            return _NEED_MORE
        if op == 0x04 and 1 <= b[2] <= 4:
            self.on_status(b[2])
        elif op == 0x14:
            need = 3 + _DLE_DC4_ARGS.get(b[2], 0)
            return need if len(b) >= need else _NEED_MORE
        return 3

    def _cut(self) -> int:
        b = self._buf
        if len(b) < 3:
            return _NEED_MORE
        m = b[2]
        size = 4 if m in (65, 66, 97, 98, 103, 104) else 3
        if len(b) < size:
            return _NEED_MORE
        if m not in (0, 1, 48, 49) and size == 3:
            self.unknown.append(bytes(b[:3]))
            return 3
        self._flush_line(force=False)
        kind = "full" if m in (0, 48, 65, 97, 103) else "partial"
        if self.paper_out:
            self.dropped += 1
        else:
            doc = Document(tuple(self._lines), tuple(self._qrs), kind, self._feeds)
            self.on_document(doc)
        self._new_page()
        return size

    def _two_d(self, body: bytes) -> None:
        """One GS ( k function; only QR (cn 49) matters."""
        if len(body) < 2 or body[0] != 49:
            self.unknown.append(b"\x1d(k" + body[:2])
            return
        fn, params = body[1], body[2:]
        if fn == 67 and params:
            self._qr_size = params[0]
        elif fn == 69 and params:
            self._qr_ec = _EC.get(params[0], self._qr_ec)
        elif fn == 80 and params:
            self._qr_data = params[1:]
        elif fn == 81:
            self._flush_line(force=False)
            if self.paper_out:
                self.dropped += 1
            elif self._qr_data:
                payload = self._qr_data.decode("utf-8", "replace")
                self._qrs.append(QrRecord(payload, self._qr_size, self._qr_ec))

    # -- text ----------------------------------------------------------------------
    def _text(self, data: bytes) -> None:
        if self._style is None:
            self._style = (self.width, self.height, self.bold, self.align)
        self._raw += data
        if len(self._raw) > 65536:  # a line without LF: print what the buffer holds
            self._flush_line(force=False)

    def _text_piece(self) -> None:
        if self._raw:
            codec = "gb18030" if self.chinese else "cp437"
            self._pieces.append(bytes(self._raw).decode(codec, "replace"))
            self._raw = bytearray()

    def _flush_line(self, force: bool) -> None:
        """Print the buffered text as a line (``force``: even an empty one, as LF does)."""
        self._text_piece()
        if not (self._pieces or force):
            return
        width, height, bold, align = self._style or (self.width, self.height, self.bold, self.align)
        if self.paper_out:
            self.dropped += 1
        else:
            self._lines.append(Line("".join(self._pieces), width, height, bold, align))
        self._clear_text()
