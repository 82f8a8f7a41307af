"""The manager's tables (SQLAlchemy 2 ORM), the same on SQLite and PostgreSQL.

- the registry: ``Station`` (township, tier, residents, staff) and ``Device`` (its station,
  ``DeviceGroup`` rows, version) with its latest state, system figures and sequence counters;
- ``DevicePart``: the latest health of each part (printer, reader…), ``HealthChange`` its history;
- ``Metric``: each metrics message (short retention), ``MetricHour`` / ``ItemHour``: hourly sums
  per device (long retention) for the charts;
- ``Event``, ``Alert`` (open → acknowledged → resolved), ``Job`` and ``JobTarget`` (per device);
- ``Operator`` (viewer / operator / technician), ``Token`` (a login session or an API token),
  ``AuditEntry``, and ``Upload`` (screenshots and logs from jobs).

Times are stored in UTC and read back timezone-aware (``UTCDateTime``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

TIERS = ("demonstration", "standard", "simple")
TIER_CASES_PER_STAFF = {"demonstration": 0.6, "standard": 0.5, "simple": 0.4}  # DOMAIN.md, seed 004
ROLES = ("viewer", "operator", "technician")
ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED = "open", "acknowledged", "resolved"
ALERT_STATES = (ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED)
ID_LEN = 64


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime; SQLite keeps it naive, so it is made aware on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give times in UTC with tzinfo")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def missed(seq_max: int, seq_received: int, state: str) -> int:
    """Messages of this boot that never came: the gaps in seq, less the will of the live connection
    (a kiosk takes the will's seq when it sets it, before its birth; the will of a connection that
    ended cleanly, never sent, is counted as received by ``fleet.writer``)."""
    return max(0, seq_max + 1 - seq_received - (state != "offline"))


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


# -- the registry ------------------------------------------------------------------------
class Station(Base):
    """A village or township service station (便民服务站), keyed by the name its kiosks report."""

    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    township: Mapped[str] = mapped_column(String(200), default="", index=True)
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    residents: Mapped[int] = mapped_column(default=0)
    staff: Mapped[int] = mapped_column(default=0)  # resident agents (代办员)
    devices: Mapped[list[Device]] = relationship(back_populates="station")


class Device(Base):
    """A terminal: the registry's data, and the latest of what it reported."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    version: Mapped[str] = mapped_column(String(64), default="")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime | None] = mapped_column(index=True)  # when any message last came
    # the latest state: a will of an older connection (boot_id, conn) than this is ignored
    state: Mapped[str] = mapped_column(String(20), default="unknown", index=True)
    state_since: Mapped[datetime | None]
    state_ts: Mapped[datetime | None]
    state_seq: Mapped[int] = mapped_column(BigInteger, default=-1)
    boot_id: Mapped[str] = mapped_column(String(64), default="")
    conn: Mapped[int] = mapped_column(default=0)
    # the system figures of the latest health
    health_ts: Mapped[datetime | None]
    health_boot_id: Mapped[str] = mapped_column(String(64), default="")
    health_seq: Mapped[int] = mapped_column(BigInteger, default=-1)
    cpu_pct: Mapped[float | None]
    mem_used_mb: Mapped[float | None]
    disk_free_mb: Mapped[float | None]
    temp_c: Mapped[float | None]
    uptime_s: Mapped[float | None]
    net: Mapped[str] = mapped_column(String(64), default="")
    # the outbox: pending cases, and when the count last fell (or was 0)
    outbox_pending: Mapped[int] = mapped_column(default=0)
    outbox_drained_at: Mapped[datetime | None]
    # seq within the current boot: the highest seen and how many distinct messages came
    seq_max: Mapped[int] = mapped_column(BigInteger, default=-1)
    seq_received: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)

    station: Mapped[Station | None] = relationship(back_populates="devices", lazy="joined")
    groups: Mapped[list[DeviceGroup]] = relationship(cascade="all, delete-orphan")
    parts: Mapped[list[DevicePart]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def missing(self) -> int:
        return missed(self.seq_max, self.seq_received, self.state)


class DeviceGroup(Base):
    __tablename__ = "device_groups"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    group: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, index=True)


class DevicePart(Base):
    """The latest health of one part of a terminal (``receipt``, ``idcard``…)."""

    __tablename__ = "device_parts"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    since: Mapped[datetime]  # when status or detail last changed (the device's health_ts: when last reported)


