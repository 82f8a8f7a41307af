"""``fleet-manager``: ingest processes, the alert timer, retention, and the HTTPS API.

    fleet-manager --broker mqtts://broker:8883 --db sqlite:///fleet.db --listen 0.0.0.0:8443 \\
        --tls-cert manager.crt --tls-key manager.key --mqtt-password-file fleet-manager.password \\
        --ca-file ca.crt [--ingest-processes 2] [--public-url https://fleet.example:8443]
    fleet-manager add-operator NAME --role viewer|operator|technician [--password-file F] --db URL
    fleet-manager add-token NAME [--label L] [--days N] --db URL     (prints the token once)
    fleet-manager import-registry FILE.csv --db URL
    fleet-manager db-upgrade --db URL     (the schema to the newest revision; prints it before and after)
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn
from alembic.util import CommandError
from sqlalchemy import select

from fleet import alerts, auth, lifeline, migrations, registry
from fleet.api import create_app
from fleet.broker import BrokerOptions
from fleet.db import DEFAULT_URL, Database
from fleet.deps import Context
from fleet.ingest import Ingest
from fleet.jobs import Jobs, Publisher
from fleet.models import ROLES, Operator
from fleet.retention import Retention, purge
from l10n import N_

log = logging.getLogger("fleet.manager")
SWEEP_S = 30.0
PURGE_S = 3600.0
RECONNECT_S = 5.0
COMMANDS = ("add-operator", "add-token", "import-registry", "db-upgrade")


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("must be HOST:PORT")
    return host.strip("[]"), int(port)


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleet-manager", description=__doc__.split("\n")[0],
                                     epilog=f"other commands: {', '.join(COMMANDS)} (see --help of each)")
    parser.add_argument("--broker", required=True, help="mqtt://HOST:PORT or mqtts://HOST:PORT")
    parser.add_argument("--db", default=DEFAULT_URL, help=f"sqlite:///PATH or postgresql://… (default {DEFAULT_URL})")
    parser.add_argument("--listen", type=_listen, default=("127.0.0.1", 8443), help="HOST:PORT of the API")
    parser.add_argument("--ingest-processes", type=int, default=1, choices=range(1, 33), metavar="N")
    parser.add_argument("--tls-cert", help="the API's HTTPS certificate (without: plain HTTP, no uploads)")
    parser.add_argument("--tls-key")
    parser.add_argument("--public-url", help="https://HOST:PORT as kiosks reach the API (default from --listen)")
    parser.add_argument("--mqtt-user", default="fleet-manager")
    parser.add_argument("--mqtt-password-file", default="")
    parser.add_argument("--ca-file", default="", help="the fleet CA that signed the broker's certificate")
    parser.add_argument("--mqtt-cert", default="", help="the manager's client certificate, if the broker asks")
    parser.add_argument("--mqtt-key", default="")
    parser.add_argument("--raw-metrics-days", type=int, default=Retention.raw_metrics_days)
    parser.add_argument("--hourly-days", type=int, default=Retention.hourly_days)
    parser.add_argument("--events-days", type=int, default=Retention.events_days)
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def _command_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleet-manager")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("add-operator", help="add an operator")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--password-file", help="a file holding the password (without: API tokens only)")
    p = sub.add_parser("add-token", help="make an API token for an operator (printed once)")
    p.add_argument("name")
    p.add_argument("--label", default="")
    p.add_argument("--days", type=int, help="valid this many days (default: until revoked)")
    p = sub.add_parser("import-registry", help="load stations and terminals from a registry CSV")
    p.add_argument("file")
    sub.add_parser("db-upgrade", help="bring the schema to the newest revision (every command does), saying which")
    for p in sub.choices.values():
        p.add_argument("--db", default=DEFAULT_URL)
    return parser


def _command(argv: list[str]) -> int:
    args = _command_parser().parse_args(argv)
    db = Database(args.db)
    try:
        before, after = migrations.upgrade(db.engine)
        if args.command == "db-upgrade":
            print(f"schema revision: {before or 'none'} -> {after}")
            return 0
        with db.session(write=True) as session:
            if args.command == "add-operator":
                password = Path(args.password_file).read_text(encoding="utf-8").strip() if args.password_file else ""
                added = auth.add_operator(session, args.name, args.role, password)
                auth.audit(session, "(console)", "operator.add", added.name, role=added.role)
                print(f"{added.name}: {added.role}")
            elif args.command == "add-token":
                who = session.scalar(select(Operator).where(Operator.name == args.name))
                if who is None:
                    raise auth.AuthError(N_("No operator {name}."), name=args.name)
                token, secret = auth.issue_token(session, who, "api", args.label,
                                                 timedelta(days=args.days) if args.days else None)
                auth.audit(session, "(console)", "token.add", who.name, token=token.id, label=args.label)
                print(secret)
            else:
                counts = registry.load(session, registry.parse(Path(args.file).read_text(encoding="utf-8")))
                auth.audit(session, "(console)", "registry.import", args.file, **counts)
                print(f"{counts['stations']} stations, {counts['devices']} terminals")
    except (auth.AuthError, registry.RegistryError, OSError, CommandError) as exc:
        print(f"fleet-manager: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def run_ingest(db_url: str, broker: BrokerOptions, index: int, log_level: str = "INFO") -> None:
    """One ingest process: runs until SIGTERM, which also comes when the manager ends, even killed."""
    logging.basicConfig(level=log_level, format=f"%(asctime)s ingest-{index} %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if (parent := multiprocessing.parent_process()) is not None:
        lifeline.die_with_parent(parent.pid)
    ingest = Ingest(Database(db_url), broker, f"fleet-ingest-{index}", retained_snapshot=index == 0)
    while not stop.is_set():
        try:
            ingest.start()
            break
        except ConnectionError as exc:
            log.warning("%s; trying again in %.0f s", exc, RECONNECT_S)
            stop.wait(RECONNECT_S)
    stop.wait()
    ingest.stop()


def housekeeping(db: Database, jobs: Jobs, retention: Retention, stop: threading.Event) -> None:
    """Each ``SWEEP_S``: every device's alerts (a silent terminal goes offline) and the jobs that
    expired unanswered; hourly: retention."""
    purged_at = 0.0
    while not stop.wait(SWEEP_S):
        try:
            opened, resolved = alerts.sweep(db)
            if opened or resolved:
                log.info("alerts: %d opened, %d resolved", opened, resolved)
            if expired := jobs.expire_unanswered():
                log.info("jobs: %d targets expired unanswered", expired)
            if time.monotonic() - purged_at > PURGE_S:
                purged_at = time.monotonic()
                log.info("retention: deleted %s", purge(db, retention))
        except Exception:
            log.exception("housekeeping failed; trying again in %.0f s", SWEEP_S)


def serve(argv: list[str]) -> int:
    args = _serve_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if bool(args.tls_cert) != bool(args.tls_key):
        print("fleet-manager: give both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    try:
        broker = BrokerOptions(args.broker, args.mqtt_user, args.mqtt_password_file, args.ca_file, args.mqtt_cert,
                               args.mqtt_key)
        retention = Retention(args.raw_metrics_days, args.hourly_days, args.events_days)
    except ValueError as exc:
        print(f"fleet-manager: {exc}", file=sys.stderr)
        return 2
    host, port = args.listen
    wildcard = host in ("0.0.0.0", "::", "")
    public = args.public_url or (f"https://{host}:{port}" if args.tls_cert and not wildcard else "")
    db = Database(args.db).create()
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=run_ingest, args=(args.db, broker, i, args.log_level), name=f"ingest-{i}")
               for i in range(args.ingest_processes)]
    for worker in workers:
        worker.start()
    publisher = Publisher(broker)
    stop = threading.Event()
    try:
        publisher.start()
        jobs = Jobs(db, publisher, public)
        threading.Thread(target=housekeeping, args=(db, jobs, retention, stop), daemon=True).start()
        app = create_app(Context(db, jobs, secure_cookies=bool(args.tls_cert)))
        if not public.startswith("https://"):
            log.warning("no HTTPS address kiosks can reach (--tls-cert, --public-url): screenshot and "
                        "collect_logs jobs are refused")
        for sig in (signal.SIGTERM, signal.SIGINT):  # uvicorn re-raises them after its graceful shutdown
            signal.signal(sig, lambda *_: sys.exit(0))
        uvicorn.run(app, host=host, port=port, ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
                    log_level=args.log_level.lower())
    except ConnectionError as exc:
        print(f"fleet-manager: {exc}", file=sys.stderr)
        return 1
    finally:
        stop.set()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(15)
        publisher.stop()
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return _command(argv) if argv and argv[0] in COMMANDS else serve(argv)


if __name__ == "__main__":
    sys.exit(main())
