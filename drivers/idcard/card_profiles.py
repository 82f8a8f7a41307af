"""Card profiles as data: an APDU script plus how to read the answers (see profiles.toml).

``load_profiles`` reads and checks the TOML; ``run_profile`` plays a profile's script
through a ``transmit(bytes) -> bytes`` function and returns the fields it found. A
bad answer ends in a ``DeviceError``: ``ProtocolError`` for bytes that make no
sense, ``MediaError`` when the card refuses a step (most likely the wrong card).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from drivers.base import MediaError, ProtocolError
from drivers.idcard import tlv
from drivers.idcard.apdu import ApduError, Transmit, exchange, parse_hex
from l10n import N_

PROFILES_FILE = Path(__file__).with_name("profiles.toml")
TYPES = ("ascii", "gbk", "hex", "bcd", "bcd_date")
PARSERS = ("none", "tlv", "fixed")


@dataclass(frozen=True)
class Field:
    """One value to take from a response: by TLV tag or at a fixed offset."""

    name: str
    type: str
    tag: int | None = None
    offset: int = 0
    length: int | None = None  # None: to the end of the data


@dataclass(frozen=True)
class Step:
    name: str
    apdu: str
    expect: tuple[str, ...] = ("9000",)
    parse: str = "none"
    fields: tuple[Field, ...] = ()
    records: tuple[int, int] | None = None

    def commands(self) -> list[bytes]:
        if self.records is None:
            return [parse_hex(self.apdu)]
        first, last = self.records
        return [parse_hex(self.apdu.format(record=r)) for r in range(first, last + 1)]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    steps: tuple[Step, ...]


def decode(value: bytes, kind: str) -> str:
    """``value`` as text per field type ``kind``; ``ValueError`` if it does not fit."""
    if kind == "hex":
        return value.hex().upper()
    if kind == "ascii":
        text = value.decode("ascii")
        if not text.isprintable():
            raise ValueError(f"non-printable characters in {value!r}")
        return text.rstrip()
    if kind == "gbk":
        return value.decode("gbk").rstrip()
    digits = value.hex()
    if not digits.isdigit():
        raise ValueError(f"{digits} is not BCD")
    if kind == "bcd":
        return digits
    if len(digits) != 8:
        raise ValueError(f"BCD date {digits} is not YYYYMMDD")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()


def extract(step: Step, data: bytes) -> dict[str, str]:
    """The fields ``step`` takes from response ``data``; ``ValueError`` on a mismatch."""
    if step.parse == "none":
        return {}
    found: dict[str, str] = {}
    if step.parse == "fixed":
        for f in step.fields:
            end = len(data) if f.length is None else f.offset + f.length
            if end > len(data) or f.offset >= len(data):
                raise ValueError(f"field {f.name} needs bytes {f.offset}..{end}, response has {len(data)}")
            found[f.name] = decode(data[f.offset:end], f.type)
        return found
    by_tag = {f.tag: f for f in step.fields}
    for item in tlv.parse(data):
        f = by_tag.get(item.tag)
        if f is None:
            continue
        if f.name in found:
            raise ValueError(f"tag {item.tag:02X} ({f.name}) appears twice")
        found[f.name] = decode(item.value, f.type)
    return found


def run_profile(profile: Profile, transmit: Transmit) -> dict[str, str]:
    """Play ``profile`` through ``transmit``; every field of every step."""
    result: dict[str, str] = {}
    for step in profile.steps:
        for command in step.commands():
            try:
                response = exchange(transmit, command)
            except ApduError as exc:
                raise _bad(step, exc) from None
            if not any(response.matches(p) for p in step.expect):
                raise MediaError(
                    "idcard.card_refused",
                    N_("The card refused step '{step}' (status {sw}). Is it the right card?"),
                    step=step.name, sw=response.sw_hex,
                )
            try:
                result.update(extract(step, response.data))
            except ValueError as exc:  # TlvError, UnicodeDecodeError and bad values
                raise _bad(step, exc) from None
        missing = [f.name for f in step.fields if f.name not in result]
        if missing:
            raise _bad(step, ValueError("missing " + ", ".join(missing)))
    return result


def _bad(step: Step, exc: Exception) -> ProtocolError:
    return ProtocolError("idcard.bad_response", N_("The card's answer to '{step}' makes no sense: {reason}"),
                         step=step.name, reason=str(exc))


# -- loading -------------------------------------------------------------------
def _field(raw: Any, where: str, tag: str | None = None) -> Field:
    if not isinstance(raw, dict) or set(raw) - {"name", "type", "offset", "length"}:
        raise ValueError(f"{where}: a field is a table of name, type and (fixed) offset, length")
    if raw.get("type") not in TYPES:
        raise ValueError(f"{where}: field type must be one of {', '.join(TYPES)}")
    if not isinstance(raw.get("name"), str):
        raise ValueError(f"{where}: field name must be a string")
    try:
        tag_value = None if tag is None else int(tag, 16)
        if tag_value is not None:
            tlv.tag_bytes(tag_value)
    except ValueError:
        raise ValueError(f"{where}: {tag!r} is not a TLV tag in hex") from None
    offset, length = raw.get("offset", 0), raw.get("length")
    if not isinstance(offset, int) or offset < 0 or (length is not None and (not isinstance(length, int) or length < 1)):
        raise ValueError(f"{where}: offset must be >= 0 and length >= 1")
    return Field(raw["name"], raw["type"], tag_value, offset, length)


def _step(raw: dict[str, Any], where: str) -> Step:
    unknown = set(raw) - {"name", "apdu", "expect", "parse", "fields", "records"}
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    name, parse = raw.get("name", ""), raw.get("parse", "none")
    where = f"{where} ({name})"
    if parse not in PARSERS:
        raise ValueError(f"{where}: parse must be one of {', '.join(PARSERS)}")
    fields_raw = raw.get("fields", {} if parse == "tlv" else [])
    if parse == "tlv":
        fields = tuple(_field(v, where, tag) for tag, v in dict(fields_raw).items())
    else:
        fields = tuple(_field(v, where) for v in fields_raw)
    records = raw.get("records")
    if records is not None:
        if not (isinstance(records, list) and len(records) == 2 and 1 <= records[0] <= records[1] <= 254):
            raise ValueError(f"{where}: records must be [first, last] within 1..254")
        records = (records[0], records[1])
    step = Step(name, str(raw.get("apdu", "")), tuple(raw.get("expect", ["9000"])), parse, fields, records)
    try:
        step.commands()
    except (ApduError, KeyError, ValueError) as exc:
        raise ValueError(f"{where}: bad apdu: {exc}") from None
    return step


def parse_profiles(raw: dict[str, Any]) -> dict[str, Profile]:
    """Profiles from decoded TOML; ``ValueError`` naming the profile and step at fault."""
    profiles = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or not body.get("steps"):
            raise ValueError(f"profile {name}: needs a description and steps")
        steps = tuple(_step(s, f"profile {name} step {i + 1}") for i, s in enumerate(body["steps"]))
        profiles[name] = Profile(name, str(body.get("description", "")), steps)
    return profiles


@lru_cache(maxsize=None)
def load_profiles(path: Path = PROFILES_FILE) -> dict[str, Profile]:
    with open(path, "rb") as f:
        return parse_profiles(tomllib.load(f))