class HealthChange(Base):
    """A part's status or media state changed (the device page's recent health)."""

    __tablename__ = "health_changes"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_health_changes_device_ts", "device_id", "ts"),)


# -- time series ------------------------------------------------------------------------------
_EVALUATIONS = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")


class _Counters:
    """The additive figures of a metrics message."""

    sessions: Mapped[int] = mapped_column(default=0)
    cases_submitted: Mapped[int] = mapped_column(default=0)
    prints: Mapped[int] = mapped_column(default=0)
    scans: Mapped[int] = mapped_column(default=0)
    queue_issued: Mapped[int] = mapped_column(default=0)
    queue_called: Mapped[int] = mapped_column(default=0)
    wait_s_total: Mapped[float] = mapped_column(Float, default=0.0)  # avg_wait_s × called: sums well
    eval_very_satisfied: Mapped[int] = mapped_column(default=0)
    eval_satisfied: Mapped[int] = mapped_column(default=0)
    eval_basically_satisfied: Mapped[int] = mapped_column(default=0)
    eval_dissatisfied: Mapped[int] = mapped_column(default=0)
    eval_very_dissatisfied: Mapped[int] = mapped_column(default=0)


COUNTER_COLUMNS = ("sessions", "cases_submitted", "prints", "scans", "queue_issued", "queue_called",
                   "wait_s_total", *(f"eval_{level}" for level in _EVALUATIONS))


class _Message:
    """A message kept as it came: which device, when, and its ``(boot_id, seq)``, unique per device."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(index=True)
    boot_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)


class Metric(_Message, _Counters, Base):
    """One metrics message as it came (kept ``raw_days``)."""

    __tablename__ = "metrics"
    window_s: Mapped[float] = mapped_column(Float)
    queue_waiting: Mapped[int] = mapped_column(default=0)
    outbox_pending: Mapped[int] = mapped_column(default=0)
    cases_by_item: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (UniqueConstraint("device_id", "boot_id", "seq", name="uq_metrics_message"),
                      Index("ix_metrics_device_ts", "device_id", "ts"))


class MetricHour(_Counters, Base):
    """Hourly sums per device (kept ``hourly_days``): what the charts and station figures read."""

    __tablename__ = "metric_hours"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True, index=True)


class ItemHour(Base):
    """Cases submitted per service item, hourly per device."""

    __tablename__ = "item_hours"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    cases: Mapped[int] = mapped_column(default=0)


class Event(_Message, Base):
    __tablename__ = "events"
    type: Mapped[str] = mapped_column(String(128), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    part: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(String(4096), default="")
    __table_args__ = (UniqueConstraint("device_id", "boot_id", "seq", name="uq_events_message"),
                      Index("ix_events_device_ts", "device_id", "ts"))


# -- alerts and jobs ---------------------------------------------------------------------------
class Alert(Base):
    """One occurrence of a rule's condition on a device (and part); at most one unresolved each."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(64), default="")
    severity: Mapped[str] = mapped_column(String(10), default="warning")
    state: Mapped[str] = mapped_column(String(20), default=ALERT_OPEN, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the figures behind it, e.g. {"paper": "out"}
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))  # None: resolved as the condition cleared
    __table_args__ = (Index("ix_alerts_device_rule", "device_id", "rule", "part", "state"),)


class Job(Base):
    """A job as issued: to one device (``target_kind`` device) or a group."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    op: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target_kind: Mapped[str] = mapped_column(String(10))  # device | group
    target: Mapped[str] = mapped_column(String(ID_LEN))
    issuer: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime | None]
    targets: Mapped[list[JobTarget]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                    order_by="JobTarget.device_id")


class JobTarget(Base):
    """A job on one device: its latest status as that device reported it."""

    __tablename__ = "job_targets"
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="QUEUED")
    progress: Mapped[int] = mapped_column(default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    upload_token_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of its one-time upload token


# -- operators ------------------------------------------------------------------------------------
class Operator(Base):
    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200), default="")  # "" = API tokens only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)


class Token(Base):
    """A secret an operator presents: a login session (cookie) or an API token (kioskctl)."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret; the secret is not kept
    kind: Mapped[str] = mapped_column(String(10))  # session | api
    label: Mapped[str] = mapped_column(String(100), default="")
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    operator: Mapped[Operator] = relationship(lazy="joined")


class AuditEntry(Base):
    """An operator's action: who, when, what on which target, with what outcome."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Upload(Base):
    """A file a terminal uploaded for a job (a screenshot, collected logs)."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
