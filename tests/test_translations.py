"""Every user-facing message has a Chinese translation with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import l10n

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("drivers", "kiosk", "l10n", "screens")
PLACEHOLDER = re.compile(r"\{(\w+)")
KV_MESSAGE = re.compile(r'\b_\(\s*"((?:[^"\\]|\\.)*)"')


def source_msgids() -> dict[str, str]:
    found = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords={"N_": None, "_": None}
        ):
            found.setdefault(message, f"{folder}/{filename}:{lineno}")
        for kv in (ROOT / folder).rglob("*.kv"):
            for lineno, line in enumerate(kv.read_text(encoding="utf-8").splitlines(), 1):
                for message in KV_MESSAGE.findall(line):
                    found.setdefault(message, f"{kv.relative_to(ROOT)}:{lineno}")
    return found


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
