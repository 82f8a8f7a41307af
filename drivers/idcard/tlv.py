"""A strict BER-TLV parser and encoder (ISO/IEC 7816-4 data objects).

Strict means: tags of at most 3 bytes, definite lengths in their shortest form (at most
4 length bytes), no padding between objects, nothing left over. Whatever ``parse``
accepts, ``encode`` gives back byte for byte. Malformed input raises ``TlvError``
naming the offset.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_TAG_BYTES = 3
MAX_LENGTH_BYTES = 4


class TlvError(ValueError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True)
class Tlv:
    """One data object: ``tag`` as an int (e.g. ``0x5F20``) and its value bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """True when the value is itself a sequence of data objects (tag bit b6)."""
        return bool(tag_bytes(self.tag)[0] & 0x20)

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive: it has no children")
        return parse(self.value)


def tag_bytes(tag: int) -> bytes:
    """The encoding of ``tag``; ``TlvError`` if it is not a valid tag number."""
    if tag < 0:
        raise TlvError(f"tag {tag} is negative")
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    if len(raw) > MAX_TAG_BYTES:
        raise TlvError(f"tag {tag:X} is longer than {MAX_TAG_BYTES} bytes")
    first, rest = raw[0], raw[1:]
    if (first & 0x1F) == 0x1F:
        ok = bool(rest) and all(b & 0x80 for b in rest[:-1]) and not rest[-1] & 0x80 and rest[0] != 0x80
    else:
        ok = not rest
    if not ok:
        raise TlvError(f"{tag:X} is not a valid BER-TLV tag")
    return raw


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    first = data[pos]
    pos += 1
    if (first & 0x1F) == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError(f"tag at offset {start} is cut off")
            byte = data[pos]
            if pos == start + 1 and byte == 0x80:
                raise TlvError(f"tag at offset {start} has a padded tag number")
            pos += 1
            if not byte & 0x80:
                break
            if pos - start >= MAX_TAG_BYTES:
                raise TlvError(f"tag at offset {start} is longer than {MAX_TAG_BYTES} bytes")
    return int.from_bytes(data[start:pos], "big"), pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"length at offset {pos} is missing")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError(f"indefinite length at offset {pos - 1} is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TlvError(f"length at offset {pos - 1} uses {count} bytes (at most {MAX_LENGTH_BYTES})")
    if pos + count > len(data):
        raise TlvError(f"length at offset {pos - 1} is cut off")
    length = int.from_bytes(data[pos:pos + count], "big")
    if length < 0x80 or data[pos] == 0:
        raise TlvError(f"length at offset {pos - 1} is not in its shortest form")
    return length, pos + count


def parse(data: bytes) -> list[Tlv]:
    """Every data object in ``data``, in order; ``TlvError`` if any byte is out of place."""
    data = bytes(data)
    items, pos = [], 0
    while pos < len(data):
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise TlvError(
                f"tag {tag:X} needs {length} value bytes at offset {pos}, only {len(data) - pos} left")
        items.append(Tlv(tag, data[pos:pos + length]))
        pos += length
    return items


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(raw) > MAX_LENGTH_BYTES:
        raise TlvError(f"length {length} is too large")
    return bytes([0x80 | len(raw)]) + raw


def encode(items: list[Tlv]) -> bytes:
    """The BER-TLV encoding of ``items`` (shortest lengths), the inverse of ``parse``."""
    return b"".join(tag_bytes(i.tag) + encode_length(len(i.value)) + i.value for i in items)
