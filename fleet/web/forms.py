"""The dashboard's actions (POST forms): sign in and out, the language, acknowledge or resolve
an alert with a note, issue a job.

Each answers with a redirect (303) to the page to see next, or the form again with the reason
it was refused. The session cookie is SameSite=Strict, so another site cannot post these forms
with it. Every change is written to the audit log under the operator's name.
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet import alerts as alert_rules
from fleet import auth, queries
from fleet.deps import SESSION_COOKIE, Context, context, reader
from fleet.jobs import JobRequestError, Target
from fleet.models import Alert, Operator, Token
from fleet.refusal import LANG_COOKIE
from fleet.web.pages import PAGE_SIZE, job_form
from fleet.web.render import language, may, page, say, signed_in
from l10n import LANGUAGES, N_, translate

router = APIRouter(include_in_schema=False)
NOTE_MAX = 500


def local_path(target: str, fallback: str = "/") -> str:
    """``target`` if it is a path on this site (never another host), else ``fallback``."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else fallback


def back(target: str, notice: str = "") -> RedirectResponse:
    target = local_path(target)
    if notice:
        target += ("&" if "?" in target else "?") + "notice=" + notice
    return RedirectResponse(target, status_code=303)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: str = Form("", max_length=64), password: str = Form("", max_length=1024),
          next: str = Form("/"), ctx: Context = Depends(context)) -> Response:  # noqa: A002 (the form's field)
    lang = language(request)
    try:
        who, secret = auth.sign_in(ctx.db, name, password, request.client.host if request.client else "",
                                   "dashboard", via="dashboard")
    except auth.LockedOut as exc:
        locked = page(request, "login.html", None, exc.status, next=next, error=exc.say(lang), name=name)
        locked.headers.update(exc.headers)
        return locked
    if who is None:
        return page(request, "login.html", None, 401, next=next, error=translate(N_("Wrong name or password."), lang),
                    name=name)
    response = back(next)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(auth.SESSION_TTL.total_seconds()), httponly=True,
                        secure=ctx.secure_cookies, samesite="strict", path="/")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Context = Depends(context)) -> Response:
    secret = request.cookies.get(SESSION_COOKIE, "")
    if secret:
        with ctx.db.session(write=True) as session:
            token = session.scalar(select(Token).where(Token.hash == auth.digest(secret), Token.kind == "session"))
            if token is not None:
                auth.audit(session, token.operator.name, "logout", via="dashboard")
                session.delete(token)
    response = back("/login", "signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def choose_language(code: str, next: str = "/") -> Response:  # noqa: A002
    response = back(next)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.post("/alerts/{alert_id}/{action}")
def alert_action(request: Request, alert_id: int, action: str, note: str = Form("", max_length=NOTE_MAX),
                 next: str = Form("/alerts"), ctx: Context = Depends(context),  # noqa: A002
                 me: Operator = Depends(signed_in)) -> Response:
    if action not in ("ack", "resolve"):
        return page(request, "message.html", me, 404, title=N_("Not found"), message=action)
    if not may(me, "operator"):
        return page(request, "message.html", me, 403, title=N_("Not allowed"),
                    message=N_("Acknowledging and resolving alerts needs the operator role."))
    with ctx.db.session(write=True) as session:
        alert = session.get(Alert, alert_id, with_for_update=True)  # ingest may resolve it meanwhile
        if alert is None:
            return page(request, "message.html", me, 404, title=N_("Not found"), message=str(alert_id))
        try:
            (alert_rules.acknowledge if action == "ack" else alert_rules.resolve)(alert, me.name)
        except alert_rules.AlertStateError:
            return back(next, "already")
        auth.audit(session, me.name, f"alert.{action}", alert.device_id, alert=alert.id, rule=alert.rule,
                   part=alert.part, note=note.strip())
    return back(next, "acknowledged" if action == "ack" else "resolved")


@router.post("/jobs", response_class=HTMLResponse)
def issue_job(request: Request, op: str = Form(""), args: str = Form("{}", max_length=64 * 1024),
              device: str = Form("", max_length=64), group: str = Form("", max_length=64),
              expires_min: int = Form(60, ge=1, le=7 * 24 * 60), ctx: Context = Depends(context),
              s: Session = Depends(reader), me: Operator = Depends(signed_in)) -> Response:
    device, group = device.strip(), group.strip()

    def refused(status: int, reason: str) -> HTMLResponse:
        form = job_form(s, me, device, group, reason, {"op": op, "args": args, "expires_min": expires_min})
        listed = queries.jobs(s, device=device, group=group, limit=PAGE_SIZE)["jobs"]
        return page(request, "jobs.html", me, status, jobs=listed, form=form, refresh=None)

    if not may(me, "operator") or not auth.allowed(me.role, auth.role_for_op(op)):
        needed = auth.role_for_op(op) if may(me, "operator") else "operator"
        lang = language(request)
        return refused(403, translate(N_("Issuing this job needs the {role} role."), lang, role=say(needed, lang)))
    try:
        parsed = json.loads(args or "{}")
        job = ctx.jobs.issue(op, parsed, Target(device, group), me.name, timedelta(minutes=expires_min))
    except json.JSONDecodeError as exc:
        return refused(400, translate(N_("The arguments are not valid JSON: {error}"), language(request),
                                      error=str(exc)))
    except JobRequestError as exc:
        return refused(exc.status, exc.say(language(request)))
    return RedirectResponse("/jobs/" + quote(job.id), status_code=303)

