"""Typed catalog errors: each names the file, the item and the field at fault."""
from __future__ import annotations

from l10n import N_, translate


class CatalogError(Exception):
    """A catalog file that cannot be used, with a message in every language."""

    def __init__(self, msgid: str, *, path: str = "", item: str = "", field: str = "", **params: object):
        self.msgid = msgid
        self.path = str(path)
        self.item = item
        self.field = field
        self.params = params
        super().__init__(self.message("en"))

    def where(self) -> str:
        """``file [item] field`` — the place a technician looks first."""
        parts = [self.path or "?"]
        if self.item:
            parts.append(f"[{self.item}]")
        if self.field:
            parts.append(self.field)
        return " ".join(parts)

    def message(self, language: str = "zh_CN") -> str:
        return f"{self.where()}: " + translate(self.msgid, language, **self.params)


class CatalogFileError(CatalogError):
    """The file is missing, unreadable or not valid TOML/JSON."""


class CatalogFieldError(CatalogError):
    """A field is missing, unknown, of the wrong type or out of range."""


class CatalogDuplicateError(CatalogError):
    """Two items share one code."""


MSG_UNREADABLE = N_("The catalog file cannot be read: {reason}")
MSG_SYNTAX = N_("The catalog file is not valid {format}: {reason}")
MSG_MISSING = N_("This field is required.")
MSG_UNKNOWN = N_("Unknown field; expected one of: {expected}")
MSG_TYPE = N_("Expected {expected}, found {found}.")
MSG_CHOICE = N_("'{value}' is not one of: {expected}")
MSG_EMPTY = N_("This field must not be empty.")
MSG_RANGE = N_("{value} is out of range ({low} to {high}).")
MSG_CODE = N_("'{value}' is not a service item code (2-digit type, 5-digit main item, 3-digit sub-item).")
MSG_DUPLICATE = N_("The code {code} is used by more than one item.")
MSG_FIELDSET = N_("No field set named '{value}'.")
MSG_DUP_FIELD = N_("The form field '{value}' appears twice.")
MSG_NO_COPIES = N_("A material needs at least one original or one copy.")
MSG_NO_ITEMS = N_("The catalog has no items.")
