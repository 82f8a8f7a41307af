"""Reading one decoded JSON object field by field, each mistake a ``ProtocolError`` naming it."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

MAX_PAYLOAD = 256 * 1024  # bytes; anything larger is refused before decoding
MAX_INT = 2**63 - 1
_MISSING = object()
_TS = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]00:00)\Z")


class ProtocolError(ValueError):
    """A message that breaks the protocol; ``field`` names where (``"health.devices.x.status"``)."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def decode(data: bytes | str, where: str) -> Any:
    """JSON from UTF-8 bytes, bounded in size; NaN and Infinity refused."""
    if len(data) > MAX_PAYLOAD:
        raise ProtocolError(where, f"payload over {MAX_PAYLOAD} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        return json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ProtocolError(where, "not UTF-8") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, too many digits, too deep
        raise ProtocolError(where, f"not JSON: {str(exc)[:80]}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def format_ts(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: ``2024-05-01T08:00:00.000Z``."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(text: str, where: str) -> datetime:
    match = _TS.match(text)
    if not match:
        raise ProtocolError(where, "not an RFC 3339 UTC timestamp")
    micro = int((match.group(1) or ".0")[1:7].ljust(6, "0"))
    try:
        value = datetime.fromisoformat(text[:19].upper())  # its shape checked above; strptime costs 10× more
    except ValueError:
        raise ProtocolError(where, "not a valid date and time") from None
    return value.replace(microsecond=micro, tzinfo=timezone.utc)


class Fields:
    """One JSON object under ``where``; unknown keys are ignored."""

    def __init__(self, value: Any, where: str):
        if not isinstance(value, dict):
            raise ProtocolError(where, "must be a JSON object")
        self.raw = value
        self.where = where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}"

    def _get(self, key: str, default: Any) -> Any:
        if key in self.raw and self.raw[key] is not None:
            return self.raw[key]
        if default is _MISSING:
            raise ProtocolError(self._name(key), "missing")
        return default

    def str(self, key: str, *, pattern: re.Pattern[str] | None = None,
            choices: frozenset[str] | tuple[str, ...] | None = None,
            default: Any = _MISSING, max_len: int = 4096) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise ProtocolError(self._name(key), "must be a string")
        if len(value) > max_len:
            raise ProtocolError(self._name(key), f"longer than {max_len} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise ProtocolError(self._name(key), f"{value[:70]!r} does not match {pattern.pattern}")
        if choices is not None and value not in choices:
            raise ProtocolError(self._name(key), f"{value[:70]!r} is not one of {', '.join(sorted(choices))}")
        return value

    def int(self, key: str, lo: int = 0, hi: int = MAX_INT, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProtocolError(self._name(key), "must be an integer")
        if not lo <= value <= hi:
            raise ProtocolError(self._name(key), f"must be between {lo} and {hi}")
        return value

    def num(self, key: str, lo: float = 0.0, hi: float = 1e15, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        return number(value, self._name(key), lo, hi)

    def bool(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ProtocolError(self._name(key), "must be true or false")
        return value

    def ts(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise ProtocolError(self._name(key), "must be a timestamp string")
        return parse_ts(value, self._name(key))

    def obj(self, key: str, default: Any = _MISSING) -> Fields:
        return Fields(self._get(key, default), self._name(key))

    def strs(self, key: str, pattern: re.Pattern[str], max_items: int = 64) -> tuple[str, ...]:
        value = self._get(key, [])
        if not isinstance(value, list) or len(value) > max_items:
            raise ProtocolError(self._name(key), f"must be a list of at most {max_items} strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not pattern.fullmatch(item):
                raise ProtocolError(f"{self._name(key)}[{i}]", f"must match {pattern.pattern}")
        return tuple(value)

    def version(self) -> None:
        if self.int("v", 0) != 1:
            raise ProtocolError(self._name("v"), "this side speaks version 1 only")


def number(value: Any, where: str, lo: float, hi: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ProtocolError(where, "must be a number")
    if not lo <= value <= hi:  # NaN fails every comparison
        raise ProtocolError(where, f"must be between {lo:g} and {hi:g}")
    return float(value)
