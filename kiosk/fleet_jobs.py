"""Jobs from the fleet manager: the life cycle, the handlers, and the ids already seen.

``JobRunner.receive`` (on paho's network thread) checks a job and answers at once what
needs no work (``REJECTED`` malformed, ``TIMED_OUT`` expired, a duplicate's status);
``run`` (on the agent's worker) moves it ``IN_PROGRESS`` → ``SUCCEEDED`` | ``FAILED``,
or ``REJECTED`` for an op or args this terminal cannot take. What the kiosk does for
``reboot``, ``restart_app``, a screenshot or a new config comes in ``JobHooks``.
"""
from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from fleet import protocol as p
from kiosk import config as config_mod
from l10n import N_, translate

log = logging.getLogger(__name__)
Report = Callable[[str, str, int, dict[str, Any]], None]  # job, status, progress, detail
KEEP_JOBS = 500  # ids remembered for de-duplication
NOT_YET = {  # ops of the protocol this terminal does not perform yet, and what to do instead
    "push_content": N_("This terminal cannot take content bundles ('{op}') yet: replace its content file on site"),
    "update": N_("This terminal cannot update its software remotely ('{op}') yet: update it on site"),
}


@dataclass(frozen=True)
class JobHooks:
    """What the kiosk does for the ops it supports; an op whose hook is None is REJECTED.

    Hooks run on the agent's worker thread and should return promptly (``reboot`` may
    schedule the reboot and return).
    """

    reboot: Callable[[], None] | None = None
    restart_app: Callable[[], None] | None = None
    maintenance: Callable[[bool], None] | None = None  # show or leave the page, set the state (else the agent sets it)
    capture_screen: Callable[[], bytes] | None = None  # PNG bytes of the screen
    current_config: Callable[[], dict[str, Any]] | None = None  # the config as TOML-decoded tables
    apply_config: Callable[[dict[str, Any], config_mod.Config], dict[str, Any] | None] | None = None  # extra detail
    log_lines: Callable[[int], list[str]] | None = None  # the newest n log lines


class JobError(Exception):
    """Ends a job: ``status`` REJECTED or FAILED, with a translatable reason."""

    def __init__(self, status: str, code: str, msgid: str, **params: Any):
        self.status, self.code, self.msgid, self.params = status, code, msgid, params
        super().__init__(translate(msgid, "en", **params))

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "reason": str(self), "msgid": self.msgid,
                "params": {k: str(v) for k, v in self.params.items()}}


def _rejected(code: str, msgid: str, **params: Any) -> JobError:
    return JobError(p.REJECTED, code, msgid, **params)


def _failed(code: str, msgid: str, **params: Any) -> JobError:
    return JobError(p.FAILED, code, msgid, **params)


