"""ESC/POS real-time status (DLE EOT n) bytes, parsed per the Epson ESC/POS reference.

Every answer byte has fixed bits: bit 1 and bit 4 are 1, bits 0 and 7 are 0
(e.g. 0x12 is "all well"). A byte that breaks this is not a status but garbage
(noise, a wrong baud rate, an ASB packet) and raises ``StatusByteError``.

Sensor pairs (near-end bits 2-3, paper-end bits 5-6) are read conservatively:
either bit of a pair set counts as the condition.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.base import Status

DLE_EOT = b"\x10\x04"
PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER_SENSOR = 1, 2, 3, 4
FIXED_MASK = 0b1001_0011
FIXED_VALUE = 0b0001_0010


class StatusByteError(ValueError):
    """A DLE EOT answer whose fixed bits are wrong: garbage, not a status."""

    def __init__(self, n: int, value: int):
        self.n = n
        self.value = value
        super().__init__(f"DLE EOT {n} answer 0x{value:02x} is not a status byte")


def request(n: int) -> bytes:
    """The DLE EOT n command."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n must be 1-4, not {n}")
    return DLE_EOT + bytes([n])


def _check(n: int, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"a status byte is 0-255, not {value}")
    if value & FIXED_MASK != FIXED_VALUE:
        raise StatusByteError(n, value)
    return value


def _bit(value: int, bit: int) -> bool:
    return bool(value >> bit & 1)


@dataclass(frozen=True)
class PrinterStatus:
    """DLE EOT 1."""

    drawer_pin_high: bool
    offline: bool
    waiting_recovery: bool
    feed_button: bool

    @classmethod
    def parse(cls, value: int) -> PrinterStatus:
        v = _check(PRINTER, value)
        return cls(_bit(v, 2), _bit(v, 3), _bit(v, 5), _bit(v, 6))


@dataclass(frozen=True)
class OfflineCause:
    """DLE EOT 2."""

    cover_open: bool
    feeding: bool
    paper_end_stop: bool
    error: bool

    @classmethod
    def parse(cls, value: int) -> OfflineCause:
        v = _check(OFFLINE_CAUSE, value)
        return cls(_bit(v, 2), _bit(v, 3), _bit(v, 5), _bit(v, 6))


@dataclass(frozen=True)
class ErrorCause:
    """DLE EOT 3."""

    mechanical: bool
    autocutter: bool
    unrecoverable: bool
    auto_recoverable: bool  # e.g. print head too hot: clears by itself

    @classmethod
    def parse(cls, value: int) -> ErrorCause:
        v = _check(ERROR_CAUSE, value)
        return cls(_bit(v, 2), _bit(v, 3), _bit(v, 5), _bit(v, 6))

    @property
    def kind(self) -> str:
        """The worst error present, or "none"."""
        for name in ("unrecoverable", "autocutter", "mechanical", "auto_recoverable"):
            if getattr(self, name):
                return name
        return "none"


@dataclass(frozen=True)
class PaperSensor:
    """DLE EOT 4."""

    near_end: bool
    out: bool

    @classmethod
    def parse(cls, value: int) -> PaperSensor:
        v = _check(PAPER_SENSOR, value)
        return cls(near_end=bool(v & 0b0000_1100), out=bool(v & 0b0110_0000))


@dataclass(frozen=True)
class Report:
    """All four answers together, mapped onto the common device model."""

    printer: PrinterStatus
    offline: OfflineCause
    error: ErrorCause
    paper_sensor: PaperSensor

    @classmethod
    def parse(cls, answers: bytes) -> Report:
        """``answers``: the bytes answering DLE EOT 1, 2, 3 and 4, in order."""
        if len(answers) != 4:
            raise ValueError(f"need 4 status bytes, got {len(answers)}")
        return cls(PrinterStatus.parse(answers[0]), OfflineCause.parse(answers[1]),
                   ErrorCause.parse(answers[2]), PaperSensor.parse(answers[3]))

    @property
    def paper(self) -> str:
        if self.paper_sensor.out or self.offline.paper_end_stop:
            return "out"
        return "near_end" if self.paper_sensor.near_end else "ok"

    @property
    def cover(self) -> str:
        return "open" if self.offline.cover_open else "closed"

    @property
    def status(self) -> Status:
        """Hardware errors first; a transient error is ``busy``; media faults stay ``online``
        (the detail says what a person must do, as in CEN/XFS and UnifiedPOS)."""
        kind = self.error.kind
        if kind in ("unrecoverable", "autocutter", "mechanical"):
            return Status.HARDWARE_ERROR
        if kind == "auto_recoverable":
            return Status.BUSY
        return Status.ONLINE

    def detail(self) -> dict[str, str]:
        return {"paper": self.paper, "cover": self.cover, "error": self.error.kind}
