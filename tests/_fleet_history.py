"""History for the dashboard's tests, screenshots and benchmark: simulated terminals' past days,
written through the manager's own writer (``fleet.writer``, what ingest calls).

``fleet.sim_kiosk`` models each terminal; its messages are re-stamped with the simulated
time they stand for (the live sim stamps them with the wall clock), hour by hour, so the
charts and station figures have days behind them. The registry comes first
(``fleet.registry``), as ``fleet-manager import-registry`` would load it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from fleet import protocol as p
from fleet import registry
from fleet.db import Database
from fleet.sim import catalog_items
from fleet.sim_kiosk import Out, SimClock, SimKiosk
from fleet.sim_layout import SimTerminal
from fleet.writer import Incoming, Writer

BATCH = 2000


def restamped(out: Out, at: datetime) -> Incoming:
    topic, payload = p.parse_message(out.topic, out.payload)
    stamp = dataclasses.replace(payload.stamp, ts=at)  # type: ignore[attr-defined]
    return Incoming(topic, dataclasses.replace(payload, stamp=stamp), at)


def messages(terminals: Sequence[SimTerminal], days: float, end: datetime, *, seed: int = 0,
             fault_rate: float = 1.0, metrics: bool = True) -> Iterator[Incoming]:
    """Each terminal's ``days`` up to ``end``: its state, then each hour's metrics and faults, and its
    health at the end (``metrics=False``: faults only, for a large fleet's latest state)."""
    clock = SimClock(end - timedelta(days=days))
    items = catalog_items()
    hours = round(days * 24)
    for terminal in terminals:
        kiosk = SimKiosk(terminal, clock, items, seed=seed, fault_rate=fault_rate)
        yield restamped(kiosk.state_message(), clock.start)
        yield restamped(kiosk.health(0.0), clock.start)
        offline_until = 0.0
        for hour in range(1, hours + 1):
            sim_s = hour * 3600.0
            at = clock.start + timedelta(seconds=sim_s)
            outs = kiosk.metrics(sim_s, 3600.0) if metrics else []
            faults, offline_s = kiosk.faults(sim_s, 3600.0)
            for out in [*outs, *faults]:
                yield restamped(out, at)
            if offline_s:
                offline_until = sim_s + offline_s
        if offline_until > hours * 3600.0 - 3600.0:  # it went silent in the last hour: its will came
            yield restamped(kiosk.state_message("offline"), end)
        else:
            yield restamped(kiosk.health(hours * 3600.0), end)


def seed(db: Database, terminals: Sequence[SimTerminal], days: float, end: datetime, **options: object) -> int:
    """Register ``terminals`` and write their history; returns how many messages were written."""
    with db.session(write=True) as session:
        registry.load(session, [{**t.row(), "groups": list(t.groups)} for t in terminals])
    writer, batch, count = Writer(db), [], 0
    for message in messages(terminals, days, end, **options):
        batch.append(message)
        if len(batch) >= BATCH:
            count += writer.write(batch).messages
            batch = []
    return count + (writer.write(batch).messages if batch else 0)
