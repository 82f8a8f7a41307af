"""An item's application form: prefilled from the ID card, checked field by field as it is filled.

Pure logic, no Kivy. ``check(field, raw)`` gives the value as it is stored (dates as ISO
``2026-03-15``, an ID number's ``x`` as ``X``) and, when the value cannot be taken, a
``Problem``: the words to show next to the field. Field types are those of
``kiosk.catalog.items.FIELD_TYPES``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from drivers.idcard.identity import is_valid_id_number
from kiosk.catalog.items import FormField, ServiceItem
from l10n import N_, translate

MAX_TEXT = 60      # characters of a free-text field
MAX_NUMBER = 15    # digits of a number field (accounts, amounts in yuan, counts)
EARLIEST_DAY = date(1900, 1, 1)

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"0\d{9,11}", re.ASCII)  # area code (3–4 digits with its 0) + a 7–8 digit line
_SEPARATORS = re.compile(r"[\s\-－—/.]")

REQUIRED = N_("Please fill this in.")
NOT_A_CHOICE = N_("Please choose one of the buttons.")
TOO_LONG = N_("This is too long: at most {n} characters.")
NOT_DIGITS = N_("Please enter a whole number, with digits only.")
ID_LENGTH = N_("An ID card number has 18 characters: 17 digits, then a digit or X.")
ID_CHECK = N_("This ID card number is not right: its last character does not match. Please check every digit.")
ID_BIRTH = N_("This ID card number does not hold a real date of birth. Please check it.")
PHONE = N_("A mobile number has 11 digits and starts with 1; a landline number starts with its area code, e.g. 0759.")
DATE_FORMAT = N_("Please enter the date as 8 digits: year, month, day, e.g. 20260315.")
NO_SUCH_DAY = N_("There is no such day in the calendar. Please check the month and the day.")
DATE_RANGE = N_("Please enter a date between 1900 and {year}.")


@dataclass(frozen=True)
class Problem:
    """Why a value cannot be taken: a message id and its parameters."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, language: str) -> str:
        return translate(self.msgid, language, **self.params)


def applicable(item: ServiceItem) -> bool:
    """An item can be applied for at the terminal when the catalog gives it a form."""
    return bool(item.form)


def check(form_field: FormField, raw: str, today: date | None = None) -> tuple[str, Problem | None]:
    """``raw`` as stored, and the problem with it (None: it can be taken)."""
    value = _clean(raw)
    if not value:
        return "", Problem(REQUIRED) if form_field.required else None
    checker = _CHECKERS.get(form_field.type, _text)
    return checker(form_field, value, today or date.today())


def check_all(fields: Iterable[FormField], values: Mapping[str, str]) -> dict[str, Problem]:
    """The problem of every field that has one, by field name."""
    problems = {}
    for f in fields:
        _, problem = check(f, values.get(f.name, ""))
        if problem is not None:
            problems[f.name] = problem
    return problems


def prefill(fields: Iterable[FormField], identity=None, phone: str = "") -> dict[str, str]:
    """Values for the fields whose ``prefill`` source is known: the ID card's, the visit's phone."""
    sources = {"session.phone": phone}
    if identity is not None:
        sources.update({
            "identity.name": identity.name, "identity.gender": identity.gender,
            "identity.nation": identity.nation, "identity.birth_date": identity.birth_date.isoformat(),
            "identity.address": identity.address, "identity.id_number": identity.id_number,
        })
    values = {}
    for f in fields:
        value, problem = check(f, sources.get(f.prefill, "")) if f.prefill else ("", None)
        if value and problem is None:
            values[f.name] = value
    return values


def from_card(form_field: FormField, identity) -> bool:
    """The field shows what the ID card says: it is not typed over."""
    return identity is not None and form_field.prefill.startswith("identity.")


def keyboard(form_field: FormField) -> str:
    """How the field is filled on the screen: "keypad", "pinyin" or "choices"."""
    if form_field.type == "choice":
        return "choices"
    return "pinyin" if form_field.type == "text" else "keypad"


def phone_number(raw: str) -> str:
    """``raw`` as the digits of a phone number — a mobile number (11 digits, 1[3-9]…) or a
    landline with its area code (0759 …) — spaces and dashes left out; "" when it is not one."""
    digits = _SEPARATORS.sub("", _clean(raw))
    return digits if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits) else ""


def shown(form_field: FormField, value: str) -> str:
    """A value as the screen and the review show it (an ID number in groups, for reading back)."""
    if form_field.type == "id_number" and len(value) == 18:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    return value


# -- the checkers, by field type ---------------------------------------------------------------
def _clean(raw: str) -> str:
    """Trimmed, full-width digits and letters folded (NFKC), control characters dropped."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()


def _text(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    if len(value) > MAX_TEXT:
        return value, Problem(TOO_LONG, {"n": MAX_TEXT})
    return value, None


def _number(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    if not (value.isascii() and value.isdigit()):
        return value, Problem(NOT_DIGITS)
    if len(value) > MAX_NUMBER:
        return value, Problem(TOO_LONG, {"n": MAX_NUMBER})
    return value, None


def _choice(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    return value, None if value in form_field.choices else Problem(NOT_A_CHOICE)


def _id_number(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    value = value.upper()
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()) or value[17] not in "0123456789X":
        return value, Problem(ID_LENGTH)
    if not is_valid_id_number(value):
        return value, Problem(ID_CHECK)
    if _day(value[6:14]) is None:
        return value, Problem(ID_BIRTH)
    return value, None


def _phone(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    digits = phone_number(value)
    return (digits, None) if digits else (value, Problem(PHONE))


def _date(form_field: FormField, value: str, today: date) -> tuple[str, Problem | None]:
    digits = _SEPARATORS.sub("", value)
    if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
        return value, Problem(DATE_FORMAT)
    day = _day(digits)
    if day is None:
        return value, Problem(NO_SUCH_DAY)
    last = date(today.year + 10, 12, 31)  # appointments and permits reach into the future
    if not EARLIEST_DAY <= day <= last:
        return value, Problem(DATE_RANGE, {"year": last.year})
    return day.isoformat(), None


def _day(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


_CHECKERS = {"text": _text, "number": _number, "choice": _choice, "id_number": _id_number,
             "phone": _phone, "date": _date}
