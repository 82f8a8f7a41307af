"""docs/devices.md against the code: every driver, its config keys, and its error codes."""
from __future__ import annotations

import ast
import dataclasses
import re
import types
import typing
from pathlib import Path

import pytest

from drivers.registry import DRIVERS, driver_class

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "devices.md"
DRIVER_DIRS = ("idcard", "printer", "scanner")
_ERROR_CLASS = re.compile(r"(Error|Timeout|Unavailable|InvalidCardData)$")


def driver_sections(text: str) -> dict[str, str]:
    """``## `name`: ...`` sections of the doc, by the driver name in the heading."""
    sections = {}
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        name = re.match(r"`([^`]+)`", chunk)
        if name:
            sections[name.group(1)] = chunk
    return sections


def table_rows(section: str, title: str) -> list[list[str]]:
    """The body rows of the first table under ``### title``, cells unescaped and stripped."""
    part = re.split(rf"^### {re.escape(title)}\s*$", section, flags=re.M)
    if len(part) < 2:
        return []
    lines = part[1].split("\n### ")[0].splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    return [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in table[2:]]


def config_table(section: str) -> dict[str, tuple[str, str]]:
    """key → (type, default) from the section's ``Config keys`` table."""
    return {row[0].strip("`"): (row[1], row[2].strip("`")) for row in table_rows(section, "Config keys")}


def type_text(hint: object) -> str:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " | ".join("None" if arg is type(None) else type_text(arg) for arg in typing.get_args(hint))
    return hint.__name__ if isinstance(hint, type) and not typing.get_args(hint) else str(hint)


def default_text(field: dataclasses.Field) -> str:
    if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
        return "required"
    value = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def raised_codes() -> set[str]:
    """Every error code a driver module constructs: ``SomeError("kind.code", ...)`` or
    ``(SomeError, "kind.code", msgid)`` in a lookup table."""
    codes = set()
    for folder in DRIVER_DIRS:
        for path in (ROOT / "drivers" / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and node.args:
                    func, first = node.func, node.args[0]
                    name = getattr(func, "id", getattr(func, "attr", ""))
                elif isinstance(node, ast.Tuple) and len(node.elts) >= 2 and isinstance(node.elts[0], ast.Name):
                    name, first = node.elts[0].id, node.elts[1]
                else:
                    continue
                if _ERROR_CLASS.search(name) and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                        and re.fullmatch(r"[a-z]+\.[a-z_]+", first.value):
                    codes.add(first.value)
    return codes


@pytest.fixture(scope="module")
def sections() -> dict[str, str]:
    return driver_sections(DOC.read_text(encoding="utf-8"))


def test_every_registered_driver_has_a_section(sections):
    assert sorted(sections) == sorted(DRIVERS)


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_every_option_is_documented_with_its_type_and_default(sections, driver):
    options = driver_class(driver).Options
    hints = typing.get_type_hints(options)
    fields = {f.name: f for f in dataclasses.fields(options)}
    documented = config_table(sections.get(driver, ""))
    missing = sorted(set(fields) - set(documented))
    assert not missing, f"docs/devices.md, `{driver}`: config keys not documented: {missing}"
    stale = sorted(set(documented) - set(fields))
    assert not stale, f"docs/devices.md, `{driver}`: documented keys the driver does not have: {stale}"
    for name, field in fields.items():
        assert documented[name] == (type_text(hints[name]), default_text(field)), \
            f"docs/devices.md, `{driver}`, key `{name}`: (type, default) should be " \
            f"{(type_text(hints[name]), default_text(field))}"


def test_every_error_code_a_driver_raises_is_documented():
    text = DOC.read_text(encoding="utf-8")
    codes = raised_codes()
    assert len(codes) > 50  # the scan itself works
    assert sorted(c for c in codes if f"`{c}`" not in text) == []


def test_the_parsers_see_a_missing_key():
    """The checks above can fail: a doc without one key loses it from the parsed table."""
    section = driver_sections(DOC.read_text(encoding="utf-8"))["samv"]
    assert "baudrate" in config_table(section)
    trimmed = "\n".join(ln for ln in section.splitlines() if not ln.startswith("| `baudrate`"))
    assert "baudrate" not in config_table(trimmed) and "port" in config_table(trimmed)
