"""A request refused with a reason people read, in their language.

``Refused`` carries an English message id (marked ``N_``) and its values; ``str()`` is the
English text (logs, the console), ``say(lang)`` the text in a language. The API answers one
with its HTTP status and ``{"detail": text}`` in the language the request asks for: the
dashboard's language cookie, else ``Accept-Language``, else English (scripts such as
kioskctl send neither).
"""
from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from l10n import LANGUAGES, translate

LANG_COOKIE = "fleet_lang"  # the dashboard's language choice
API_LANGUAGE = "en"


class Refused(ValueError):
    def __init__(self, msgid: str, status: int = 400, headers: dict[str, str] | None = None, **values: Any):
        super().__init__(translate(msgid, "en", **values))
        self.msgid, self.status, self.headers, self.values = msgid, status, headers or {}, values

    def say(self, lang: str) -> str:
        return translate(self.msgid, lang, **self.values)


def request_language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return API_LANGUAGE


def answer(request: Request, exc: Exception) -> JSONResponse:
    """The API's answer to a ``Refused`` (an exception handler of the app)."""
    assert isinstance(exc, Refused)
    return JSONResponse({"detail": exc.say(request_language(request))}, exc.status, headers=exc.headers)
