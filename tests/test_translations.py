"""Every user-facing message has a Chinese translation with the same placeholders: the terminal's
(drivers, kiosk, screens and their kv files) and the fleet's (kioskctl, the manager's API errors,
the dashboard's .py and its Jinja templates)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import l10n

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("drivers", "fleet", "kiosk", "l10n", "screens")
MARKUP = ("*.kv", "*.html")  # kv rules and Jinja templates call _("msgid", ...)
PLACEHOLDER = re.compile(r"\{(\w+)")
MARKUP_MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def source_msgids() -> dict[str, str]:
    """Every message id in the sources, with where it is first found."""
    found = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"N_": None, "_": None}
        ):
            found.setdefault(message, f"{folder}/{filename}:{lineno}")
        for pattern in MARKUP:
            for path in sorted((ROOT / folder).rglob(pattern)):
                text = path.read_text(encoding="utf-8")
                for match in MARKUP_MESSAGE.finditer(text):
                    lineno = text.count("\n", 0, match.start()) + 1
                    found.setdefault(match.group(1) or match.group(2), f"{path.relative_to(ROOT)}:{lineno}")
    return found


def test_the_scan_reaches_every_kind_of_source():
    where = source_msgids()
    for msgid, place in (("Fleet overview", "fleet/web/templates/"),  # a template, double quotes
                         ("Note (optional)", "fleet/web/templates/"),  # single quotes
                         ("Offline over 5 minutes", "fleet/web/labels.py"),  # the dashboard's .py
                         ("Give the alert's number: kioskctl alerts {action} ID", "fleet/kioskctl.py"),
                         ("Wrong name or password.", "fleet/api.py"),
                         ("quit", "kiosk/demo.py")):
        assert where.get(msgid, "").startswith(place), (msgid, where.get(msgid))
    assert any(place.startswith("screens/") and place.split(":")[0].endswith(".kv") for place in where.values())


def test_every_message_is_translated_to_chinese():
    with open(l10n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "kiosk.po", "rb") as f:
        po = read_po(f)
    missing = [f"{where}: {msgid!r}" for msgid, where in source_msgids().items()
               if not (po.get(msgid) and po.get(msgid).string)]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    with open(l10n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "kiosk.po", "rb") as f:
        po = read_po(f)
    wrong = [m.id for m in po if m.id and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))]
    assert not wrong


def test_compiled_catalog_is_used():
    assert l10n.translate("Please try again.", "zh_CN") == "请重试。"
    assert l10n.translate("Please try again.", "en") == "Please try again."
