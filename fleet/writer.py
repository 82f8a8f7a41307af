"""Writing a batch of validated kiosk messages to the database in one transaction.

Per device: states in order, each applied only if newer than the stored one (a will of an
older connection or boot that lands after a newer birth is ignored); health updates the
system figures and each part, logging what changed; metrics and events are appended
(a message seen before, by its ``(boot_id, seq)``, is skipped), metrics also summed per
hour; job statuses update the device's row of the job, never turning a final status back.
Then the alert rules are evaluated for the devices touched.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet import alerts
from fleet import protocol as p
from fleet.db import Database, among
from fleet.models import (COUNTER_COLUMNS, Device, Event, HealthChange, ItemHour, Job, JobTarget, Metric, MetricHour,
                          Station)
from fleet.rows import DeviceRow, PartRow, load_devices, save_devices

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """A validated message and when it arrived."""

    topic: p.Topic
    payload: p.Payload
    received: datetime

    @property
    def stamp(self) -> p.Stamp:
        return self.payload.stamp  # type: ignore[attr-defined]  # every kiosk message has one


@dataclass
class Written:
    messages: int = 0
    stale: int = 0  # states or health older than what is stored
    duplicates: int = 0  # metrics and events stored before
    unknown_jobs: int = 0


def _newer(stamp: p.Stamp, boot_id: str, seq: int, ts: datetime | None) -> bool:
    """Same boot: a higher seq; another boot: a later (or equal) time."""
    if ts is None:
        return True
    return stamp.seq > seq if stamp.boot_id == boot_id else stamp.ts >= ts


def state_accepted(device: DeviceRow | Device, state: p.State) -> bool:
    """Whether ``state`` supersedes the stored one (``conn`` orders connections within a boot)."""
    if device.state_ts is None or state.stamp.boot_id != device.boot_id:
        return _newer(state.stamp, device.boot_id, device.state_seq, device.state_ts)
    if state.conn != device.conn:
        return state.conn > device.conn
    if device.state == "offline":  # this connection's last word came already
        return False
    return state.state == "offline" or state.stamp.seq > device.state_seq  # a will's seq is its birth's less one


class Writer:
    def __init__(self, db: Database, limits: alerts.Thresholds = alerts.Thresholds()):
        self.db = db
        self.limits = limits
        self._stations: dict[str, int] = {}  # name -> id, of stations committed

    def write(self, batch: Iterable[Incoming]) -> Written:
        """Write ``batch``; returns when all of it is committed.

        The devices and stations it names are registered first, in a short transaction of their own.
        Then each device's messages are written with its row locked: on PostgreSQL, where several
        ingest processes write at once, a first transaction takes the devices no other one holds
        (``SKIP LOCKED``) and a second waits for the rest, so processes do not queue up behind
        each other's whole batch. (SQLite has one writer at a time anyway.)"""
        batch = list(batch)
        done = Written(messages=len(batch))
        if batch:
            self._register(batch)
            waiting = self._write(batch, done, skip_locked=self.db.dialect != "sqlite")
            if waiting:
                self._write(waiting, done, skip_locked=False)
        return done

    # -- devices --------------------------------------------------------------------------
    def _register(self, batch: list[Incoming]) -> None:
        """Make the rows of the devices and stations that are new (committed before any is locked)."""
        ids = sorted({m.topic.kiosk for m in batch})  # type: ignore[type-var]
        names = sorted({m.payload.station for m in batch if m.topic.kind == "state"} - self._stations.keys() - {""})
        stations: dict[str, int] = {}
        with self.db.session(write=True) as session:
            known = set(session.scalars(select(Device.id).where(among(session, Device.id, ids))))
            if len(known) < len(ids):
                session.execute(self.db.insert(Device).on_conflict_do_nothing(),
                                [{"id": i} for i in ids if i not in known])
            if names:
                session.execute(self.db.insert(Station).on_conflict_do_nothing(), [{"name": n} for n in names])
                stations.update(session.execute(select(Station.name, Station.id)
                                                .where(among(session, Station.name, names))).all())
        self._stations.update(stations)  # known once committed

    def _write(self, batch: list[Incoming], done: Written, skip_locked: bool) -> list[Incoming]:
        """Write the messages of the devices this transaction locks; those of the others are returned."""
        ids = sorted({m.topic.kiosk for m in batch})  # type: ignore[type-var]
        with self.db.session(write=True) as session, session.no_autoflush:  # one flush, at the commit
            devices = load_devices(session, ids, lock=self.db.dialect != "sqlite", skip_locked=skip_locked,
                                   groups_of={m.topic.kiosk for m in batch if m.topic.kind == "state"})
            if not skip_locked and len(devices) < len(ids):  # only a device deleted meanwhile is not found
                log.warning("ingest: messages of %d devices removed meanwhile dropped", len(ids) - len(devices))
            by_kind: dict[str, list[Incoming]] = defaultdict(list)
            waiting = []
            for message in batch:  # in the order they came: a will follows the birth it ends
                if message.topic.kiosk in devices:
                    by_kind[message.topic.kind].append(message)
                elif skip_locked:
                    waiting.append(message)
            if not by_kind:
                return waiting
            changes: list[dict] = []
            for m in by_kind["state"]:
                self._state(devices[m.topic.kiosk], m, done)
            for m in (m for messages in by_kind.values() for m in messages):
                self._count(devices[m.topic.kiosk], m)
            for m in by_kind["health"]:
                self._health(devices[m.topic.kiosk], m, changes, done)
            if changes:
                session.execute(*self.db.insert_rows(HealthChange, changes))
            self._metrics(session, devices, by_kind["metrics"], done)
            self._events(session, devices, by_kind["events"], done)
            self._job_statuses(session, by_kind["job_status"], done)
            alerts.evaluate(session, devices.values(), max(m.received for ms in by_kind.values() for m in ms),
                            self.limits)
            save_devices(session, devices.values(), self.db)
        return waiting

    def _state(self, device: DeviceRow, m: Incoming, done: Written) -> None:
        state: p.State = m.payload  # type: ignore[assignment]
        if not state_accepted(device, state):
            done.stale += 1
            return
        if state.stamp.boot_id != device.boot_id:  # a new boot: its own seq count
            device.seq_max, device.seq_received, device.duplicates = -1, 0, 0
        elif state.state == "offline" and state.conn == device.conn and state.stamp.seq > device.state_seq:
            device.seq_received += 1  # a clean end, said after the birth: its will (seq before the birth) never comes
        if state.state != device.state:
            device.state_since = m.received
        device.state, device.state_ts, device.state_seq = state.state, state.stamp.ts, state.stamp.seq
        device.boot_id, device.conn = state.stamp.boot_id, state.conn
        device.version = state.version
        device.station_id = self._stations.get(state.station) or device.station_id
        groups = tuple(sorted(set(state.groups)))
        if groups != device.stored_groups:
            device.groups = device.stored_groups = groups

    @staticmethod
    def _count(device: DeviceRow, m: Incoming) -> None:
        """Sequence accounting for the current boot, and when the device was last heard."""
        if device.last_seen is None or m.received > device.last_seen:
            device.last_seen = m.received
        if m.stamp.boot_id == device.boot_id:
            device.seq_received += 1
            device.seq_max = max(device.seq_max, m.stamp.seq)

    def _health(self, device: DeviceRow, m: Incoming, changes: list[dict], done: Written) -> None:
        health: p.Health = m.payload  # type: ignore[assignment]
        if not _newer(health.stamp, device.health_boot_id, device.health_seq, device.health_ts):
            done.stale += 1
            return
        device.health_ts, device.health_boot_id, device.health_seq = health.stamp.ts, health.stamp.boot_id, health.stamp.seq
        s = health.system
        device.cpu_pct, device.mem_used_mb, device.disk_free_mb = s.cpu_pct, s.mem_used_mb, s.disk_free_mb
        device.temp_c, device.uptime_s, device.net = s.temp_c, s.uptime_s, s.net
        parts = device.by_name
        for name, h in health.devices.items():
            detail = dict(h.detail)
            part = parts.get(name)
            if part is None or part.looks() != (h.kind, h.status, detail):
                parts[name] = PartRow(device.id, name, h.kind, h.status, detail, m.received)
                changes.append({"device_id": device.id, "part": name, "ts": m.received, "status": h.status,
                                "detail": detail})
        for gone in [name for name in parts if name not in health.devices]:
            del parts[gone]

    # -- appended ----------------------------------------------------------------------------
    def _metrics(self, session: Session, devices: dict[str, DeviceRow], messages: list[Incoming], done: Written) -> None:
        if not messages:
            return
        rows = [_metric_row(m.topic.kiosk, m.payload) for m in messages]  # type: ignore[arg-type]
        new = self._append(session, Metric, rows, devices, done)
        hours: dict[tuple[str, datetime], dict[str, float]] = {}
        items: dict[tuple[str, datetime, str], int] = defaultdict(int)
        for m, row in zip(messages, rows):
            if (row["device_id"], row["boot_id"], row["seq"]) not in new:
                continue
            hour = row["ts"].replace(minute=0, second=0, microsecond=0)
            sums = hours.setdefault((row["device_id"], hour), dict.fromkeys(COUNTER_COLUMNS, 0))
            for column in COUNTER_COLUMNS:
                sums[column] += row[column]
            for item, cases in row["cases_by_item"].items():
                items[(row["device_id"], hour, item)] += cases
            _outbox(devices[row["device_id"]], row["outbox_pending"], m.received)
        if hours:
            self._add_up(session, MetricHour, [{"device_id": d, "hour": h, **sums} for (d, h), sums in hours.items()],
                         ("device_id", "hour"), COUNTER_COLUMNS)
        if items:
            self._add_up(session, ItemHour, [{"device_id": d, "hour": h, "item": i, "cases": n}
                                             for (d, h, i), n in items.items()], ("device_id", "hour", "item"), ("cases",))

    def _events(self, session: Session, devices: dict[str, DeviceRow], messages: list[Incoming], done: Written) -> None:
        if messages:
            rows = [{"device_id": m.topic.kiosk, "ts": e.stamp.ts, "boot_id": e.stamp.boot_id, "seq": e.stamp.seq,
                     "type": e.type, "severity": e.severity, "part": e.device, "message": e.message}
                    for m in messages for e in (m.payload,)]  # type: ignore[attr-defined]
            self._append(session, Event, rows, devices, done)

    def _append(self, session: Session, table: type, rows: list[dict], devices: dict[str, DeviceRow],
                done: Written) -> set[tuple[str, str, int]]:
        """Insert ``rows``, skipping messages stored before; the keys of those inserted."""
        c = table.__table__.c
        stmt, params = self.db.insert_rows(table, rows)
        new = {tuple(r) for r in session.execute(stmt.on_conflict_do_nothing().returning(c.device_id, c.boot_id, c.seq),
                                                 params)}
        for row in rows:
            key = (row["device_id"], row["boot_id"], row["seq"])
            if key not in new:
                done.duplicates += 1
                device = devices[row["device_id"]]
                device.duplicates += 1
                if row["boot_id"] == device.boot_id:
                    device.seq_received -= 1  # counted as it came, but it was not a new message
        return new  # type: ignore[return-value]

    def _add_up(self, session: Session, table: type, rows: list[dict], keys: tuple[str, ...],
                columns: tuple[str, ...]) -> None:
        stmt, params = self.db.insert_rows(table, rows)
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: table.__table__.c[c] + stmt.excluded[c] for c in columns})
        session.execute(stmt, params)

    def _job_statuses(self, session: Session, messages: list[Incoming], done: Written) -> None:
        if not messages:
            return
        jobs = {m.topic.job for m in messages}
        known = set(session.scalars(select(Job.id).where(among(session, Job.id, jobs))))
        targets = {(t.job_id, t.device_id): t
                   for t in session.scalars(select(JobTarget).where(among(session, JobTarget.job_id, known)))}
        for m in messages:
            status: p.JobStatus = m.payload  # type: ignore[assignment]
            if m.topic.job not in known:
                done.unknown_jobs += 1
                log.info("ingest: status of a job this manager did not issue: %s on %s", m.topic.job, m.topic.kiosk)
                continue
            target = targets.get((m.topic.job, m.topic.kiosk))
            if target is None:  # a group's member the job did not list when issued
                target = targets[(m.topic.job, m.topic.kiosk)] = JobTarget(job_id=m.topic.job, device_id=m.topic.kiosk)
                session.add(target)
            if target.status in p.FINAL_STATUSES and not status.final:
                continue
            target.status, target.progress, target.detail = status.status, status.progress, dict(status.detail)
            target.updated_at = m.received


def _metric_row(kiosk: str, m: p.Metrics) -> dict:
    ev = m.evaluations
    return {"device_id": kiosk, "ts": m.stamp.ts, "boot_id": m.stamp.boot_id, "seq": m.stamp.seq,
            "window_s": m.window_s, "sessions": m.sessions, "cases_submitted": m.cases_submitted,
            "prints": m.prints, "scans": m.scans, "queue_issued": m.queue.issued, "queue_called": m.queue.called,
            "queue_waiting": m.queue.waiting, "wait_s_total": m.queue.avg_wait_s * m.queue.called,
            **{f"eval_{level}": ev.get(level, 0) for level in p.EVALUATION_LEVELS},
            "outbox_pending": m.outbox_pending, "cases_by_item": dict(m.cases_by_item)}


def _outbox(device: DeviceRow, pending: int, received: datetime) -> None:
    """Note when the outbox last fell or was empty: the ``outbox`` rule's clock (the manager's)."""
    if pending == 0 or pending < device.outbox_pending or device.outbox_drained_at is None:
        device.outbox_drained_at = received
    device.outbox_pending = pending
