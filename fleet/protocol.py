"""Fleet protocol version 1 (../shared/spec/fleet-protocol.md): topics and payloads.

Both sides use this module: the kiosk's agent builds payloads and parses jobs, the
manager parses what kiosks send and builds jobs. Every payload is a frozen dataclass
with ``to_json() -> bytes`` and ``parse(bytes)``; ``parse`` validates every field,
ignores unknown ones and raises ``ProtocolError`` naming the field at fault.
Imports neither Kivy nor ``kiosk``.

One addition to the spec: the device id ``group`` is reserved, because
``kiosk/v1/group/...`` is where group jobs live.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from fleet._fields import Fields, ProtocolError, decode, format_ts, parse_ts  # noqa: F401 (re-exported)

VERSION = 1
PREFIX = "kiosk/v1"
ID = re.compile(r"[a-z0-9][a-z0-9-]{2,63}")
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a device name in health, an item code in metrics

STATES = ("online", "maintenance", "out_of_service", "offline")
DEVICE_STATUSES = ("online", "busy", "offline", "hardware_error", "no_device")
SEVERITIES = ("info", "warning", "critical")
EVALUATION_LEVELS = (  # GB/T 39734: 非常满意 ★★★★★ … 非常不满意 ★
    "very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied",
)
OPS = ("reboot", "restart_app", "maintenance", "screenshot", "set_config", "push_content",
       "update", "collect_logs")
QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, REJECTED, TIMED_OUT = (
    "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT")
JOB_STATUSES = (QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, REJECTED, TIMED_OUT)
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, REJECTED, TIMED_OUT})
SESSION_EXPIRY_S = 7 * 24 * 3600  # the kiosk's persistent session outlives a week offline
RESERVED_IDS = frozenset({"group"})


def valid_id(value: object) -> bool:
    """True for a device, job or group id of the protocol's alphabet."""
    return isinstance(value, str) and bool(ID.fullmatch(value)) and value not in RESERVED_IDS


def check_id(value: object, what: str = "id") -> str:
    if not valid_id(value):
        raise ProtocolError(what, f"{str(value)[:70]!r} is not an id ([a-z0-9][a-z0-9-]{{2,63}})")
    return value  # type: ignore[return-value]


