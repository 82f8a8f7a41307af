"""Jobs from the manager: issue one to a device or a group, publish it, take its uploads.

``Jobs.issue`` records the job and a ``QUEUED`` row per target device, commits, then
publishes ``kiosk/v1/<id>/jobs/<job>`` or ``kiosk/v1/group/<group>/jobs/<job>`` (QoS 1, the
manager's account) and waits for the broker's acknowledgement; ingest then follows each
device's status. ``screenshot`` and ``collect_logs`` carry ``args.upload_url``: the
manager's HTTPS upload endpoint with a one-time token per device, so to a group they are
published to each member's own job topic (the same job id).
"""
from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleet import auth
from fleet import protocol as p
from fleet.broker import BrokerOptions
from fleet.db import Database
from fleet.models import Device, DeviceGroup, Job, JobTarget, Upload, utcnow
from fleet.refusal import Refused
from l10n import N_

log = logging.getLogger(__name__)
UPLOAD_OPS = frozenset({"screenshot", "collect_logs"})
UPLOAD_TYPES = {"screenshot": ("image/png",), "collect_logs": ("text/plain",)}
MAX_UPLOAD = 16 * 1024 * 1024
MAX_ARGS = 64 * 1024  # bytes of JSON
EXPIRY_RANGE = (timedelta(seconds=1), timedelta(days=7))  # the API asks for at least a minute
PUBLISH_WAIT_S = 10.0


class JobRequestError(Refused):
    """A job that cannot be issued as asked, or an upload not taken (``status``: the HTTP status)."""


class Publisher:
    """The manager's own connection for publishing jobs (QoS 1, acknowledged)."""

    def __init__(self, broker: BrokerOptions, client_id: str = "fleet-manager-jobs"):
        self.broker = broker
        self._client = broker.client(client_id)
        self._lock = threading.Lock()

    def start(self) -> None:
        self.broker.connect(self._client)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish and wait for the broker's PUBACK; raises ConnectionError if it does not come."""
        with self._lock:
            info = self._client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(PUBLISH_WAIT_S)
        except (RuntimeError, ValueError) as exc:
            raise ConnectionError(f"the broker did not take {topic}: {exc}") from None
        if not info.is_published() or info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"the broker did not take {topic}")


@dataclass(frozen=True)
class Target:
    device: str = ""
    group: str = ""


