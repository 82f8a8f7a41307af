"""The config file as data: read as TOML, written back as TOML, replaced without a torn file.

``dumps`` writes the subset of TOML a config uses (tables, strings, numbers, booleans,
dates, lists, inline tables); ``replace`` puts new text in place with tmp + fsync +
rename, keeping the previous file as ``<name>.bak``.
"""
from __future__ import annotations

import datetime
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def read(path: Path | str) -> dict[str, Any]:
    """The file at ``path`` decoded (OSError, tomllib.TOMLDecodeError on a bad file)."""
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def dumps(doc: dict[str, Any]) -> str:
    """``doc`` as TOML text that ``tomllib.loads`` reads back equal; ValueError when it cannot be."""
    lines: list[str] = []
    _table(doc, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(table: dict[str, Any], where: tuple[str, ...], lines: list[str]) -> None:
    if where:
        lines += ["", "[" + ".".join(_key(k) for k in where) + "]"]
    subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items() if k not in subtables]
    for key, sub in subtables.items():
        _table(sub, (*where, key), lines)


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"a TOML key must be a string, not {key!r}")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{text[:40]!r} is not valid Unicode text") from None
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in text) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("-inf" if value < 0 else "inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"TOML cannot hold {type(value).__name__} {value!r}")


def replace(path: Path | str, text: str) -> None:
    """Put ``text`` at ``path`` atomically; the file it replaces becomes ``<name>.bak``."""
    path = Path(path)
    if path.exists():
        _write_atomically(path.with_name(path.name + ".bak"), path.read_bytes(), path)
    _write_atomically(path, text.encode("utf-8"), path)


def _write_atomically(path: Path, data: bytes, mode_of: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if mode_of.exists():
        os.chmod(tmp, mode_of.stat().st_mode & 0o7777)
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
