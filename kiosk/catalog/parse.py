"""A parsed catalog document (TOML or JSON tables) → a validated ``Catalog``.

Strict: unknown keys, wrong types, empty texts and unknown vocabulary are errors that
name the item and the field. Shared form fields live in ``[fieldsets.NAME]`` and an
item lists them by name in ``form``, followed by its own ``fields``.
"""
from __future__ import annotations

from typing import Any

from kiosk.catalog import errors as E
from kiosk.catalog.items import (FIELD_TYPES, LEVELS, LIFE_EVENTS, PREFILL_SOURCES, TOWNSHIP_WINDOWS,
                                 VILLAGE, VILLAGE_WINDOWS, Catalog, FormField, ItemCode, Material,
                                 ServiceItem)

ITEM_KEYS = {"code", "name", "level", "window", "department", "handling_body", "life_events",
             "legal_basis", "conditions", "materials", "procedure", "time_limit_days", "fee_basis",
             "fee_standard", "sample_form", "on_the_spot", "aliases", "form", "fields"}
OPTIONAL_ITEM_KEYS = {"sample_form", "on_the_spot", "aliases", "form", "fields"}
MATERIAL_KEYS = {"name", "originals", "copies", "note"}
FIELD_KEYS = {"name", "label_zh", "label_en", "type", "required", "choices", "prefill"}
TOP_KEYS = {"catalog", "fieldsets", "items"}
MAX_TIME_LIMIT = 365


