"""``kioskctl``: the fleet from a technician's or operator's terminal, through the manager's API.

    kioskctl devices [--township T] [--state S] [--problems] [--json]
    kioskctl device ID [--json]
    kioskctl alerts [--open] [--json]          kioskctl alerts ack ID | alerts resolve ID
    kioskctl stations [--days N] [--township T] [--json]
    kioskctl job OP [--args JSON] (--device ID | --group G) [--expires 10m] [--watch] [--timeout 10m]

The manager is ``--url`` (or $KIOSKCTL_URL, default https://127.0.0.1:8443); the API token
is read from ``--token-file`` (or $KIOSKCTL_TOKEN_FILE), else taken from $KIOSKCTL_TOKEN;
``fleet-manager add-token NAME`` makes one. Exit codes: 0 done, 1 a job did not succeed on
every terminal, 2 a usage error or a refused request, 3 the manager unreachable or a
watch timed out. Messages are Chinese unless ``--lang en``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from fleet.kioskctl_api import UNREACHABLE, USAGE, Api, ApiError, segment
from fleet.kioskctl_view import Progress, pairs, table, word
from l10n import LANGUAGES, N_, translate

OK, JOB_FAILED, INTERRUPTED = 0, 1, 130
DEFAULT_URL = "https://127.0.0.1:8443"
DURATION = re.compile(r"(\d+)([smhd]?)")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
POLL_S = 1.0


class Usage(Exception):
    """A mistake on the command line, shown with argparse's usage and exit code 2."""


def duration(text: str) -> int:
    """``90``, ``90s``, ``10m``, ``2h``, ``1d`` → seconds."""
    match = DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: use seconds or 90s, 10m, 2h, 1d")
    return int(match.group(1)) * UNITS[match.group(2)]


def local_time(value: str | None) -> str:
    """An RFC 3339 time from the manager in this computer's time zone, to the second."""
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


