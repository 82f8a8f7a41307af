"""How the dashboard renders a page: Jinja2 templates, the reader's language, who is signed in.

Pages are Chinese first: the language is ``zh_CN`` unless the reader chose English (the
``fleet_lang`` cookie). Templates call ``_("English id", name=value)`` (gettext through
``l10n.translate``) and ``word(value)`` for the values the manager stores (states, roles,
statuses: ``fleet.kioskctl_view.WORDS``). Times are shown in China Standard Time.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fleet import auth
from fleet.deps import context, who
from fleet.kioskctl_view import word
from fleet.models import Operator
from fleet.queries import CST
from fleet.refusal import LANG_COOKIE
from fleet.web.labels import DETAIL_KEYS, NOTICES, OPS, OTHER, RULES
from l10n import DEFAULT_LANGUAGE, LANGUAGES, N_, translate

HERE = Path(__file__).resolve().parent
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(("html",)),
                  trim_blocks=True, lstrip_blocks=True)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def local_time(value: str | datetime | None, with_date: bool = True) -> str:
    """An RFC 3339 time (or a datetime) as China Standard Time: ``05-01 16:00``."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def signed_in(request: Request) -> Operator:
    """The operator behind the session cookie; without one, the browser is sent to the sign-in page."""
    operator = who(request, context(request))
    if operator is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": "/login?next=" + quote(target, safe="")})
    return operator


def may(operator: Operator | None, role: str) -> bool:
    return operator is not None and auth.allowed(operator.role, role)


def with_query(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None or "" drops one)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return request.url.path + ("?" + urlencode(params) if params else "")


def say(value: Any, lang: str, names: dict[str, str] = OTHER) -> str:
    """A stored value in the reader's language: its name in ``names``, a time in China Standard
    Time, else a word of kioskctl's."""
    if isinstance(value, str) and value in names:
        return translate(names[value], lang)
    if isinstance(value, str) and ISO_TIME.match(value):
        return local_time(value)
    return word(value, lang)


def page(request: Request, template: str, operator: Operator | None, status_code: int = 200,
         **values: Any) -> HTMLResponse:
    lang = language(request)
    notice = request.query_params.get("notice", "")
    html = ENV.get_template(template).render(
        request=request, me=operator, lang=lang, _=functools.partial(translate, language=lang),
        say=functools.partial(say, lang=lang), rule=functools.partial(say, lang=lang, names=RULES),
        op=functools.partial(say, lang=lang, names=OPS), key=functools.partial(say, lang=lang, names=DETAIL_KEYS),
        local_time=local_time, may=functools.partial(may, operator), with_query=functools.partial(with_query, request),
        notice=translate(NOTICES[notice], lang) if notice in NOTICES else "", **values)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


NAV = ((N_("Overview"), "/"), (N_("Alerts"), "/alerts"), (N_("Stations"), "/stations"), (N_("Jobs"), "/jobs"))
ENV.globals["NAV"] = NAV