class _Ctx:
    """Where we are in the file, for error messages."""

    def __init__(self, path: str):
        self.path = path
        self.item = ""

    def fail(self, msgid: str, field: str, cls: type[E.CatalogError] = E.CatalogFieldError, **params: Any):
        raise cls(msgid, path=self.path, item=self.item, field=field, **params)

    def table(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            self.fail(E.MSG_TYPE, field, expected="table", found=type(value).__name__)
        return value

    def keys(self, table: dict, allowed: set[str], required: set[str], field: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(E.MSG_UNKNOWN, f"{field}.{key}".lstrip("."), expected=", ".join(sorted(allowed)))
        for key in sorted(required - table.keys()):
            self.fail(E.MSG_MISSING, f"{field}.{key}".lstrip("."))

    def text(self, value: Any, field: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(E.MSG_TYPE, field, expected="text", found=type(value).__name__)
        if not empty and not value.strip():
            self.fail(E.MSG_EMPTY, field)
        return value.strip()

    def texts(self, value: Any, field: str, *, empty: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(E.MSG_TYPE, field, expected="list", found=type(value).__name__)
        if not empty and not value:
            self.fail(E.MSG_EMPTY, field)
        return tuple(self.text(v, f"{field}[{n}]") for n, v in enumerate(value))

    def integer(self, value: Any, field: str, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(E.MSG_TYPE, field, expected="integer", found=type(value).__name__)
        if not low <= value <= high:
            self.fail(E.MSG_RANGE, field, value=value, low=low, high=high)
        return value

    def flag(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            self.fail(E.MSG_TYPE, field, expected="true/false", found=type(value).__name__)
        return value

    def choice(self, value: Any, field: str, allowed: tuple[str, ...] | dict) -> str:
        text = self.text(value, field)
        if text not in allowed:
            self.fail(E.MSG_CHOICE, field, value=text, expected=", ".join(allowed))
        return text

    def rows(self, value: Any, field: str, *, empty: bool = True) -> list[dict]:
        if not isinstance(value, list):
            self.fail(E.MSG_TYPE, field, expected="list", found=type(value).__name__)
        if not empty and not value:
            self.fail(E.MSG_EMPTY, field)
        return [self.table(v, f"{field}[{n}]") for n, v in enumerate(value)]


def parse_catalog(doc: Any, path: str = "") -> Catalog:
    """Validate a parsed document; raise a ``CatalogError`` naming the first fault."""
    ctx = _Ctx(path)
    doc = ctx.table(doc, "")
    ctx.keys(doc, TOP_KEYS, {"catalog", "items"}, "")
    head = ctx.table(doc["catalog"], "catalog")
    ctx.keys(head, {"version", "region"}, {"version", "region"}, "catalog")
    version = ctx.text(head["version"], "catalog.version")
    region = ctx.text(head["region"], "catalog.region")
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        ctx.fail(E.MSG_TYPE, "catalog.region", expected="6-digit division code", found=region)
    fieldsets = {name: _fields(ctx, rows, f"fieldsets.{name}.fields")
                 for name, rows in _fieldset_tables(ctx, doc.get("fieldsets", {})).items()}
    items = tuple(_item(ctx, row, n, fieldsets) for n, row in enumerate(ctx.rows(doc["items"], "items")))
    if not items:
        ctx.fail(E.MSG_NO_ITEMS, "items")
    seen: set[str] = set()
    for item in items:
        if item.code.basic in seen:
            ctx.item = item.name
            ctx.fail(E.MSG_DUPLICATE, "code", E.CatalogDuplicateError, code=str(item.code))
        seen.add(item.code.basic)
    return Catalog(version=version, region=region, items=items, source=path)


def _fieldset_tables(ctx: _Ctx, value: Any) -> dict[str, Any]:
    tables = ctx.table(value, "fieldsets")
    out = {}
    for name, table in tables.items():
        table = ctx.table(table, f"fieldsets.{name}")
        ctx.keys(table, {"fields"}, {"fields"}, f"fieldsets.{name}")
        out[name] = table["fields"]
    return out


def _item(ctx: _Ctx, row: dict, n: int, fieldsets: dict[str, tuple[FormField, ...]]) -> ServiceItem:
    label = next((v.strip() for v in (row.get("name"), row.get("code")) if isinstance(v, str) and v.strip()), "")
    ctx.item = label or f"items[{n}]"
    ctx.keys(row, ITEM_KEYS, ITEM_KEYS - OPTIONAL_ITEM_KEYS, "")
    try:
        code = ItemCode.parse(ctx.text(row["code"], "code"))
    except ValueError:
        ctx.fail(E.MSG_CODE, "code", value=row["code"])
    level = ctx.choice(row["level"], "level", LEVELS)
    window = ctx.choice(row["window"], "window", VILLAGE_WINDOWS if level == VILLAGE else TOWNSHIP_WINDOWS)
    events = ctx.texts(row["life_events"], "life_events")
    for k, event in enumerate(events):
        ctx.choice(event, f"life_events[{k}]", LIFE_EVENTS)
    form: list[FormField] = []
    for k, name in enumerate(ctx.texts(row.get("form", []), "form", empty=True)):
        if name not in fieldsets:
            ctx.fail(E.MSG_FIELDSET, f"form[{k}]", value=name)
        form.extend(fieldsets[name])
    form.extend(_fields(ctx, row.get("fields", []), "fields"))
    names = [f.name for f in form]
    for name in names:
        if names.count(name) > 1:
            ctx.fail(E.MSG_DUP_FIELD, "fields", value=name)
    on_the_spot = ctx.flag(row.get("on_the_spot", False), "on_the_spot")
    return ServiceItem(
        code=code,
        name=ctx.text(row["name"], "name"),
        level=level,
        window=window,
        department=ctx.text(row["department"], "department"),
        handling_body=ctx.text(row["handling_body"], "handling_body"),
        life_events=events,
        legal_basis=ctx.text(row["legal_basis"], "legal_basis"),
        conditions=ctx.text(row["conditions"], "conditions"),
        materials=tuple(_material(ctx, m, f"materials[{k}]")
                        for k, m in enumerate(ctx.rows(row["materials"], "materials", empty=False))),
        procedure=ctx.texts(row["procedure"], "procedure"),
        time_limit_days=ctx.integer(row["time_limit_days"], "time_limit_days", 0, MAX_TIME_LIMIT),
        fee_basis=ctx.text(row["fee_basis"], "fee_basis"),
        fee_standard=ctx.text(row["fee_standard"], "fee_standard"),
        sample_form=ctx.text(row.get("sample_form", ""), "sample_form", empty=True),
        on_the_spot=on_the_spot,
        aliases=ctx.texts(row.get("aliases", []), "aliases", empty=True),
        form=tuple(form),
    )


def _material(ctx: _Ctx, row: dict, field: str) -> Material:
    ctx.keys(row, MATERIAL_KEYS, {"name"}, field)
    material = Material(
        name=ctx.text(row["name"], f"{field}.name"),
        originals=ctx.integer(row.get("originals", 1), f"{field}.originals", 0, 20),
        copies=ctx.integer(row.get("copies", 0), f"{field}.copies", 0, 20),
        note=ctx.text(row.get("note", ""), f"{field}.note", empty=True),
    )
    if material.originals + material.copies == 0:
        ctx.fail(E.MSG_NO_COPIES, field)
    return material


def _fields(ctx: _Ctx, value: Any, field: str) -> tuple[FormField, ...]:
    out = []
    for k, row in enumerate(ctx.rows(value, field)):
        where = f"{field}[{k}]"
        ctx.keys(row, FIELD_KEYS, {"name", "label_zh", "label_en"}, where)
        kind = ctx.choice(row.get("type", "text"), f"{where}.type", FIELD_TYPES)
        choices = ctx.texts(row.get("choices", []), f"{where}.choices", empty=kind != "choice")
        prefill = row.get("prefill", "")
        if prefill:
            ctx.choice(prefill, f"{where}.prefill", PREFILL_SOURCES)
        out.append(FormField(
            name=ctx.text(row["name"], f"{where}.name"),
            label_zh=ctx.text(row["label_zh"], f"{where}.label_zh"),
            label_en=ctx.text(row["label_en"], f"{where}.label_en"),
            type=kind,
            required=ctx.flag(row.get("required", True), f"{where}.required"),
            choices=choices,
            prefill=ctx.text(prefill, f"{where}.prefill", empty=True),
        ))
    return tuple(out)
