"""How a simulated terminal answers jobs: the steps of each op, as the real kiosk reports them.

``plan`` turns a job into the status reports to send and when (simulated seconds after
it arrived): ``IN_PROGRESS`` with rising progress, then ``SUCCEEDED``; ``REJECTED`` for
an unknown op or bad args, as ``kiosk.fleet_jobs`` words it. Some steps carry an
``effect`` the terminal acts on: a restart, a maintenance switch, a new version.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fleet import protocol as p

SHA256 = re.compile(r"[0-9a-f]{64}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}")
RESTART_S = {"reboot": 60.0, "restart_app": 12.0, "update": 45.0}  # simulated downtime


@dataclass(frozen=True)
class Step:
    after_s: float  # simulated seconds after the job arrived
    status: str
    progress: int
    detail: dict[str, Any] = field(default_factory=dict)
    # ("restart", downtime_s) | ("maintenance", bool) | ("version", str) | ("upload", (op, url, lines)):
    # an upload's SUCCEEDED or FAILED follows when it ends
    effect: tuple[str, Any] | None = None


def rejected(code: str, reason: str) -> list[Step]:
    return [Step(0.0, p.REJECTED, 0, {"code": code, "reason": reason})]


def _bad_args(error: str) -> list[Step]:
    return rejected("job.bad_args", f"Bad arguments: {error}")


def _upload_url(args: dict[str, Any]) -> str | None:
    url = args.get("upload_url")
    return url if isinstance(url, str) and url.startswith("https://") and len(url) > 8 else None


def plan(job: p.Job) -> list[Step]:
    """The reports for ``job`` (not expired, not seen before), in order."""
    args, op = dict(job.args), job.op
    start = Step(0.0, p.IN_PROGRESS, 10)
    if op not in p.OPS:
        return rejected("job.unknown_op", f"Unknown op '{op}'")
    if op in ("reboot", "restart_app"):
        downtime = RESTART_S[op]
        return [start, Step(2.0, p.IN_PROGRESS, 50, effect=("restart", downtime)),
                Step(3.0 + downtime, p.SUCCEEDED, 100, {"restarted": True})]
    if op == "maintenance":
        if not isinstance(args.get("on"), bool):
            return _bad_args("args.on must be true or false")
        return [start, Step(1.0, p.SUCCEEDED, 100, {"on": args["on"]}, ("maintenance", args["on"]))]
    if op in ("screenshot", "collect_logs"):
        url = _upload_url(args)
        if url is None:
            return _bad_args("args.upload_url must be an https URL")
        lines = args.get("lines", 500)
        if op == "collect_logs" and (not isinstance(lines, int) or isinstance(lines, bool) or not 1 <= lines <= 10000):
            return _bad_args("args.lines must be 1 to 10000")
        return [start, Step(2.0, p.IN_PROGRESS, 40, effect=("upload", (op, url, lines)))]
    if op == "set_config":
        if not args or not all(isinstance(value, dict) for value in args.values()):
            return rejected("job.bad_config", "The new config is not valid: args must be tables of the config")
        return [start, Step(2.0, p.SUCCEEDED, 100, {"changed": sorted(args)})]
    if op == "push_content":
        if not isinstance(args.get("sha256"), str) or not SHA256.fullmatch(args["sha256"]):
            return _bad_args("args.sha256 must be 64 hex digits")
        return [start, *(Step(5.0 * k, p.IN_PROGRESS, 10 + 20 * k) for k in range(1, 5)),
                Step(25.0, p.SUCCEEDED, 100, {"sha256": args["sha256"]})]
    # update
    version = args.get("version")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        return _bad_args("args.version must be a version string")
    downtime = RESTART_S["update"]
    fetch = [Step(6.0 * k, p.IN_PROGRESS, 10 + 15 * k) for k in range(1, 5)]
    return [start, *fetch, Step(26.0, p.IN_PROGRESS, 85, {"verified": True}, ("version", version)),
            Step(27.0, p.IN_PROGRESS, 90, effect=("restart", downtime)),
            Step(28.0 + downtime, p.SUCCEEDED, 100, {"version": version, "restarted": True})]