def now() -> datetime:
    """The time in UTC to the millisecond, the precision timestamps travel with."""
    value = datetime.now(timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


# -- topics -------------------------------------------------------------------------
def state_topic(kiosk: str) -> str:
    return f"{PREFIX}/{check_id(kiosk)}/state"


def health_topic(kiosk: str) -> str:
    return f"{PREFIX}/{check_id(kiosk)}/health"


def metrics_topic(kiosk: str) -> str:
    return f"{PREFIX}/{check_id(kiosk)}/metrics"


def events_topic(kiosk: str) -> str:
    return f"{PREFIX}/{check_id(kiosk)}/events"


def job_topic(kiosk: str, job: str) -> str:
    return f"{PREFIX}/{check_id(kiosk)}/jobs/{check_id(job, 'job')}"


def group_job_topic(group: str, job: str) -> str:
    return f"{PREFIX}/group/{check_id(group, 'group')}/jobs/{check_id(job, 'job')}"


def job_status_topic(kiosk: str, job: str) -> str:
    return f"{job_topic(kiosk, job)}/status"


def jobs_filter(kiosk: str) -> str:
    """What a kiosk subscribes to for its own jobs."""
    return f"{PREFIX}/{check_id(kiosk)}/jobs/+"


def group_jobs_filter(group: str) -> str:
    return f"{PREFIX}/group/{check_id(group, 'group')}/jobs/+"


@dataclass(frozen=True)
class Topic:
    """A parsed topic: ``kind`` is state, health, metrics, events, job, group_job or job_status."""

    kind: str
    kiosk: str | None = None
    group: str | None = None
    job: str | None = None

    @classmethod
    def parse(cls, topic: str) -> Topic:
        parts = topic.split("/")
        if len(parts) < 4 or "/".join(parts[:2]) != PREFIX:
            raise ProtocolError("topic", f"{topic[:100]!r} is not under {PREFIX}/")
        rest = parts[2:]
        if len(rest) == 4 and rest[0] == "group" and rest[2] == "jobs":
            return cls("group_job", group=check_id(rest[1], "topic.group"), job=check_id(rest[3], "topic.job"))
        kiosk = check_id(rest[0], "topic.kiosk")
        if len(rest) == 2 and rest[1] in ("state", "health", "metrics", "events"):
            return cls(rest[1], kiosk=kiosk)
        if len(rest) == 3 and rest[1] == "jobs":
            return cls("job", kiosk=kiosk, job=check_id(rest[2], "topic.job"))
        if len(rest) == 4 and rest[1] == "jobs" and rest[3] == "status":
            return cls("job_status", kiosk=kiosk, job=check_id(rest[2], "topic.job"))
        raise ProtocolError("topic", f"{topic[:100]!r} is not a topic of the protocol")


# -- payloads -------------------------------------------------------------------------
P = TypeVar("P", bound="Payload")


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


class Payload:
    """Base of every message: ``"v": 1`` and JSON in UTF-8."""

    name: ClassVar[str]

    @classmethod
    def parse(cls: type[P], data: bytes | str) -> P:
        fields = Fields(decode(data, cls.name), cls.name)
        fields.version()
        return cls._read(fields)

    @classmethod
    def _read(cls: type[P], f: Fields) -> P:
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> bytes:
        return json.dumps({"v": VERSION, **self.as_dict()}, ensure_ascii=False,
                          separators=(",", ":"), default=_plain).encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, MappingProxyType):
        return dict(value)
    if isinstance(value, datetime):
        return format_ts(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@dataclass(frozen=True)
class Stamp:
    """What every kiosk message carries: when, its ``seq`` within the boot, and the boot."""

    ts: datetime
    seq: int
    boot_id: str

    @classmethod
    def read(cls, f: Fields) -> Stamp:
        return cls(f.ts("ts"), f.int("seq"), f.str("boot_id", pattern=NAME))

    def as_dict(self) -> dict[str, Any]:
        return {"ts": format_ts(self.ts), "seq": self.seq, "boot_id": self.boot_id}


@dataclass(frozen=True)
class State(Payload):
    name: ClassVar[str] = "state"
    stamp: Stamp
    state: str
    conn: int
    version: str = ""
    station: str = ""
    groups: tuple[str, ...] = ()

    @classmethod
    def _read(cls, f: Fields) -> State:
        return cls(Stamp.read(f), f.str("state", choices=STATES), f.int("conn"),
                   f.str("version", default="", max_len=64), f.str("station", default="", max_len=200),
                   f.strs("groups", ID))

    def as_dict(self) -> dict[str, Any]:
        return {**self.stamp.as_dict(), "state": self.state, "conn": self.conn, "version": self.version,
                "station": self.station, "groups": list(self.groups)}


_SCALAR = (str, int, float, bool)


@dataclass(frozen=True)
class DeviceHealth:
    kind: str
    status: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", _frozen(self.detail))

    @classmethod
    def read(cls, f: Fields) -> DeviceHealth:
        detail = f.obj("detail", {})
        for key, value in detail.raw.items():
            if not NAME.fullmatch(key) or not isinstance(value, _SCALAR):
                raise ProtocolError(f"{detail.where}.{key[:40]}", "must be a name with a plain value")
        return cls(f.str("kind", pattern=NAME), f.str("status", choices=DEVICE_STATUSES), detail.raw)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "detail": dict(self.detail)}


@dataclass(frozen=True)
class SystemHealth:
    """The computer itself; a figure it cannot measure is None."""

    cpu_pct: float | None = None
    mem_used_mb: float | None = None
    disk_free_mb: float | None = None
    temp_c: float | None = None
    uptime_s: float | None = None
    net: str = ""  # the interface carrying the default route, "" if none

    @classmethod
    def read(cls, f: Fields) -> SystemHealth:
        return cls(f.num("cpu_pct", 0, 100, None), f.num("mem_used_mb", default=None),
                   f.num("disk_free_mb", default=None), f.num("temp_c", -100, 200, None),
                   f.num("uptime_s", default=None), f.str("net", default="", max_len=64))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Health(Payload):
    name: ClassVar[str] = "health"
    stamp: Stamp
    devices: Mapping[str, DeviceHealth]
    system: SystemHealth = SystemHealth()

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", _frozen(self.devices))

    @classmethod
    def _read(cls, f: Fields) -> Health:
        devices = f.obj("devices", {})
        if len(devices.raw) > 64:
            raise ProtocolError(devices.where, "more than 64 devices")
        parsed = {}
        for name in devices.raw:
            if not NAME.fullmatch(name):
                raise ProtocolError(f"{devices.where}.{name[:40]}", "not a device name")
            parsed[name] = DeviceHealth.read(devices.obj(name))
        return cls(Stamp.read(f), parsed, SystemHealth.read(f.obj("system", {})))

    def as_dict(self) -> dict[str, Any]:
        return {**self.stamp.as_dict(), "devices": {k: v.as_dict() for k, v in self.devices.items()},
                "system": self.system.as_dict()}


@dataclass(frozen=True)
class QueueFigures:
    issued: int = 0
    waiting: int = 0
    called: int = 0
    avg_wait_s: float = 0.0

    @classmethod
    def read(cls, f: Fields) -> QueueFigures:
        return cls(f.int("issued"), f.int("waiting"), f.int("called"), f.num("avg_wait_s"))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _counts(f: Fields, key: str, keys: tuple[str, ...] | None) -> dict[str, int]:
    table = f.obj(key, {} if keys is None else None)
    names = keys if keys is not None else tuple(table.raw)
    if len(names) > 1000:
        raise ProtocolError(table.where, "more than 1000 entries")
    for name in names:
        if keys is None and not NAME.fullmatch(name):
            raise ProtocolError(f"{table.where}.{name[:40]}", "not an item code")
    return {name: table.int(name) for name in names}


