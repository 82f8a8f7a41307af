"""``fleet-sim``: thousands of simulated terminals speaking fleet protocol v1, for demos and load tests.

    fleet-sim --broker mqtt://127.0.0.1:1883 --count 3000 --processes 3
    fleet-sim --count 3000 --registry-csv registry.csv      # the registry only, then exit
    fleet-sim --broker mqtts://fleet.example:8883 --count 50 --ca-file ca.crt \\
        --password-file 'creds/{id}.password' --cert-file 'creds/{id}.crt' --key-file 'creds/{id}.key'

The layout (ids ``<prefix>-00000`` …, stations, townships, groups, tiers) comes from
``--seed`` alone, so ``--registry-csv`` gives the manager the same fleet. Each process
runs its share of the terminals on one network loop (``fleet.sim_swarm``). ``--speed``
runs simulated time faster: intervals shrink and days pass sooner. SIGINT or SIGTERM
ends it cleanly: every terminal says ``offline`` and disconnects.
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import ssl
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from fleet import sim_layout
from fleet.protocol import now
from fleet.sim_kiosk import SimClock, SimKiosk
from fleet.sim_swarm import Link, Swarm, parent_watch

log = logging.getLogger("fleet.sim")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fleet-sim", description="Simulated kiosk terminals for the fleet manager.")
    parser.add_argument("--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT")
    parser.add_argument("--count", type=int, required=True, help="number of terminals")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--prefix", default="sim", help="device id prefix (default sim)")
    parser.add_argument("--seed", type=int, default=0, help="layout and behaviour seed (default 0)")
    parser.add_argument("--township-count", type=int, help="townships (default one per 30 terminals)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second (default 1)")
    parser.add_argument("--fault-rate", type=float, default=1.0, help="multiplies every fault's rate (default 1)")
    parser.add_argument("--connect-rate", type=float, default=500.0,
                        help="new connections a second per process (default 500)")
    parser.add_argument("--registry-csv", help="write the fleet's registry to this CSV file")
    parser.add_argument("--user", default="", help="broker username (default: each terminal's id)")
    parser.add_argument("--password-file", default="", help="broker password file; {id} is the terminal's id")
    parser.add_argument("--ca-file", default="", help="CA of the broker's TLS certificate (mqtts)")
    parser.add_argument("--cert-file", default="", help="client certificate (mqtts); {id} is the terminal's id")
    parser.add_argument("--key-file", default="", help="client key (mqtts); {id} is the terminal's id")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.broker is None and args.registry_csv is None:
        parser.error("give --broker, --registry-csv, or both")
    if args.broker is not None:
        url = urlsplit(args.broker)
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
            parser.error("--broker must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if not 1 <= args.processes <= max(1, args.count):
        parser.error("--processes must be between 1 and --count")
    if not (args.speed > 0 and args.fault_rate >= 0 and args.connect_rate > 0):
        parser.error("--speed and --connect-rate must be positive, --fault-rate not negative")
    if ("{id}" in args.cert_file + args.key_file) and args.user:
        parser.error("per-terminal certificates need the terminals' own usernames (leave out --user)")
    return args


def catalog_items() -> tuple[str, ...]:
    """The item codes of the bundled catalog, for ``cases_by_item``."""
    from kiosk.catalog import BUNDLED, load_catalog

    return tuple(str(item.code) for item in load_catalog(BUNDLED))


def link_of(args: argparse.Namespace, kiosk: str) -> Link:
    url = urlsplit(args.broker)
    tls = None
    if url.scheme == "mqtts":
        tls = ssl.create_default_context(cafile=args.ca_file or None)
        if args.cert_file:
            tls.load_cert_chain(args.cert_file.replace("{id}", kiosk), args.key_file.replace("{id}", kiosk) or None)
    return Link(url.hostname, url.port or (8883 if tls else 1883), tls, args.user, args.password_file)


def run_share(args: argparse.Namespace, terminals: list[sim_layout.SimTerminal],
              should_stop: Callable[[], bool]) -> None:
    """Run ``terminals`` in this process until ``should_stop``."""
    clock = SimClock(now())
    items = catalog_items()
    models = [SimKiosk(t, clock, items, seed=args.seed, fault_rate=args.fault_rate) for t in terminals]
    shared = link_of(args, terminals[0].id)
    own = "{id}" in args.cert_file  # a TLS context per terminal, each with its own certificate
    swarm = Swarm(models, (lambda kiosk: link_of(args, kiosk)) if own else (lambda kiosk: shared),
                  speed=args.speed, connect_rate=args.connect_rate,
                  upload_tls=ssl.create_default_context(cafile=args.ca_file or None))
    swarm.run(should_stop)


def _stop_flag() -> Callable[[], bool]:
    """A check that turns True on SIGINT or SIGTERM."""
    stop: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, frame: stop.append(number))
    return lambda: bool(stop)


def _worker(args: argparse.Namespace, terminals: list[sim_layout.SimTerminal], parent: int) -> None:
    _logging(args.verbose)
    flag, orphaned = _stop_flag(), parent_watch(parent)
    run_share(args, terminals, lambda: flag() or orphaned())


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s fleet-sim[%(process)d] %(message)s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _logging(args.verbose)
    try:
        terminals = sim_layout.layout(args.count, args.prefix, args.seed, args.township_count)
    except ValueError as exc:
        print(f"fleet-sim: {exc}", file=sys.stderr)
        return 2
    if args.registry_csv:
        sim_layout.write_csv(terminals, args.registry_csv)
        log.info("fleet-sim: wrote the registry of %d terminals to %s", len(terminals), args.registry_csv)
    if args.broker is None:
        return 0
    try:  # the credentials of the first terminal stand for all: a wrong path shows at once
        link_of(args, terminals[0].id).password(terminals[0].id)
    except (OSError, ssl.SSLError) as exc:
        print(f"fleet-sim: cannot use the broker credentials: {exc}", file=sys.stderr)
        return 2
    if args.processes == 1:
        run_share(args, terminals, _stop_flag())
        return 0
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(args, terminals[k::args.processes], os.getpid()),
                               name=f"fleet-sim-{k}") for k in range(args.processes)]
    for worker in workers:
        worker.start()
    forward = lambda number, frame: [os.kill(w.pid, signal.SIGTERM) for w in workers if w.is_alive()]  # noqa: E731
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for worker in workers:
        worker.join()
    return 0 if all(w.exitcode == 0 for w in workers) else 1


if __name__ == "__main__":
    sys.exit(main())
