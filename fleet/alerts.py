"""Alert rules, and each alert's life: open → acknowledged → resolved.

``conditions(device, now)`` says which rules hold for a device from what the manager knows
of it; ``evaluate`` opens an alert for each new condition, updates the ones that still
hold and resolves (by itself, ``resolved_by`` None) those whose condition cleared. Ingest
evaluates the devices it touched; ``sweep`` evaluates every device on a timer, which is what
notices a terminal that fell silent.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.db import among
from fleet.models import ALERT_ACKNOWLEDGED, ALERT_OPEN, ALERT_RESOLVED, Alert, Device, utcnow

log = logging.getLogger(__name__)
RULES = ("offline", "paper", "card_reader", "disk_low", "outbox")
CARD_READER_KINDS = frozenset({"idcard", "smartcard"})
READER_TROUBLE = frozenset({"hardware_error", "offline"})
SWEEP_CHUNK = 1000


@dataclass(frozen=True)
class Thresholds:
    offline: timedelta = timedelta(minutes=5)
    disk_low_mb: float = 1024.0
    outbox_stuck: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Condition:
    rule: str
    part: str = ""
    severity: str = "warning"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.part


def conditions(device: Device, now: datetime, limits: Thresholds = Thresholds()) -> list[Condition]:
    """The rules that hold for ``device`` at ``now``."""
    found = []
    silent_since = device.state_since if device.state == "offline" else device.last_seen
    if device.last_seen is not None and silent_since is not None and now - silent_since > limits.offline:
        found.append(Condition("offline", severity="critical",
                               detail={"since": silent_since.isoformat(), "state": device.state}))
    for part in device.parts:
        paper = part.detail.get("paper")
        if paper in ("near_end", "out"):
            found.append(Condition("paper", part.name, "critical" if paper == "out" else "warning",
                                   {"paper": paper, "kind": part.kind}))
        if part.kind in CARD_READER_KINDS and part.status in READER_TROUBLE:
            found.append(Condition("card_reader", part.name, "critical", {"status": part.status, "kind": part.kind}))
    if device.disk_free_mb is not None and device.disk_free_mb < limits.disk_low_mb:
        found.append(Condition("disk_low", severity="warning", detail={"disk_free_mb": device.disk_free_mb}))
    drained = device.outbox_drained_at
    if device.outbox_pending > 0 and drained is not None and now - drained > limits.outbox_stuck:
        found.append(Condition("outbox", severity="warning",
                               detail={"pending": device.outbox_pending, "since": drained.isoformat()}))
    return found


def evaluate(session: Session, devices: Iterable[Device], now: datetime | None = None,
             limits: Thresholds = Thresholds()) -> tuple[int, int]:
    """Open, update and auto-resolve alerts of ``devices``; returns (opened, resolved)."""
    now = now or utcnow()
    devices = list(devices)
    active: dict[tuple[str, str, str], Alert] = {}
    for alert in session.scalars(select(Alert).where(among(session, Alert.device_id, [d.id for d in devices]),
                                                     Alert.state != ALERT_RESOLVED)):
        active[(alert.device_id, alert.rule, alert.part)] = alert
    opened = resolved = 0
    for device in devices:
        holding = {c.key: c for c in conditions(device, now, limits)}
        for key, cond in holding.items():
            alert = active.pop((device.id, *key), None)
            if alert is None:
                session.add(Alert(rule=cond.rule, device_id=device.id, part=cond.part, severity=cond.severity,
                                  state=ALERT_OPEN, detail=cond.detail, opened_at=now))
                opened += 1
            elif (alert.severity, alert.detail) != (cond.severity, cond.detail):
                alert.severity, alert.detail = cond.severity, cond.detail
    for alert in active.values():  # devices given, conditions gone
        alert.state, alert.resolved_at, alert.resolved_by = ALERT_RESOLVED, now, None
        resolved += 1
    return opened, resolved


def sweep(db: Any, now: datetime | None = None, limits: Thresholds = Thresholds()) -> tuple[int, int]:
    """Evaluate every device, a chunk per transaction; returns (opened, resolved). A device that ingest
    holds locked (PostgreSQL) is passed over: ingest evaluates it as it commits."""
    opened = resolved = 0
    after = ""
    while True:
        with db.session(write=True) as session:
            chunk = list(session.scalars(select(Device).where(Device.id > after).order_by(Device.id)
                                         .limit(SWEEP_CHUNK).with_for_update(of=Device, skip_locked=True)))
            if not chunk:
                return opened, resolved
            o, r = evaluate(session, chunk, now, limits)
            opened, resolved, after = opened + o, resolved + r, chunk[-1].id


class AlertStateError(Exception):
    """The alert is already in or past the state asked for."""


def acknowledge(alert: Alert, operator: str, now: datetime | None = None) -> None:
    if alert.state != ALERT_OPEN:
        raise AlertStateError(f"alert {alert.id} is {alert.state}")
    alert.state, alert.acknowledged_at, alert.acknowledged_by = ALERT_ACKNOWLEDGED, now or utcnow(), operator


def resolve(alert: Alert, operator: str, now: datetime | None = None) -> None:
    """Resolved by hand; if the condition still holds, the next evaluation opens a new alert."""
    if alert.state == ALERT_RESOLVED:
        raise AlertStateError(f"alert {alert.id} is already resolved")
    alert.state, alert.resolved_at, alert.resolved_by = ALERT_RESOLVED, now or utcnow(), operator