@dataclass(frozen=True)
class Metrics(Payload):
    """Counters over the last ``window_s`` seconds."""

    name: ClassVar[str] = "metrics"
    stamp: Stamp
    window_s: float
    sessions: int = 0
    cases_submitted: int = 0
    cases_by_item: Mapping[str, int] = field(default_factory=dict)
    prints: int = 0
    scans: int = 0
    queue: QueueFigures = QueueFigures()
    evaluations: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(EVALUATION_LEVELS, 0))
    outbox_pending: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases_by_item", _frozen(self.cases_by_item))
        object.__setattr__(self, "evaluations", _frozen(self.evaluations))

    @classmethod
    def _read(cls, f: Fields) -> Metrics:
        return cls(Stamp.read(f), f.num("window_s", 0.001, 366 * 86400), f.int("sessions"),
                   f.int("cases_submitted"), _counts(f, "cases_by_item", None), f.int("prints"),
                   f.int("scans"), QueueFigures.read(f.obj("queue")),
                   _counts(f, "evaluations", EVALUATION_LEVELS), f.int("outbox_pending"))

    def as_dict(self) -> dict[str, Any]:
        return {**self.stamp.as_dict(), "window_s": self.window_s, "sessions": self.sessions,
                "cases_submitted": self.cases_submitted, "cases_by_item": dict(self.cases_by_item),
                "prints": self.prints, "scans": self.scans, "queue": self.queue.as_dict(),
                "evaluations": dict(self.evaluations), "outbox_pending": self.outbox_pending}


@dataclass(frozen=True)
class Event(Payload):
    name: ClassVar[str] = "events"
    stamp: Stamp
    type: str
    severity: str
    device: str = ""  # "" for the terminal as a whole
    message: str = ""

    @classmethod
    def _read(cls, f: Fields) -> Event:
        return cls(Stamp.read(f), f.str("type", pattern=EVENT_TYPE, max_len=128),
                   f.str("severity", choices=SEVERITIES), f.str("device", default="", max_len=64),
                   f.str("message", default=""))

    def as_dict(self) -> dict[str, Any]:
        return {**self.stamp.as_dict(), "type": self.type, "severity": self.severity,
                "device": self.device, "message": self.message}


@dataclass(frozen=True)
class Job(Payload):
    """A job from the manager. ``op`` is any name here; the kiosk rejects ones it does not know."""

    name: ClassVar[str] = "job"
    job: str
    op: str
    args: Mapping[str, Any] = field(default_factory=dict)
    issued_at: datetime = field(default_factory=now)
    expires_at: datetime | None = None
    issuer: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _frozen(self.args))

    @classmethod
    def _read(cls, f: Fields) -> Job:
        return cls(check_id(f.str("job", max_len=64), "job.job"), f.str("op", pattern=NAME),
                   f.obj("args", {}).raw, f.ts("issued_at"), f.ts("expires_at", None),
                   f.str("issuer", default="", max_len=200))

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or now())

    def as_dict(self) -> dict[str, Any]:
        return {"job": self.job, "op": self.op, "args": dict(self.args), "issued_at": format_ts(self.issued_at),
                "expires_at": format_ts(self.expires_at) if self.expires_at else None, "issuer": self.issuer}


@dataclass(frozen=True)
class JobStatus(Payload):
    name: ClassVar[str] = "job_status"
    stamp: Stamp
    job: str
    status: str
    progress: int = 0
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", _frozen(self.detail))

    @classmethod
    def _read(cls, f: Fields) -> JobStatus:
        return cls(Stamp.read(f), check_id(f.str("job", max_len=64), "job_status.job"),
                   f.str("status", choices=JOB_STATUSES), f.int("progress", 0, 100, 0), f.obj("detail", {}).raw)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return {**self.stamp.as_dict(), "job": self.job, "status": self.status, "progress": self.progress,
                "detail": dict(self.detail)}


PAYLOADS: dict[str, type[Payload]] = {
    "state": State, "health": Health, "metrics": Metrics, "events": Event,
    "job": Job, "group_job": Job, "job_status": JobStatus,
}


def parse_message(topic: str, data: bytes) -> tuple[Topic, Payload]:
    """The topic and its payload, both validated; a job's id must match its topic's."""
    where = Topic.parse(topic)
    payload = PAYLOADS[where.kind].parse(data)
    if where.job is not None and getattr(payload, "job") != where.job:
        raise ProtocolError(f"{payload.name}.job", "differs from the job id in the topic")
    return where, payload
