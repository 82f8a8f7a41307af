"""APDUs (ISO/IEC 7816-4): commands from hex, responses split into data and SW1 SW2.

``exchange`` sends a command through any ``transmit(bytes) -> bytes`` function and
follows the two T=0 conventions a card may answer with: ``61xx`` (more data: fetch it
with GET RESPONSE, chained) and ``6Cxx`` (wrong Le: re-issue with Le = xx). Every
loop is bounded; a malformed answer raises ``ApduError``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_RESPONSE_BYTES = 65536  # GET RESPONSE chaining stops here
MAX_CHAIN = 256  # at most this many GET RESPONSE rounds

Transmit = Callable[[bytes], bytes]


class ApduError(ValueError):
    """A command that is not an APDU, or a response that is not one."""


@dataclass(frozen=True)
class Response:
    """A response APDU: its data and status word."""

    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def sw_hex(self) -> str:
        return f"{self.sw:04X}"

    def matches(self, pattern: str) -> bool:
        """``pattern`` like ``"9000"`` or ``"62XX"`` (X matches any hex digit)."""
        pattern = pattern.upper()
        return len(pattern) == 4 and all(p in ("X", s) for p, s in zip(pattern, self.sw_hex))


def parse_hex(text: str) -> bytes:
    """Bytes from hex text such as ``"00 A4 04 00"``; ``ApduError`` if it is not hex."""
    cleaned = "".join(text.split())
    if len(cleaned) % 2:
        raise ApduError(f"odd number of hex digits in {text!r}")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ApduError(f"not hex: {text!r}") from None


def check_command(command: bytes) -> bytes:
    """``command`` if it is a short APDU (case 1 to 4); ``ApduError`` otherwise."""
    if len(command) < 4:
        raise ApduError(f"command of {len(command)} bytes is shorter than CLA INS P1 P2")
    body = command[4:]
    if len(body) <= 1:
        return command  # case 1, or case 2 with Le
    lc = body[0]
    if lc == 0 or len(body) not in (1 + lc, 2 + lc):
        raise ApduError(f"command length {len(command)} does not match Lc {lc}")
    return command


def parse_response(raw: bytes) -> Response:
    """Split a response APDU; ``ApduError`` if it has no status word."""
    raw = bytes(raw)
    if len(raw) < 2:
        raise ApduError(f"response of {len(raw)} byte(s) has no status word")
    if not (0x61 <= raw[-2] <= 0x6F or 0x90 <= raw[-2] <= 0x9F):
        raise ApduError(f"SW1 {raw[-2]:02X} is not a status byte")
    return Response(raw[:-2], raw[-2], raw[-1])


def with_le(command: bytes, le: int) -> bytes:
    """``command`` with its Le replaced by (or set to) ``le``."""
    body = command[4:]
    if len(body) == 0 or len(body) == 1:
        return command[:4] + bytes([le])
    lc = body[0]
    return command[:5 + lc] + bytes([le])


def exchange(transmit: Transmit, command: bytes) -> Response:
    """Send ``command``; follow 6Cxx once and 61xx chaining; the final response."""
    check_command(command)
    response = parse_response(transmit(command))
    if response.sw1 == 0x6C:
        response = parse_response(transmit(with_le(command, response.sw2)))
        if response.sw1 == 0x6C:
            raise ApduError("card asked twice for a different Le (6Cxx)")
    data = bytearray(response.data)
    rounds = 0
    while response.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_CHAIN:
            raise ApduError(f"more than {MAX_CHAIN} GET RESPONSE rounds")
        get_response = bytes([command[0] & 0x03, 0xC0, 0x00, 0x00, response.sw2])
        response = parse_response(transmit(get_response))
        if response.sw1 == 0x6C:
            raise ApduError("card answered GET RESPONSE with 6Cxx")
        data += response.data
        if len(data) > MAX_RESPONSE_BYTES:
            raise ApduError(f"chained response longer than {MAX_RESPONSE_BYTES} bytes")
    return Response(bytes(data), response.sw1, response.sw2)