class Ctl:
    def __init__(self, api: Api, lang: str, out=sys.stdout):
        self.api, self.lang, self.out = api, lang, out

    def t(self, msgid: str, **params: Any) -> str:
        return translate(msgid, self.lang, **params)

    def show(self, text: str) -> None:
        print(text, file=self.out)

    def dump(self, data: Any) -> None:
        self.show(json.dumps(data, ensure_ascii=False, indent=2))

    def headers(self, *msgids: str) -> list[str]:
        return [self.t(m) for m in msgids]

    # -- reading -------------------------------------------------------------------------------
    def devices(self, args: argparse.Namespace) -> int:
        data = self.api.get("/devices", township=args.township, state=args.state, problems=args.problems and 1,
                            limit=args.limit)
        if args.json:
            self.dump(data)
            return OK
        rows = [[d["id"], d.get("station") or "-", d.get("township") or "-", word(d.get("state"), self.lang),
                 str(d.get("alerts", 0)), ", ".join(d.get("parts_in_trouble") or ()) or "-",
                 d.get("version") or "-", local_time(d.get("last_seen"))] for d in data["devices"]]
        self.show(table(self.headers(N_("Terminal"), N_("Station"), N_("Township"), N_("State"), N_("Alerts"),
                                     N_("Parts in trouble"), N_("Version"), N_("Last heard")), rows))
        self.show(self.t(N_("{shown} of {total} terminals"), shown=len(rows), total=data["total"]))
        return OK

    def device(self, args: argparse.Namespace) -> int:
        d = self.api.get(f"/devices/{segment(args.id)}")
        if args.json:
            self.dump(d)
            return OK
        system = d.get("system") or {}
        facts = [(N_("Terminal"), d["id"]), (N_("Station"), d.get("station")), (N_("Township"), d.get("township")),
                 (N_("Tier"), word(d.get("tier"), self.lang)), (N_("Groups"), " ".join(d.get("groups") or ())),
                 (N_("State"), f"{word(d.get('state'), self.lang)} ({local_time(d.get('state_since'))})"),
                 (N_("Last heard"), local_time(d.get("last_seen"))), (N_("Version"), d.get("version")),
                 (N_("Free disk (MB)"), system.get("disk_free_mb")), (N_("Cases waiting to be sent"),
                                                                      d.get("outbox_pending"))]
        self.show(pairs([(self.t(k), word(v, self.lang)) for k, v in facts]))
        parts = [[x["name"], x["kind"], word(x["status"], self.lang),
                  " ".join(f"{k}={v}" for k, v in (x.get("detail") or {}).items() if v != "")]
                 for x in d.get("parts") or ()]
        self._section(N_("Parts"), self.headers(N_("Part"), N_("Kind"), N_("Status"), N_("Detail")), parts)
        alerts = [[str(a["id"]), a["rule"], a.get("part") or "-", word(a["severity"], self.lang),
                   word(a["state"], self.lang), local_time(a.get("opened_at"))] for a in d.get("alerts") or ()]
        self._section(N_("Alerts"), self.headers(N_("Alert"), N_("Rule"), N_("Part"), N_("Severity"), N_("State"),
                                                 N_("Opened")), alerts)
        events = [[local_time(e.get("ts")), e.get("type", ""), word(e.get("severity"), self.lang),
                   e.get("message") or ""] for e in (d.get("events") or ())[:10]]
        self._section(N_("Recent events"), self.headers(N_("Time"), N_("Event"), N_("Severity"), N_("Message")),
                      events)
        return OK

    def _section(self, title: str, headers: list[str], rows: list[list[str]]) -> None:
        self.show(f"\n{self.t(title)}")
        self.show(table(headers, rows) if rows else self.t(N_("(none)")))

    def alerts(self, args: argparse.Namespace) -> int:
        if args.action:
            if args.id is None:
                raise Usage(self.t(N_("Give the alert's number: kioskctl alerts {action} ID"), action=args.action))
            alert = self.api.post(f"/alerts/{args.id}/{args.action}")
            done = N_("Alert {id} acknowledged") if args.action == "ack" else N_("Alert {id} resolved")
            self.show(self.t(done, id=alert["id"]))
            return OK
        data = self.api.get("/alerts", state="open" if args.open else "active", limit=args.limit)
        if args.json:
            self.dump(data)
            return OK
        rows = [[str(a["id"]), a["rule"], a["device"], a.get("station") or "-", a.get("part") or "-",
                 word(a["severity"], self.lang), word(a["state"], self.lang), local_time(a.get("opened_at"))]
                for a in data["alerts"]]
        self.show(table(self.headers(N_("Alert"), N_("Rule"), N_("Terminal"), N_("Station"), N_("Part"),
                                     N_("Severity"), N_("State"), N_("Opened")), rows))
        self.show(self.t(N_("{shown} of {total} alerts"), shown=len(rows), total=data["total"]))
        return OK

    def stations(self, args: argparse.Namespace) -> int:
        data = self.api.get("/stations", days=args.days, township=args.township)
        if args.json:
            self.dump(data)
            return OK
        rows = [[s["name"], s.get("township") or "-", word(s.get("tier"), self.lang),
                 f"{s.get('online', 0)}/{s.get('devices', 0)}", str(s.get("cases", 0)),
                 word(s.get("cases_per_staff_day"), self.lang), word(s.get("tier_threshold"), self.lang),
                 word(s.get("meets_tier"), self.lang), word(s.get("avg_wait_s"), self.lang),
                 "-" if s.get("satisfaction") is None else f"{100 * s['satisfaction']:.1f}%"]
                for s in data["stations"]]
        self.show(table(self.headers(N_("Station"), N_("Township"), N_("Tier"), N_("Online"), N_("Cases"),
                                     N_("Cases per staff a day"), N_("Tier threshold"), N_("Meets tier"),
                                     N_("Average wait (s)"), N_("Satisfaction")), rows))
        self.show(self.t(N_("Over the last {days} days"), days=data.get("days", args.days)))
        return OK

    # -- jobs ----------------------------------------------------------------------------------
    def job(self, args: argparse.Namespace) -> int:
        try:
            job_args = json.loads(args.args)
        except ValueError as exc:
            raise Usage(self.t(N_("--args is not JSON: {error}"), error=exc)) from None
        if not isinstance(job_args, dict):
            raise Usage(self.t(N_("--args must be a JSON object, e.g. '{example}'"), example='{"on": true}'))
        body = {"op": args.op, "args": job_args, "device": args.device or "", "group": args.group or "",
                "expires_in_s": args.expires}
        job = self.api.post("/jobs", body)
        target = args.device or self.t(N_("group {group}"), group=args.group)
        self.show(self.t(N_("Job {job}: {op} to {target}, {count} terminals"), job=job["id"], op=job["op"],
                         target=target, count=len(job.get("targets") or ())))
        if not args.watch:
            return OK
        return self.watch(job["id"], args.expires + 60 if args.timeout is None else args.timeout)

    def watch(self, job_id: str, timeout_s: float) -> int:
        """Follow the job until every target is final; exit code 1 if any did not succeed."""
        progress = Progress(self.out, self.lang, self.out.isatty())
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                job = self.api.get(f"/jobs/{segment(job_id)}")
            except ApiError as exc:
                if exc.code != UNREACHABLE:
                    raise
                print(translate(exc.msgid, self.lang, **exc.params), file=sys.stderr)
            else:
                progress.update(job["targets"])
                if job["done"]:
                    return self._summary(job)
            if time.monotonic() >= deadline:
                raise ApiError(UNREACHABLE, N_("Gave up waiting for job {job} after {seconds} s"), job=job_id,
                               seconds=round(timeout_s))
            time.sleep(POLL_S)

    def _summary(self, job: dict[str, Any]) -> int:
        counts = job.get("counts") or {}
        if not job["targets"]:
            self.show(self.t(N_("No terminal took part in this job")))
            return OK
        self.show(", ".join(f"{word(status, self.lang)} {n}" for status, n in sorted(counts.items())))
        return OK if set(counts) <= {"SUCCEEDED"} else JOB_FAILED


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="kioskctl", description="The village kiosk fleet, through its manager.")
    top.add_argument("--url", default=os.environ.get("KIOSKCTL_URL", DEFAULT_URL), help="the manager's URL")
    top.add_argument("--token-file", default=os.environ.get("KIOSKCTL_TOKEN_FILE", ""), help="file with the API token")
    top.add_argument("--ca-file", default=os.environ.get("KIOSKCTL_CA_FILE", ""),
                     help="CA of the manager's certificate")
    top.add_argument("--lang", choices=LANGUAGES, default=os.environ.get("KIOSKCTL_LANG", "zh_CN"))
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("devices", help="list terminals")
    p.add_argument("--township", default="")
    p.add_argument("--state", default="", choices=("", "online", "maintenance", "out_of_service", "offline", "unknown"))
    p.add_argument("--problems", action="store_true", help="only terminals with an unresolved alert")
    p.add_argument("--limit", type=int, default=1000)
    p = sub.add_parser("device", help="one terminal in detail")
    p.add_argument("id")
    p = sub.add_parser("alerts", help="list alerts, or acknowledge or resolve one")
    p.add_argument("action", nargs="?", choices=("ack", "resolve"))
    p.add_argument("id", nargs="?", type=int)
    p.add_argument("--open", action="store_true", help="only open ones (default: open and acknowledged)")
    p.add_argument("--limit", type=int, default=200)
    p = sub.add_parser("stations", help="station figures")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--township", default="")
    p = sub.add_parser("job", help="issue a job to a terminal or a group")
    p.add_argument("op")
    p.add_argument("--args", default="{}", help='the op\'s arguments as JSON, e.g. \'{"on": true}\'')
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--device")
    target.add_argument("--group")
    p.add_argument("--expires", type=duration, default=3600, help="e.g. 10m (default 1h)")
    p.add_argument("--watch", action="store_true", help="follow the job until every terminal is done")
    p.add_argument("--timeout", type=duration, help="stop watching after this long (default: expiry + 1m)")
    for name in ("devices", "device", "alerts", "stations"):
        sub.choices[name].add_argument("--json", action="store_true", help="the manager's JSON as it is")
    return top


def token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            return Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ApiError(USAGE, N_("Cannot read the token file {path}: {error}"), path=args.token_file,
                           error=exc.strerror or exc) from None
    if os.environ.get("KIOSKCTL_TOKEN"):
        return os.environ["KIOSKCTL_TOKEN"].strip()
    raise ApiError(USAGE, N_("No API token: give --token-file or set KIOSKCTL_TOKEN "
                             "(fleet-manager add-token NAME makes one)"))


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    try:
        ctl = Ctl(Api(args.url, token(args), args.ca_file), args.lang)
        return getattr(ctl, args.command)(args)
    except Usage as exc:
        top.error(str(exc))
    except ApiError as exc:
        print(f"kioskctl: {translate(exc.msgid, args.lang, **exc.params)}", file=sys.stderr)
        return exc.code
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:  # an answer of another shape
        message = translate(N_("The fleet manager's answer is not what kioskctl expects: {error}"), args.lang,
                            error=repr(exc))
        print(f"kioskctl: {message}", file=sys.stderr)
        return UNREACHABLE
    except KeyboardInterrupt:
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
