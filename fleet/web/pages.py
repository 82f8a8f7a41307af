"""The dashboard's pages (GET): fleet overview, a device, alerts, stations and their charts, jobs.

Every page needs a signed-in operator (``signed_in`` sends the browser to the sign-in page)
and reads through ``fleet.queries``, the same read side as the JSON API.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet import auth, export, queries
from fleet.alerts import RULES
from fleet.deps import reader
from fleet.models import ALERT_STATES, AuditEntry, DeviceGroup, Operator, utcnow
from fleet.protocol import OPS
from fleet.web import charts, figures
from fleet.web.labels import OP_ARGS
from fleet.web.render import HERE, language, page, signed_in
from l10n import N_, translate

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATES = ("online", "maintenance", "out_of_service", "offline", "unknown")
PERIODS = (1, 7, 30, 90)  # days a chart or figure covers
STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}


@dataclass(frozen=True)
class Paging:
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def shown(self) -> tuple[int, int]:
        return (min(self.total, self.offset + 1), min(self.total, self.offset + self.size))


def not_found(request: Request, me: Operator, what: str) -> HTMLResponse:
    return page(request, "message.html", me, 404, title=N_("Not found"), message=what)


def job_form(s: Session, me: Operator, device: str = "", group: str = "", error: str = "",
             typed: dict | None = None) -> dict:
    """What the job form needs: the ops this operator may issue (none for a viewer), the groups
    there are, and what was typed."""
    ops = [o for o in OPS if auth.allowed(me.role, auth.role_for_op(o))] if auth.allowed(me.role, "operator") else []
    groups = list(s.scalars(select(DeviceGroup.group).distinct().order_by(DeviceGroup.group))) if ops else []
    return {"ops": ops, "op_args": OP_ARGS, "groups": groups, "device": device, "group": group, "error": error,
            "typed": typed or {}}


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 (the form's field)
    return page(request, "login.html", None, next=next, error="")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, state: str = "", township: str = "", problems: bool = False,
             q: str = Query("", max_length=100), number: int = Query(1, alias="page", ge=1),
             s: Session = Depends(reader), me: Operator = Depends(signed_in)) -> HTMLResponse:
    counts = queries.overview(s)
    paging = Paging(number, 0)
    listed = queries.devices(s, state=state, township=township, problems=problems, q=q, limit=PAGE_SIZE,
                             offset=paging.offset)
    return page(request, "overview.html", me, counts=counts, devices=listed["devices"],
                paging=Paging(number, listed["total"]), states=STATES, rules=RULES,
                filters={"state": state, "township": township, "problems": problems, "q": q}, refresh=60)


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device(request: Request, device_id: str, s: Session = Depends(reader),
           me: Operator = Depends(signed_in)) -> HTMLResponse:
    found = queries.device(s, device_id)
    if found is None:
        return not_found(request, me, device_id)
    now = utcnow()
    hourly = queries.device_series(s, device_id, 24, now)
    return page(request, "device.html", me, d=found, strips=_strips(found, now - timedelta(hours=24), now),
                sessions=charts.sparkline([p["sessions"] for p in hourly], translate(N_("Sessions"), language(request))),
                cases_today=sum(p["cases"] for p in hourly), sessions_today=sum(p["sessions"] for p in hourly),
                form=job_form(s, me, device=device_id), refresh=60)


def _strips(found: dict[str, Any], start: datetime, end: datetime) -> list[tuple[dict[str, Any], Any]]:
    """Each part with its status over the last day, drawn from the recorded changes."""
    changes: dict[str, list[tuple[datetime, str]]] = {}
    for h in reversed(found["health"]):  # oldest first
        media = h["detail"].get("paper") if isinstance(h["detail"], dict) else None
        status = media if media in ("near_end", "out") else h["status"]
        changes.setdefault(h["part"], []).append((datetime.fromisoformat(h["ts"].replace("Z", "+00:00")), status))
    return [(part, charts.status_strip(changes.get(part["name"], []), start, end, part["name"]))
            for part in found["parts"]]


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, state: str = Query(queries.ACTIVE, pattern="|".join((*ALERT_STATES, queries.ACTIVE))),
           rule: str = "", township: str = "", number: int = Query(1, alias="page", ge=1),
           s: Session = Depends(reader), me: Operator = Depends(signed_in)) -> HTMLResponse:
    offset = Paging(number, 0).offset
    listed = queries.alerts(s, state=state, rule=rule, township=township, limit=PAGE_SIZE, offset=offset)
    return page(request, "alerts.html", me, alerts=listed["alerts"], notes=_notes(s, listed["alerts"]),
                paging=Paging(number, listed["total"]), rules=RULES, tabs=(queries.ACTIVE, *ALERT_STATES),
                filters={"state": state, "rule": rule, "township": township}, refresh=60)


def _notes(s: Session, alerts: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """The notes operators left when they acknowledged or resolved these alerts (from the audit log)."""
    ids = {a["id"] for a in alerts}
    notes: dict[int, list[dict[str, Any]]] = {}
    entries = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(("alert.ack", "alert.resolve")),
                                                 AuditEntry.target.in_({a["device"] for a in alerts}))
                        .order_by(AuditEntry.ts))
    for e in entries:
        if e.detail.get("alert") in ids and e.detail.get("note"):
            notes.setdefault(e.detail["alert"], []).append({"by": e.operator, "ts": queries.ts(e.ts),
                                                            "note": e.detail["note"]})
    return notes


def _stations(s: Session, days: int, township: str) -> list[dict[str, Any]]:
    return figures.station_rows(queries.stations(s, days, township)["stations"], figures.one_stop(s, days))


@router.get("/stations", response_class=HTMLResponse)
def stations(request: Request, days: int = Query(30, ge=1, le=400), township: str = "",
             number: int = Query(1, alias="page", ge=1), s: Session = Depends(reader),
             me: Operator = Depends(signed_in)) -> HTMLResponse:
    rows = _stations(s, days, township)
    paging = Paging(number, len(rows))
    return page(request, "stations.html", me, stations=rows[paging.offset:paging.offset + PAGE_SIZE], paging=paging,
                days=days, periods=PERIODS, township=township, one_stop_target=figures.ONE_STOP_TARGET,
                satisfaction_target=figures.SATISFACTION_TARGET)


@router.get("/stations.csv")
def stations_csv(days: int = Query(30, ge=1, le=400), township: str = "", s: Session = Depends(reader),
                 _: Operator = Depends(signed_in)) -> Response:
    return export.csv_response("station-figures.csv", (
        "name", "township", "tier", "residents", "staff", "devices", "online", "sessions", "cases",
        "cases_per_staff_day", "tier_threshold", "meets_tier", "one_stop", "meets_one_stop", "avg_wait_s",
        "satisfaction", "meets_satisfaction"), _stations(s, days, township))


@router.get("/stations/{station_id}", response_class=HTMLResponse)
def station(request: Request, station_id: int, days: int = Query(30, ge=1, le=400), s: Session = Depends(reader),
            me: Operator = Depends(signed_in)) -> HTMLResponse:
    data = queries.station_series(s, station_id, days, "hour" if days <= 2 else "day")
    if data is None:
        return not_found(request, me, str(station_id))
    row = next(r for r in _stations(s, days, data["station"]["township"]) if r["id"] == station_id)
    points = data["points"]
    labels = [p["t"][11:13] + ":00" if days <= 2 else p["t"][5:10] for p in points]
    percent = lambda v: f"{v * 100:.0f}%"  # noqa: E731
    title = functools.partial(translate, language=language(request))
    chart = {
        "sessions": charts.series(labels, [p["sessions"] for p in points], title(N_("Sessions"))),
        "cases": charts.series(labels, [p["cases"] for p in points], title(N_("Cases submitted"))),
        "wait": charts.series(labels, [p["avg_wait_s"] and p["avg_wait_s"] / 60 for p in points],
                              title(N_("Average queue wait (minutes)")), kind="line"),
        "satisfaction": charts.series(labels, [p["satisfaction"] for p in points], title(N_("Satisfaction")),
                                      kind="line", target=figures.SATISFACTION_TARGET,
                                      target_label=percent(figures.SATISFACTION_TARGET), fmt=percent),
        "items": charts.ranking([(figures.item_name(code), n) for code, n in list(data["cases_by_item"].items())[:12]],
                                title(N_("Cases by service item"))),
    }
    return page(request, "station.html", me, station=row, chart=chart, days=days, periods=PERIODS,
                one_stop_target=figures.ONE_STOP_TARGET, satisfaction_target=figures.SATISFACTION_TARGET)


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request, device: str = "", group: str = "", s: Session = Depends(reader),
         me: Operator = Depends(signed_in)) -> HTMLResponse:
    listed = queries.jobs(s, device=device, group=group, limit=PAGE_SIZE)["jobs"]
    return page(request, "jobs.html", me, jobs=listed, form=job_form(s, me, device, group),
                refresh=5 if any(not j["done"] for j in listed) else 60)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job(request: Request, job_id: str, s: Session = Depends(reader), me: Operator = Depends(signed_in)) -> HTMLResponse:
    found = queries.job(s, job_id)
    if found is None:
        return not_found(request, me, job_id)
    return page(request, "job.html", me, job=found, refresh=None if found["done"] else 2)
