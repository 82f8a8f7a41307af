"""SAM reader frames (GA/T 467): build, find in a byte stream, check; SW3 → errors.

    request:  AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [DATA] | CHK
    response: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [DATA] | CHK

LEN counts the bytes after it, CHK included; CHK is the XOR of every byte after the
preamble. ``take_frame`` is a pure function over a buffer so the stream reader and
the simulator share it and it can be fed any bytes in tests.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from drivers.base import DeviceError, DeviceTimeout, DeviceUnavailable, MediaError, ProtocolError
from drivers.idcard.identity import TEXT_SIZE, Identity, decode_text
from l10n import N_

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
MAX_LEN = 4096  # the largest response (30 10, with fingerprints) is about 2.3 KB

# (CMD, PARA)
RESET, STATUS, MODULE_ID = (0x10, 0xFF), (0x11, 0xFF), (0x12, 0xFF)
FIND, SELECT, READ, READ_ADDRESS = (0x20, 0x01), (0x20, 0x02), (0x30, 0x01), (0x30, 0x03)

OK, FOUND, NO_CARD, SELECT_FAILED, NO_CONTENT = 0x90, 0x9F, 0x80, 0x81, 0x91
CHECKSUM_ERROR, READ_FAILED, SELF_TEST_FAILED = 0x10, 0x41, 0x60


class FrameError(ProtocolError):
    """A frame on the line is malformed: bad length or checksum."""


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes


def checksum(body: bytes) -> int:
    """XOR of ``body`` (the bytes after the preamble, CHK excluded)."""
    return reduce(lambda a, b: a ^ b, body, 0)


def frame(payload: bytes) -> bytes:
    """A frame around ``payload`` (CMD PARA DATA or SW1 SW2 SW3 DATA)."""
    if len(payload) + 1 > MAX_LEN:
        raise ValueError("payload too long")
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def request(command: tuple[int, int], data: bytes = b"") -> bytes:
    return frame(bytes(command) + data)


def response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return frame(bytes([sw1, sw2, sw3]) + data)


def _frame_error(problem: str) -> FrameError:
    return FrameError("idcard.bad_frame", N_("The ID card reader sent a damaged frame ({problem})."),
                      problem=problem)


def take_frame(buf: bytearray, min_len: int = 3) -> bytes | None:
    """Remove and return the next frame's payload from ``buf`` (LEN, CHK stripped).

    Bytes before a preamble are dropped. ``None`` when no whole frame is in ``buf``
    yet. A bad LEN or CHK removes the preamble (so a real frame after a false one is
    still found) and raises ``FrameError``.
    """
    start = buf.find(PREAMBLE)
    if start < 0:  # keep a tail that may be the start of a preamble
        keep = next((k for k in range(len(PREAMBLE) - 1, 0, -1) if buf.endswith(PREAMBLE[:k])), 0)
        del buf[:len(buf) - keep]
        return None
    del buf[:start]
    if len(buf) < len(PREAMBLE) + 2:
        return None
    length = int.from_bytes(buf[5:7], "big")
    if not min_len <= length <= MAX_LEN:
        del buf[:len(PREAMBLE)]
        raise _frame_error("length")
    end = len(PREAMBLE) + 2 + length
    if len(buf) < end:
        return None
    body, chk = bytes(buf[5:end - 1]), buf[end - 1]
    if checksum(body) != chk:  # drop only the preamble: it may have been garbage
        del buf[:len(PREAMBLE)]
        raise _frame_error("checksum")
    del buf[:end]
    return body[2:]


def parse_response(payload: bytes) -> Response:
    if len(payload) < 3:
        raise _frame_error("length")
    return Response(payload[0], payload[1], payload[2], payload[3:])


class FrameReader:
    """Reads frames from ``read(timeout) -> bytes`` (b'' on timeout), across chunks."""

    def __init__(self, read: Callable[[float], bytes]):
        self._read = read
        self._buf = bytearray()

    def clear(self) -> None:
        self._buf.clear()

    def read_frame(self, timeout: float) -> bytes:
        """The next frame's payload; ``FrameError`` or ``DeviceTimeout`` past ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            payload = take_frame(self._buf, min_len=4)
            if payload is not None:
                return payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial = bool(self._buf)
                self._buf.clear()
                if partial:
                    raise _frame_error("truncated")
                raise DeviceTimeout("idcard.no_answer", N_("The ID card reader did not answer."))
            self._buf += self._read(remaining)


def decode_read(data: bytes) -> Identity:
    """The identity in a read (30 01) answer's data: lengths, 256 bytes of text, photo."""
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if len(data) < 4 or text_len != TEXT_SIZE or len(data) != 4 + text_len + photo_len:
        raise _frame_error("read length")
    return decode_text(data[4:4 + text_len], data[4 + text_len:])


_UNAUTHORISED = N_("The ID card reader's security module is not authorised.")
_DAMAGED_COMMAND = N_("The ID card reader received a damaged command.")
_UNKNOWN = N_("The ID card reader reported an unknown error.")
_NOT_VERIFIED = N_("The ID card could not be verified. Please place it again.")
_SW3_ERRORS: dict[int, tuple[type[DeviceError], str, str]] = {
    0x10: (ProtocolError, "idcard.module_checksum", _DAMAGED_COMMAND),
    0x11: (ProtocolError, "idcard.module_length", _DAMAGED_COMMAND),
    0x21: (ProtocolError, "idcard.module_command", N_("The ID card reader rejected the command.")),
    0x23: (DeviceUnavailable, "idcard.module_unauthorised", _UNAUTHORISED),
    0x24: (ProtocolError, "idcard.module_error", _UNKNOWN),
    0x31: (MediaError, "idcard.card_auth_failed", _NOT_VERIFIED),
    0x32: (DeviceUnavailable, "idcard.module_auth_failed",
           N_("The ID card reader's security module failed to authenticate.")),
    0x33: (MediaError, "idcard.card_auth_failed", _NOT_VERIFIED),
    0x40: (MediaError, "idcard.unknown_card", N_("This card is not a recognised ID card.")),
    0x41: (MediaError, "idcard.read_failed", N_("The ID card could not be read. Please place it again.")),
    0x47: (ProtocolError, "idcard.module_error", _UNKNOWN),
    0x60: (DeviceUnavailable, "idcard.module_failed",
           N_("The ID card reader's security module failed its self-test.")),
    0x66: (DeviceUnavailable, "idcard.module_unauthorised", _UNAUTHORISED),
}


def sw3_error(sw3: int) -> DeviceError:
    """The error an unexpected SW3 stands for."""
    if sw3 in _SW3_ERRORS:
        cls, code, msgid = _SW3_ERRORS[sw3]
        return cls(code, msgid)
    return ProtocolError("idcard.module_error",
                         N_("The ID card reader answered with an unknown result code {sw3}."),
                         sw3=f"{sw3:02X}")