class Jobs:
    def __init__(self, db: Database, publisher: Publisher | Any, upload_base: str = ""):
        """``upload_base``: the manager's HTTPS origin as kiosks reach it, e.g. ``https://fleet.example:8443``."""
        self.db, self.publisher, self.upload_base = db, publisher, upload_base.rstrip("/")

    def issue(self, op: str, args: dict[str, Any], target: Target, issuer: str,
              expires_in: timedelta = timedelta(hours=1)) -> Job:
        """Record, publish and return the job; ``JobRequestError`` when it cannot be issued."""
        self._check(op, args, target, expires_in)
        job_id = f"job-{secrets.token_hex(8)}"
        now = p.now()
        tokens: dict[str, str] = {}
        with self.db.session(write=True) as session:
            devices = self._devices(session, target)
            job = Job(id=job_id, op=op, args=args, target_kind="group" if target.group else "device",
                      target=target.group or target.device, issuer=issuer, issued_at=now, expires_at=now + expires_in)
            for device in devices:
                row = JobTarget(job_id=job_id, device_id=device, status=p.QUEUED, updated_at=now)
                if op in UPLOAD_OPS:
                    tokens[device] = secrets.token_urlsafe(24)
                    row.upload_token_hash = auth.digest(tokens[device])
                job.targets.append(row)
            session.add(job)
            auth.audit(session, issuer, "job.issue", job.target, job=job_id, op=op, args=args,
                       target_kind=job.target_kind, devices=len(devices))
        self._publish(job, tokens)
        return job

    def _check(self, op: str, args: Any, target: Target, expires_in: timedelta) -> None:
        if op not in p.OPS:
            raise JobRequestError(N_("The op must be one of {ops}."), ops=", ".join(p.OPS))
        if not isinstance(args, dict) or len(json.dumps(args)) > MAX_ARGS:
            raise JobRequestError(N_("The arguments must be a JSON object of at most {size} bytes."), size=MAX_ARGS)
        if "upload_url" in args:
            raise JobRequestError(N_("The manager sets args.upload_url itself."))
        if bool(target.device) == bool(target.group):
            raise JobRequestError(N_("Give either a terminal or a group."))
        if not p.valid_id(target.device or target.group):
            raise JobRequestError(N_("{target} is not a terminal or group id."),
                                  target=(target.device or target.group)[:70])
        if not EXPIRY_RANGE[0] <= expires_in <= EXPIRY_RANGE[1]:
            raise JobRequestError(N_("A job expires between 1 second and 7 days after it is issued."))
        if op in UPLOAD_OPS and not self.upload_base.startswith("https://"):
            raise JobRequestError(N_("This job needs the manager's HTTPS address (--public-url)."), 503)

    @staticmethod
    def _devices(session: Session, target: Target) -> list[str]:
        if target.device:
            if session.get(Device, target.device) is None:
                raise JobRequestError(N_("There is no terminal {device}."), 404, device=target.device)
            return [target.device]
        members = list(session.scalars(select(DeviceGroup.device_id).where(DeviceGroup.group == target.group)
                                       .order_by(DeviceGroup.device_id)))
        if not members:
            raise JobRequestError(N_("No terminal is in group {group}."), 404, group=target.group)
        return members

    def _publish(self, job: Job, tokens: dict[str, str]) -> None:
        def message(device: str | None) -> bytes:
            args = dict(job.args)
            if device is not None and device in tokens:
                args["upload_url"] = f"{self.upload_base}/api/v1/uploads/{job.id}/{device}?token={tokens[device]}"
            return p.Job(job.id, job.op, args, job.issued_at, job.expires_at, job.issuer).to_json()

        members = [t.device_id for t in job.targets]
        if job.target_kind == "group" and not tokens:
            sends = [(p.group_job_topic(job.target, job.id), message(None), members)]
        else:
            sends = [(p.job_topic(device, job.id), message(device), [device]) for device in members]
        unsent: list[str] = []
        for topic, payload, devices in sends:
            try:
                self.publisher.publish(topic, payload)
            except ConnectionError as exc:
                log.warning("jobs: %s", exc)
                unsent += devices
        if unsent:
            self._not_sent(job.id, unsent)

    def _not_sent(self, job_id: str, devices: list[str]) -> None:
        with self.db.session(write=True) as session:
            for row in session.scalars(select(JobTarget).where(JobTarget.job_id == job_id,
                                                               JobTarget.device_id.in_(devices))):
                row.status, row.progress, row.updated_at = p.FAILED, 100, utcnow()
                row.detail = {"code": "job.not_sent", "reason": "the broker did not take the job"}

    def expire_unanswered(self, now: datetime | None = None) -> int:
        """Targets still ``QUEUED`` when their job expired are ``TIMED_OUT`` (a kiosk that comes back
        later says the same); returns how many."""
        now = now or utcnow()
        expired = select(Job.id).where(Job.expires_at < now)
        with self.db.session(write=True) as session:
            result = session.execute(update(JobTarget).where(JobTarget.status == p.QUEUED, JobTarget.job_id.in_(expired))
                                     .values(status=p.TIMED_OUT, updated_at=now, upload_token_hash=None,
                                             detail={"code": "job.no_answer",
                                                     "reason": "the terminal did not take the job before it expired"}))
            return result.rowcount

    def accept_upload(self, job_id: str, device: str, token: str, body: bytes, content_type: str) -> Upload:
        """Keep a file a kiosk uploads for its job; the token works once."""
        if len(body) > MAX_UPLOAD:
            raise JobRequestError(N_("An upload may be at most {size} bytes."), 413, size=MAX_UPLOAD)
        with self.db.session(write=True) as session:
            row = session.get(JobTarget, (job_id, device))
            stored = row.upload_token_hash if row is not None else None
            if stored is None or not hmac.compare_digest(stored, auth.digest(token)):
                raise JobRequestError(N_("No upload is expected with this token."), 403)
            job = session.get(Job, job_id)
            kind = content_type.split(";")[0].strip().lower()
            if kind not in UPLOAD_TYPES[job.op]:
                raise JobRequestError(N_("This upload must be {types}."), 415, types=" / ".join(UPLOAD_TYPES[job.op]))
            if kind == "image/png" and not body.startswith(b"\x89PNG\r\n\x1a\n"):
                raise JobRequestError(N_("The upload is not a PNG image."), 415)
            row.upload_token_hash = None
            upload = Upload(job_id=job_id, device_id=device, content_type=content_type[:100], size=len(body), data=body)
            session.add(upload)
            session.flush()
            return upload