class JobStore:
    """Each job id seen, with the status it reached, in one JSON file that survives restarts."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()  # the network thread and the worker both record
        try:
            self._jobs: dict[str, dict[str, Any]] = json.loads(path.read_text())
            if not isinstance(self._jobs, dict):
                raise ValueError("not an object")
        except FileNotFoundError:
            self._jobs = {}
        except (OSError, ValueError) as exc:
            log.warning("fleet jobs: %s unreadable (%s); starting afresh", path, exc)
            self._jobs = {}

    def get(self, job: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get(job)

    def unfinished(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {job: rec for job, rec in self._jobs.items() if rec.get("status") not in p.FINAL_STATUSES}

    def put(self, job: str, op: str, status: str, progress: int, detail: dict[str, Any]) -> None:
        with self._lock:
            self._put(job, {"op": op, "status": status, "progress": progress, "detail": detail})

    def _put(self, job: str, record: dict[str, Any]) -> None:
        self._jobs.pop(job, None)
        self._jobs[job] = record
        while len(self._jobs) > KEEP_JOBS:
            del self._jobs[next(iter(self._jobs))]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._jobs, ensure_ascii=False))
        os.replace(tmp, self.path)


class JobRunner:
    def __init__(self, store: JobStore, hooks: JobHooks, report: Report,
                 set_maintenance: Callable[[bool], None], tls: ssl.SSLContext, upload_hosts: tuple[str, ...] = ()):
        self.store, self.hooks, self._report = store, hooks, report
        self._set_maintenance, self._tls = set_maintenance, tls
        self.upload_hosts = tuple(h.lower() for h in upload_hosts)
        self._handlers: dict[str, Callable[[p.Job], dict[str, Any]]] = {
            "reboot": self._reboot, "restart_app": self._restart_app, "maintenance": self._maintenance,
            "screenshot": self._screenshot, "set_config": self._set_config, "collect_logs": self._collect_logs,
        }

    def _status(self, job: str, op: str, status: str, progress: int = 0, detail: dict[str, Any] | None = None) -> None:
        detail = detail or {}
        self.store.put(job, op, status, progress, detail)
        self._report(job, status, progress, detail)

    def receive(self, job_id: str, payload: bytes) -> p.Job | None:
        """A job message for ``job_id``: the Job to run, or None when it is already answered."""
        seen = self.store.get(job_id)
        if seen is not None:
            log.info("fleet job %s seen before: answering %s", job_id, seen["status"])
            self._report(job_id, seen["status"], seen["progress"], seen["detail"])
            return None
        try:
            job = p.Job.parse(payload)
            if job.job != job_id:
                raise p.ProtocolError("job.job", "differs from the job id in the topic")
        except p.ProtocolError as exc:
            log.warning("fleet job %s malformed: %s", job_id, exc)
            error = _rejected("job.malformed", N_("The job is malformed: {error}"), error=exc)
            self._status(job_id, "", p.REJECTED, 0, error.detail())
            return None
        if job.expired():
            self._status(job.job, job.op, p.TIMED_OUT, 0, {"expires_at": p.format_ts(job.expires_at)})
            return None
        self.store.put(job.job, job.op, p.QUEUED, 0, {})
        return job

    def run(self, job: p.Job) -> None:
        if job.expired():  # it waited behind a slow job
            self._status(job.job, job.op, p.TIMED_OUT, 0, {"expires_at": p.format_ts(job.expires_at)})
            return
        handler = self._handlers.get(job.op)
        try:
            if handler is None:
                known = job.op in p.OPS
                raise _rejected("job.unsupported_op" if known else "job.unknown_op",
                                NOT_YET.get(job.op, N_("This terminal cannot perform '{op}' yet")) if known
                                else N_("Unknown op '{op}'"), op=job.op)
            self._status(job.job, job.op, p.IN_PROGRESS, 10)
            detail = handler(job)
        except JobError as exc:
            log.warning("fleet job %s (%s): %s %s", job.job, job.op, exc.status, exc)
            self._status(job.job, job.op, exc.status, 100 if exc.status == p.FAILED else 0, exc.detail())
        except Exception as exc:  # a hook's own failure
            log.exception("fleet job %s (%s) failed", job.job, job.op)
            self._status(job.job, job.op, p.FAILED, 100,
                         _failed("job.error", N_("The job failed: {error}"), error=exc).detail())
        else:
            self._status(job.job, job.op, p.SUCCEEDED, 100, detail)

    def resume(self) -> None:
        """After a restart: a reboot or restart in progress has happened; other unfinished jobs failed."""
        for job, rec in self.store.unfinished().items():
            if rec["status"] == p.IN_PROGRESS and rec["op"] in ("reboot", "restart_app"):
                self._status(job, rec["op"], p.SUCCEEDED, 100, {"restarted": True})
            else:
                error = _failed("job.interrupted", N_("The terminal restarted before the job ended"))
                self._status(job, rec["op"], p.FAILED, 100, error.detail())

    # -- handlers: return the SUCCEEDED detail, raise JobError ---------------------------
    def _hook(self, name: str, op: str) -> Callable[..., Any]:
        hook = getattr(self.hooks, name)
        if hook is None:
            raise _rejected("job.unsupported_op", N_("This terminal cannot perform '{op}' yet"), op=op)
        return hook

    def _reboot(self, job: p.Job) -> dict[str, Any]:
        self._hook("reboot", job.op)()
        return {}

    def _restart_app(self, job: p.Job) -> dict[str, Any]:
        self._hook("restart_app", job.op)()
        return {}

    def _maintenance(self, job: p.Job) -> dict[str, Any]:
        on = job.args.get("on")
        if not isinstance(on, bool):
            raise _rejected("job.bad_args", N_("Bad arguments: {error}"), error="args.on must be true or false")
        (self.hooks.maintenance or self._set_maintenance)(on)
        return {"on": on}

    def _upload_url(self, job: p.Job) -> str:
        """``args.upload_url``: an https URL on a host of the allow-list."""
        url = job.args.get("upload_url")
        try:
            host = urlsplit(url).hostname if isinstance(url, str) and urlsplit(url).scheme == "https" else None
        except ValueError:  # a malformed port or IPv6 literal
            host = None
        if not host:
            raise _rejected("job.bad_args", N_("Bad arguments: {error}"), error="args.upload_url must be an https URL")
        if host.lower() not in self.upload_hosts:
            raise _rejected("job.upload_host", N_("Uploads to {host} are not allowed (allowed: {hosts})"),
                            host=host, hosts=", ".join(self.upload_hosts) or "-")
        return url

    def _screenshot(self, job: p.Job) -> dict[str, Any]:
        capture = self._hook("capture_screen", job.op)
        url = self._upload_url(job)
        png = capture()
        if not isinstance(png, bytes) or not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise _failed("job.screenshot", N_("The screen could not be captured"))
        return {"url": self._upload(url, png, "image/png"), "bytes": len(png)}

    def _collect_logs(self, job: p.Job) -> dict[str, Any]:
        lines_of = self._hook("log_lines", job.op)
        url = self._upload_url(job)
        count = job.args.get("lines", 500)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10000:
            raise _rejected("job.bad_args", N_("Bad arguments: {error}"), error="args.lines must be 1 to 10000")
        lines = lines_of(count)
        body = "".join(line + "\n" for line in lines).encode("utf-8")
        return {"url": self._upload(url, body, "text/plain; charset=utf-8"), "lines": len(lines)}

    def _upload(self, url: str, body: bytes, content_type: str) -> str:
        """POST ``body`` over HTTPS; the URL it is kept at (the reply's Location, else ``url``)."""
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, context=self._tls, timeout=30) as reply:
                location = reply.headers.get("Location")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise _failed("job.upload", N_("The upload failed: {error}"), error=getattr(exc, "reason", exc)) from None
        return urljoin(url, location) if location else url

    def _set_config(self, job: p.Job) -> dict[str, Any]:
        current_of = self._hook("current_config", job.op)
        apply = self._hook("apply_config", job.op)
        old = current_of()
        merged = _merge(old, dict(job.args))
        try:
            config = config_mod.parse(merged)
        except config_mod.ConfigError as exc:
            raise _rejected("job.bad_config", N_("The new config is not valid: {error}"), error=exc) from None
        try:
            extra = apply(merged, config)
        except Exception as exc:
            log.exception("fleet: applying the new config failed; rolling back")
            try:
                apply(old, config_mod.parse(old))
            except Exception:
                log.exception("fleet: rolling back the config failed too")
                raise _failed("job.config_rollback",
                              N_("Applying the config failed and so did the rollback: {error}"), error=exc) from None
            raise _failed("job.config_rolled_back", N_("Applying the config failed; the old one is back: {error}"),
                          error=exc) from None
        return {"changed": sorted(job.args), **(extra or {})}


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``change`` laid over it, table by table."""
    merged = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
