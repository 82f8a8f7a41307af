"""Translations: gettext catalogs under this package, Chinese first.

Message ids are English. ``N_`` marks a string for extraction without translating it;
``translate`` renders a message id in a language at the moment it is shown.
"""
from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")


class Msg(str):
    """A message id passed as a parameter of another message: translated with it."""


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalog; translation happens later, in ``translate``."""
    return msgid


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English needs none: ids are English)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def translate(msgid: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """``msgid`` in ``language``, with ``{name}`` placeholders filled from ``params``."""
    text = catalog(language).gettext(msgid)
    if not params:
        return text
    return text.format(**{k: translate(v, language) if isinstance(v, Msg) else v for k, v in params.items()})
