"""The read side, shared by the JSON API and the dashboard's pages: plain dicts, JSON-ready.

Times come out as RFC 3339 strings; day buckets and "today" are China Standard Time (UTC+8).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, selectinload

from fleet.models import (ALERT_RESOLVED, COUNTER_COLUMNS, TIER_CASES_PER_STAFF, Alert, AuditEntry, Device,
                          DeviceGroup, Event, HealthChange, ItemHour, Job, JobTarget, MetricHour, Station, Upload,
                          utcnow)
from fleet.protocol import EVALUATION_LEVELS, FINAL_STATUSES, format_ts

CST = timezone(timedelta(hours=8))
ACTIVE = "active"
SATISFIED = ("very_satisfied", "satisfied")
TROUBLE = frozenset({"hardware_error", "offline"})


def ts(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None


def _matching(query: Select, *filters: tuple[Any, str]) -> Select:
    """``query`` where each column equals its value; an empty value does not filter."""
    for column, value in filters:
        if value:
            query = query.where(column == value)
    return query


# How urgent an alert is, for "problems first" (0 most): silent, card reader broken, paper out, low, the rest.
ALERT_URGENCY = case((Alert.rule == "offline", 0), (Alert.rule == "card_reader", 2),
                     (and_(Alert.rule == "paper", Alert.severity == "critical"), 3), (Alert.rule == "paper", 4), else_=5)


def _active_alerts() -> Any:
    """Unresolved alert counts per device, and the urgency of its most urgent one, as a subquery."""
    return (select(Alert.device_id, func.count().label("n"), func.min(ALERT_URGENCY).label("urgency"))
            .where(Alert.state != ALERT_RESOLVED).group_by(Alert.device_id).subquery())


def _urgency(active: Any) -> Any:
    """A device's place in "problems first": offline, out of service, its most urgent alert,
    maintenance, unknown, then the healthy ones."""
    calm = case((Device.state == "maintenance", 6), (Device.state == "unknown", 7), else_=9)
    return case((Device.state == "offline", 0), (Device.state == "out_of_service", 1),
                else_=func.coalesce(active.c.urgency, calm))


# -- the fleet --------------------------------------------------------------------------------
def overview(session: Session) -> dict[str, Any]:
    by_state = dict(session.execute(select(Device.state, func.count()).group_by(Device.state)).all())
    alerts = dict(session.execute(select(Alert.state, func.count()).where(Alert.state != ALERT_RESOLVED)
                                  .group_by(Alert.state)).all())
    by_rule = dict(session.execute(select(Alert.rule, func.count()).where(Alert.state != ALERT_RESOLVED)
                                   .group_by(Alert.rule)).all())
    active = _active_alerts()
    township = func.coalesce(Station.township, literal_column("''"))  # no bound "": PostgreSQL must see one expression
    rows = session.execute(
        select(township, func.count(Device.id),
               func.sum(case((Device.state == "online", 1), else_=0)),
               func.sum(case((Device.state == "offline", 1), else_=0)),
               func.sum(case((active.c.n > 0, 1), else_=0)))
        .select_from(Device).outerjoin(Station, Device.station_id == Station.id)
        .outerjoin(active, active.c.device_id == Device.id).group_by(township)).all()
    townships = sorted(({"township": t, "devices": n, "online": int(on or 0), "offline": int(off or 0),
                         "problems": int(bad or 0)} for t, n, on, off, bad in rows),
                       key=lambda r: (-r["problems"], -r["offline"], r["township"]))
    return {"devices": sum(by_state.values()), "by_state": by_state,
            "alerts": {"open": alerts.get("open", 0), "acknowledged": alerts.get("acknowledged", 0)},
            "alerts_by_rule": by_rule, "townships": townships}


def _summary(device: Device, station: Station | None, alerts: int) -> dict[str, Any]:
    return {"id": device.id, "station": station.name if station else "", "station_id": station.id if station else None,
            "township": station.township if station else "", "tier": station.tier if station else "",
            "groups": sorted(g.group for g in device.groups), "version": device.version, "state": device.state,
            "state_since": ts(device.state_since), "last_seen": ts(device.last_seen), "alerts": alerts,
            "parts_in_trouble": sorted(p.name for p in device.parts if p.status in TROUBLE
                                       or p.detail.get("paper") in ("near_end", "out")),
            "disk_free_mb": device.disk_free_mb, "outbox_pending": device.outbox_pending}


def devices(session: Session, *, state: str = "", township: str = "", station: str = "", group: str = "",
            problems: bool = False, q: str = "", limit: int = 200, offset: int = 0) -> dict[str, Any]:
    """Devices with problems first (offline, out of service, card reader, paper out, paper low, other
    alerts, maintenance, unknown), then by township, station and id."""
    active = _active_alerts()
    n = func.coalesce(active.c.n, 0)
    query: Select = (select(Device, Station, n).options(selectinload(Device.groups))
                     .outerjoin(Station, Device.station_id == Station.id)
                     .outerjoin(active, active.c.device_id == Device.id))
    query = _matching(query, (Device.state, state), (Station.township, township), (Station.name, station))
    if group:
        query = query.where(Device.id.in_(select(DeviceGroup.device_id).where(DeviceGroup.group == group)))
    if problems:
        query = query.where(n > 0)
    if q:
        query = query.where(or_(Device.id.contains(q, autoescape=True), Station.name.contains(q, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(_urgency(active), Station.township, Station.name, Device.id)
                           .limit(limit).offset(offset)).all()
    return {"total": total, "devices": [_summary(d, s, a) for d, s, a in rows]}


def device(session: Session, device_id: str) -> dict[str, Any] | None:
    found = session.get(Device, device_id)
    if found is None:
        return None
    active = alerts(session, device=device_id, limit=100)["alerts"]
    shot = session.scalar(select(Upload).join(Job, Job.id == Upload.job_id)
                          .where(Upload.device_id == device_id, Job.op == "screenshot")
                          .order_by(Upload.created_at.desc()).limit(1))
    return {**_summary(found, found.station, len(active)), "boot_id": found.boot_id, "conn": found.conn,
            "system": {"cpu_pct": found.cpu_pct, "mem_used_mb": found.mem_used_mb, "disk_free_mb": found.disk_free_mb,
                       "temp_c": found.temp_c, "uptime_s": found.uptime_s, "net": found.net,
                       "ts": ts(found.health_ts)},
            "parts": [{"name": p.name, "kind": p.kind, "status": p.status, "detail": p.detail, "since": ts(p.since)}
                      for p in sorted(found.parts, key=lambda p: p.name)],
            "sequence": {"max": found.seq_max, "received": found.seq_received, "missing": found.missing,
                         "duplicates": found.duplicates},
            "alerts": active, "events": events(session, device_id, 50), "health": health(session, device_id, 50),
            "jobs": jobs(session, device=device_id, limit=20)["jobs"],
            "last_screenshot": _upload(shot) if shot else None}


def events(session: Session, device_id: str, limit: int = 100, before: datetime | None = None) -> list[dict[str, Any]]:
    query = select(Event).where(Event.device_id == device_id)
    if before is not None:
        query = query.where(Event.ts < (before if before.tzinfo else before.replace(tzinfo=timezone.utc)))
    return [{"ts": ts(e.ts), "type": e.type, "severity": e.severity, "part": e.part, "message": e.message}
            for e in session.scalars(query.order_by(Event.ts.desc(), Event.id.desc()).limit(limit))]


def health(session: Session, device_id: str, limit: int = 100) -> list[dict[str, Any]]:
    query = (select(HealthChange).where(HealthChange.device_id == device_id)
             .order_by(HealthChange.ts.desc(), HealthChange.id.desc()).limit(limit))
    return [{"ts": ts(h.ts), "part": h.part, "status": h.status, "detail": h.detail} for h in session.scalars(query)]


def _upload(u: Upload) -> dict[str, Any]:
    return {"id": u.id, "job": u.job_id, "device": u.device_id, "content_type": u.content_type, "size": u.size,
            "created_at": ts(u.created_at), "url": f"/api/v1/uploads/{u.id}"}


def uploads(session: Session, device_id: str, limit: int = 50) -> list[dict[str, Any]]:
    query = select(Upload).where(Upload.device_id == device_id).order_by(Upload.created_at.desc()).limit(limit)
    return [_upload(u) for u in session.scalars(query)]


# -- alerts ------------------------------------------------------------------------------------
def alert_dict(a: Alert, station: Station | None) -> dict[str, Any]:
    return {"id": a.id, "rule": a.rule, "device": a.device_id, "station": station.name if station else "",
            "township": station.township if station else "", "part": a.part, "severity": a.severity,
            "state": a.state, "detail": a.detail, "opened_at": ts(a.opened_at), "acknowledged_at": ts(a.acknowledged_at),
            "acknowledged_by": a.acknowledged_by, "resolved_at": ts(a.resolved_at), "resolved_by": a.resolved_by}


def alerts(session: Session, *, state: str = ACTIVE, device: str = "", rule: str = "", township: str = "",
           limit: int = 200, offset: int = 0) -> dict[str, Any]:
    query: Select = (select(Alert, Station).join(Device, Device.id == Alert.device_id)
                     .outerjoin(Station, Device.station_id == Station.id))
    query = query.where(Alert.state != ALERT_RESOLVED) if state == ACTIVE else query.where(Alert.state == state)
    query = _matching(query, (Alert.device_id, device), (Alert.rule, rule), (Station.township, township))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit).offset(offset))
    return {"total": total, "alerts": [alert_dict(a, s) for a, s in rows]}


# -- stations ----------------------------------------------------------------------------------
def _sums(session: Session, since: datetime, *where: Any, by: Any) -> dict[Any, dict[str, float]]:
    columns = [func.coalesce(func.sum(getattr(MetricHour, c)), 0).label(c) for c in COUNTER_COLUMNS]
    query = (select(by, *columns).select_from(MetricHour).join(Device, Device.id == MetricHour.device_id)
             .where(MetricHour.hour >= since, *where).group_by(by))
    return {row[0]: dict(zip(COUNTER_COLUMNS, row[1:])) for row in session.execute(query)}


def _figures(sums: dict[str, float] | None) -> dict[str, Any]:
    sums = sums or dict.fromkeys(COUNTER_COLUMNS, 0)
    evaluations = {level: int(sums[f"eval_{level}"]) for level in EVALUATION_LEVELS}
    rated = sum(evaluations.values())
    return {"sessions": int(sums["sessions"]), "cases": int(sums["cases_submitted"]), "prints": int(sums["prints"]),
            "scans": int(sums["scans"]), "queue_issued": int(sums["queue_issued"]),
            "avg_wait_s": round(sums["wait_s_total"] / sums["queue_called"], 1) if sums["queue_called"] else None,
            "satisfaction": round(sum(evaluations[k] for k in SATISFIED) / rated, 4) if rated else None,
            "evaluations": evaluations}


def stations(session: Session, days: int = 30, township: str = "", now: datetime | None = None) -> dict[str, Any]:
    since = (now or utcnow()) - timedelta(days=days)
    sums = _sums(session, since, by=Device.station_id)
    counts = {sid: (n, int(on or 0)) for sid, n, on in session.execute(
        select(Device.station_id, func.count(), func.sum(case((Device.state == "online", 1), else_=0)))
        .group_by(Device.station_id))}
    query = select(Station).order_by(Station.township, Station.name)
    if township:
        query = query.where(Station.township == township)
    result = []
    for s in session.scalars(query):
        figures = _figures(sums.get(s.id))
        per_staff = round(figures["cases"] / s.staff / days, 3) if s.staff else None
        threshold = TIER_CASES_PER_STAFF.get(s.tier)
        n, online = counts.get(s.id, (0, 0))
        result.append({"id": s.id, "name": s.name, "township": s.township, "tier": s.tier, "residents": s.residents,
                       "staff": s.staff, "devices": n, "online": online, **figures, "cases_per_staff_day": per_staff,
                       "tier_threshold": threshold,
                       "meets_tier": None if per_staff is None or threshold is None else per_staff >= threshold})
    return {"days": days, "stations": result}


def station_series(session: Session, station_id: int, days: int = 30, bucket: str = "day",
                   now: datetime | None = None) -> dict[str, Any] | None:
    station = session.get(Station, station_id)
    if station is None:
        return None
    since = (now or utcnow()) - timedelta(days=days)
    hourly = _sums(session, since, Device.station_id == station_id, by=MetricHour.hour)
    buckets: dict[datetime, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTER_COLUMNS, 0))
    for hour, sums in hourly.items():
        key = hour if bucket == "hour" else hour.astimezone(CST).replace(hour=0)
        for column, value in sums.items():
            buckets[key][column] += value
    items = session.execute(select(ItemHour.item, func.sum(ItemHour.cases)).join(Device, Device.id == ItemHour.device_id)
                            .where(Device.station_id == station_id, ItemHour.hour >= since).group_by(ItemHour.item)
                            .order_by(func.sum(ItemHour.cases).desc()))
    return {"station": {"id": station.id, "name": station.name, "township": station.township, "tier": station.tier},
            "bucket": bucket, "points": [{"t": t.isoformat(), **_figures(buckets[t])} for t in sorted(buckets)],
            "cases_by_item": {item: int(n) for item, n in items}}


def device_series(session: Session, device_id: str, hours: int = 24, now: datetime | None = None) -> list[dict[str, Any]]:
    since = (now or utcnow()) - timedelta(hours=hours)
    rows = _sums(session, since, MetricHour.device_id == device_id, by=MetricHour.hour)
    return [{"t": ts(hour), **_figures(rows[hour])} for hour in sorted(rows)]


# -- jobs, audit ---------------------------------------------------------------------------------
def job_dict(job: Job, device: str = "") -> dict[str, Any]:
    targets = [t for t in job.targets if not device or t.device_id == device]
    counts: dict[str, int] = defaultdict(int)
    for t in targets:
        counts[t.status] += 1
    return {"id": job.id, "op": job.op, "args": job.args, "target_kind": job.target_kind, "target": job.target,
            "issuer": job.issuer, "issued_at": ts(job.issued_at), "expires_at": ts(job.expires_at),
            "counts": dict(counts), "progress": round(sum(t.progress for t in targets) / len(targets)) if targets else 0,
            "done": all(t.status in FINAL_STATUSES for t in targets),
            "targets": [{"device": t.device_id, "status": t.status, "progress": t.progress, "detail": t.detail,
                         "updated_at": ts(t.updated_at)} for t in targets]}


def jobs(session: Session, *, device: str = "", group: str = "", limit: int = 50) -> dict[str, Any]:
    query = select(Job)
    if device:
        query = query.where(Job.id.in_(select(JobTarget.job_id).where(JobTarget.device_id == device)))
    if group:
        query = query.where(and_(Job.target_kind == "group", Job.target == group))
    found = session.scalars(query.order_by(Job.issued_at.desc()).limit(limit))
    return {"jobs": [job_dict(j, device) for j in found]}


def job(session: Session, job_id: str) -> dict[str, Any] | None:
    found = session.get(Job, job_id)
    return job_dict(found) if found else None


def audit_log(session: Session, operator: str = "", limit: int = 200) -> dict[str, Any]:
    query = select(AuditEntry)
    if operator:
        query = query.where(AuditEntry.operator == operator)
    entries = session.scalars(query.order_by(AuditEntry.ts.desc(), AuditEntry.id.desc()).limit(limit))
    return {"entries": [{"ts": ts(e.ts), "operator": e.operator, "action": e.action, "target": e.target,
                         "detail": e.detail} for e in entries]}
