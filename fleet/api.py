"""The manager's JSON API under ``/api/v1`` (docs/fleet-manager-api.md), on FastAPI.

``create_app(ctx)`` builds the application: this router, the CSV exports
(``fleet.export``) and, beside them, the dashboard's pages as another router using the
same dependencies (``fleet.deps``) and read queries (``fleet.queries``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet import alerts as alert_rules
from fleet import auth, export, queries, registry, web
from fleet.deps import SESSION_COOKIE, Context, context, found, reader, require
from fleet.jobs import MAX_UPLOAD, JobRequestError, Target
from fleet.models import Alert, Device, Operator, Token, Upload
from fleet.refusal import Refused, answer
from l10n import N_, Msg

router = APIRouter(prefix="/api/v1")
viewer, operator, technician = require("viewer"), require("operator"), require("technician")
STATES = ("open", "acknowledged", "resolved", queries.ACTIVE)


class Login(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class NewOperator(BaseModel):
    name: str = Field(max_length=64)
    role: str
    password: str = Field("", max_length=1024)


class NewToken(BaseModel):
    label: str = Field("", max_length=100)
    days: int | None = Field(None, ge=1, le=3650)


class NewJob(BaseModel):
    op: str = Field(max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    device: str = Field("", max_length=64)
    group: str = Field("", max_length=64)
    expires_in_s: int = Field(3600, ge=60, le=7 * 86400)


# -- signing in -----------------------------------------------------------------------------
@router.post("/login")
def login(body: Login, request: Request, response: Response, ctx: Context = Depends(context)) -> dict[str, str]:
    who, secret = auth.sign_in(ctx.db, body.name, body.password, request.client.host if request.client else "",
                               "login")
    if who is None:
        raise Refused(N_("Wrong name or password."), 401)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(auth.SESSION_TTL.total_seconds()), httponly=True,
                        secure=ctx.secure_cookies, samesite="strict", path="/")
    return {"name": who.name, "role": who.role}


@router.post("/logout")
def logout(request: Request, response: Response, ctx: Context = Depends(context)) -> dict[str, bool]:
    secret = request.cookies.get(SESSION_COOKIE, "")
    if secret:
        with ctx.db.session(write=True) as session:
            token = session.scalar(select(Token).where(Token.hash == auth.digest(secret), Token.kind == "session"))
            if token is not None:
                session.delete(token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
def me(who: Operator = Depends(viewer)) -> dict[str, str]:
    return {"name": who.name, "role": who.role}


# -- the fleet ----------------------------------------------------------------------------------
@router.get("/overview")
def overview(s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return queries.overview(s)


@router.get("/devices")
def devices(state: str = "", township: str = "", station: str = "", group: str = "", problems: bool = False,
            q: str = Query("", max_length=100), limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
            s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return queries.devices(s, state=state, township=township, station=station, group=group, problems=problems,
                           q=q, limit=limit, offset=offset)


@router.get("/devices/{device_id}")
def device(device_id: str, s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return found(queries.device(s, device_id), f"device {device_id}")


@router.get("/devices/{device_id}/events")
def device_events(device_id: str, limit: int = Query(100, ge=1, le=1000), before: datetime | None = None,
                  s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return {"events": queries.events(s, device_id, limit, before)}


@router.get("/devices/{device_id}/health")
def device_health(device_id: str, limit: int = Query(100, ge=1, le=1000), s: Session = Depends(reader),
                  _: Operator = Depends(viewer)) -> dict[str, Any]:
    return {"health": queries.health(s, device_id, limit)}


@router.get("/devices/{device_id}/metrics")
def device_metrics(device_id: str, hours: int = Query(24, ge=1, le=24 * 400), s: Session = Depends(reader),
                   _: Operator = Depends(viewer)) -> dict[str, Any]:
    return {"points": queries.device_series(s, device_id, hours)}


@router.get("/devices/{device_id}/uploads")
def device_uploads(device_id: str, s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return {"uploads": queries.uploads(s, device_id)}


@router.post("/registry")
async def registry_import(request: Request, ctx: Context = Depends(context),
                          who: Operator = Depends(technician)) -> dict[str, int]:
    text = (await request.body()).decode("utf-8", errors="replace")

    def load() -> dict[str, int]:
        try:
            rows = registry.parse(text)
        except registry.RegistryError as exc:
            raise Refused(N_("The registry is not valid: {error}"), error=str(exc)) from None
        with ctx.db.session(write=True) as session:
            counts = registry.load(session, rows)
            auth.audit(session, who.name, "registry.import", "", **counts)
        return counts
    return await run_in_threadpool(load)


# -- alerts -----------------------------------------------------------------------------------
@router.get("/alerts")
def alert_list(state: str = Query(queries.ACTIVE, pattern="|".join(STATES)), device: str = "", rule: str = "",
               township: str = "", limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
               s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return queries.alerts(s, state=state, device=device, rule=rule, township=township, limit=limit, offset=offset)


def _alert_action(ctx: Context, alert_id: int, who: Operator, action: str) -> dict[str, Any]:
    with ctx.db.session(write=True) as session:
        alert = found(session.get(Alert, alert_id, with_for_update=True), f"alert {alert_id}")  # ingest may resolve it
        try:
            (alert_rules.acknowledge if action == "ack" else alert_rules.resolve)(alert, who.name)
        except alert_rules.AlertStateError:
            raise Refused(N_("This alert is {state} already."), 409, state=Msg(alert.state)) from None
        auth.audit(session, who.name, f"alert.{action}", alert.device_id, alert=alert.id, rule=alert.rule,
                   part=alert.part)
        return queries.alert_dict(alert, session.get(Device, alert.device_id).station)


@router.post("/alerts/{alert_id}/ack")
def alert_ack(alert_id: int, ctx: Context = Depends(context), who: Operator = Depends(operator)) -> dict[str, Any]:
    return _alert_action(ctx, alert_id, who, "ack")


@router.post("/alerts/{alert_id}/resolve")
def alert_resolve(alert_id: int, ctx: Context = Depends(context), who: Operator = Depends(operator)) -> dict[str, Any]:
    return _alert_action(ctx, alert_id, who, "resolve")


# -- stations -----------------------------------------------------------------------------------
@router.get("/stations")
def station_list(days: int = Query(30, ge=1, le=400), township: str = "", s: Session = Depends(reader),
                 _: Operator = Depends(viewer)) -> dict[str, Any]:
    return queries.stations(s, days, township)


@router.get("/stations/{station_id}/series")
def station_series(station_id: int, days: int = Query(30, ge=1, le=400), bucket: str = Query("day", pattern="hour|day"),
                   s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return found(queries.station_series(s, station_id, days, bucket), f"station {station_id}")


# -- jobs and uploads ---------------------------------------------------------------------------
@router.post("/jobs", status_code=201)
def job_issue(body: NewJob, ctx: Context = Depends(context), who: Operator = Depends(operator)) -> dict[str, Any]:
    needed = auth.role_for_op(body.op)
    if not auth.allowed(who.role, needed):
        raise Refused(N_("This job needs the {role} role; {name} is {held}."), 403, role=Msg(needed), name=who.name,
                      held=Msg(who.role))
    job = ctx.jobs.issue(body.op, body.args, Target(body.device, body.group), who.name,
                         timedelta(seconds=body.expires_in_s))
    with ctx.db.session() as session:
        return queries.job(session, job.id)


@router.get("/jobs")
def job_list(device: str = "", group: str = "", limit: int = Query(50, ge=1, le=500), s: Session = Depends(reader),
             _: Operator = Depends(viewer)) -> dict[str, Any]:
    return queries.jobs(s, device=device, group=group, limit=limit)


@router.get("/jobs/{job_id}")
def job_detail(job_id: str, s: Session = Depends(reader), _: Operator = Depends(viewer)) -> dict[str, Any]:
    return found(queries.job(s, job_id), f"job {job_id}")


@router.post("/uploads/{job_id}/{device_id}", status_code=201)
async def upload(job_id: str, device_id: str, request: Request, response: Response, token: str = Query(max_length=100),
                 ctx: Context = Depends(context)) -> dict[str, Any]:
    too_big = JobRequestError(N_("An upload may be at most {size} bytes."), 413, size=MAX_UPLOAD)
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD:
            raise too_big
    kept = await run_in_threadpool(ctx.jobs.accept_upload, job_id, device_id, token, bytes(body),
                                   request.headers.get("content-type", ""))
    response.headers["Location"] = f"/api/v1/uploads/{kept.id}"
    return {"id": kept.id, "size": kept.size}


@router.get("/uploads/{upload_id}")
def upload_file(upload_id: int, s: Session = Depends(reader), _: Operator = Depends(viewer)) -> Response:
    kept = found(s.get(Upload, upload_id), f"upload {upload_id}")
    return Response(kept.data, media_type=kept.content_type, headers={"X-Content-Type-Options": "nosniff"})


# -- operators, tokens, audit --------------------------------------------------------------------
@router.get("/operators")
def operator_list(s: Session = Depends(reader), _: Operator = Depends(technician)) -> dict[str, Any]:
    return {"operators": [{"name": o.name, "role": o.role, "disabled": o.disabled, "created_at": queries.ts(o.created_at)}
                          for o in s.scalars(select(Operator).order_by(Operator.name))]}


@router.post("/operators", status_code=201)
def operator_add(body: NewOperator, ctx: Context = Depends(context), who: Operator = Depends(technician)) -> dict[str, str]:
    with ctx.db.session(write=True) as session:
        added = auth.add_operator(session, body.name, body.role, body.password)
        auth.audit(session, who.name, "operator.add", added.name, role=added.role)
        return {"name": added.name, "role": added.role}


@router.get("/tokens")
def token_list(s: Session = Depends(reader), who: Operator = Depends(viewer)) -> dict[str, Any]:
    mine = s.scalars(select(Token).where(Token.operator_id == who.id, Token.kind == "api").order_by(Token.id))
    return {"tokens": [{"id": t.id, "label": t.label, "created_at": queries.ts(t.created_at),
                        "expires_at": queries.ts(t.expires_at)} for t in mine]}


@router.post("/tokens", status_code=201)
def token_add(body: NewToken, ctx: Context = Depends(context), who: Operator = Depends(viewer)) -> dict[str, Any]:
    with ctx.db.session(write=True) as session:
        token, secret = auth.issue_token(session, session.get(Operator, who.id), "api", body.label,
                                         timedelta(days=body.days) if body.days else None)
        auth.audit(session, who.name, "token.add", who.name, token=token.id, label=body.label)
        return {"id": token.id, "token": secret, "expires_at": queries.ts(token.expires_at)}


@router.delete("/tokens/{token_id}")
def token_delete(token_id: int, ctx: Context = Depends(context), who: Operator = Depends(viewer)) -> dict[str, bool]:
    with ctx.db.session(write=True) as session:
        token = found(session.get(Token, token_id), f"token {token_id}")
        if token.operator_id != who.id and not auth.allowed(who.role, "technician"):
            raise Refused(N_("Only a technician may revoke another operator's token."), 403)
        auth.audit(session, who.name, "token.revoke", token.operator.name, token=token.id)
        session.delete(token)
    return {"ok": True}


@router.get("/audit")
def audit_log(operator_name: str = Query("", alias="operator"), limit: int = Query(200, ge=1, le=2000),
              s: Session = Depends(reader), _: Operator = Depends(technician)) -> dict[str, Any]:
    return queries.audit_log(s, operator_name, limit)


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="Village kiosk fleet manager", version="1", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.ctx = ctx
    app.add_exception_handler(Refused, answer)  # a reason people read, in the language they asked for
    app.include_router(router)
    app.include_router(export.router)
    app.include_router(web.router)
    return app
