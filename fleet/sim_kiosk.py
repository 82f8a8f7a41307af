"""One simulated terminal's behaviour: its devices, a day of citizens, faults and recoveries.

Pure model, no network: every method returns the messages to send as ``Out`` (topic,
payload, QoS, retained) built with ``fleet.protocol``. Time is simulated seconds since
the simulation began (``SimClock``), so ``--speed`` compresses days for demos. Rates
are per simulated day and scaled by ``fault_rate``.
"""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from fleet import protocol as p
from fleet.sim_jobs import Step, plan, rejected
from fleet.sim_layout import SimTerminal

CHINA = timezone(timedelta(hours=8))
DAY = 86400.0
ROLL = 300  # receipts on a full roll
NEAR_END = 30  # receipts left when the near-end sensor trips
KEEP_JOBS = 500  # job ids remembered for de-duplication, as the kiosk does
# Share of the tier's peak visits per hour of the day (local time): mornings and early afternoons.
HOURLY = (0.02, 0.01, 0.01, 0.01, 0.02, 0.04, 0.1, 0.35, 0.8, 1.0, 1.0, 0.8,
          0.45, 0.5, 0.85, 0.95, 0.8, 0.55, 0.35, 0.25, 0.15, 0.08, 0.05, 0.03)
PEAK_VISITS = {"demonstration": 7.0, "standard": 4.5, "simple": 2.5}  # per hour at the busiest
EVALUATION_SHARES = (0.72, 0.21, 0.05, 0.013, 0.007)  # very satisfied … very dissatisfied
# Mean days between onsets at fault_rate 1, and mean hours to recover.
FAULTS = {"idcard": (40.0, 1.5), "offline": (4.0, 0.4), "disk": (150.0, 12.0), "outbox": (20.0, 2.0)}
FAULT_EVENTS = {  # fault: (the event as it begins, as it ends): type, severity, device, message
    "idcard": (("idcard.error", "critical", "idcard", "ID card reader does not answer"),
               ("idcard.recovered", "info", "idcard", "ID card reader answers again")),
    "disk": (("system.disk_low", "warning", "", "Free disk space is low"),
             ("system.disk_ok", "info", "", "Disk space freed")),
    "outbox": (("outbox.stuck", "warning", "", "Cases are not reaching the government platform"),
               ("outbox.drained", "info", "", "Waiting cases sent to the government platform")),
    "paper": (("printer.paper_out", "critical", "receipt", "Receipt printer out of paper"),
              ("printer.paper_ok", "info", "receipt", "New paper roll loaded")),
}
DEVICES = {  # name: (kind, detail when healthy)
    "idcard": ("idcard", {"card": "absent"}),
    "staffcard": ("smartcard", {"reader": "present", "card": "absent"}),
    "receipt": ("receipt_printer", {"paper": "ok", "cover": "closed", "error": "none"}),
    "a4": ("a4_printer", {"queue_state": "idle", "message": ""}),
    "scanner": ("scanner", {"error": ""}),
    "camera": ("camera", {"error": ""}),
}


class Out(NamedTuple):
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True)
class SimClock:
    """Simulated time: ``start`` (a wall-clock instant) plus simulated seconds."""

    start: datetime

    def local(self, sim_s: float) -> datetime:
        return (self.start + timedelta(seconds=sim_s)).astimezone(CHINA)

    def staffed(self, sim_s: float, tier: str) -> bool:
        """Whether agents are at the station: working hours; demonstration stations every day,
        the others Monday, Wednesday and Friday (DOMAIN.md: at least 3 days a week)."""
        at = self.local(sim_s)
        day_ok = at.weekday() < 5 if tier == "demonstration" else at.weekday() in (0, 2, 4)
        return day_ok and 8.5 <= at.hour + at.minute / 60 < 17.5


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; a rounded normal for large means)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def binomial(rng: random.Random, n: int, share: float) -> int:
    return sum(rng.random() < share for _ in range(n))


class SimKiosk:
    def __init__(self, terminal: SimTerminal, clock: SimClock, items: tuple[str, ...], *, seed: int = 0,
                 fault_rate: float = 1.0, version: str = "1.4.2"):
        self.terminal, self.id, self.clock = terminal, terminal.id, clock
        self.rng = random.Random(f"{seed}/{terminal.id}")
        self.fault_rate, self.version = fault_rate, version
        ranked = list(items)
        self.rng.shuffle(ranked)  # each station has its own most asked-for items (Zipf)
        self.items, self.item_weights = tuple(ranked), tuple(1.0 / (k + 1) for k in range(len(ranked)))
        self.devices = {name: [kind, "online", dict(detail)] for name, (kind, detail) in DEVICES.items()}
        self.paper_left = self.rng.randint(NEAR_END + 1, ROLL)
        self.disk_free_mb = self.rng.uniform(9000.0, 28000.0)
        self.net = "wwan0" if self.rng.random() < 0.25 else "eth0"
        self.state = "online"
        self.waiting = 0
        self.outbox_pending = 0
        self.repairs: dict[str, float] = {}  # fault → simulated second it ends
        self.jobs: dict[str, Step] = {}  # job id → the last status reported
        self.boot(0.0)

    # -- identity of this boot ------------------------------------------------------------
    def boot(self, sim_s: float) -> None:
        """A new boot: a new ``boot_id``, ``seq`` and ``conn`` from 0."""
        self.boot_id, self.seq, self.conn, self.booted_at = uuid.uuid4().hex[:16], 0, 0, sim_s

    def stamp(self) -> p.Stamp:
        self.seq += 1
        return p.Stamp(p.now(), self.seq - 1, self.boot_id)

    # -- messages -------------------------------------------------------------------------
    def state_message(self, state: str | None = None) -> Out:
        message = p.State(self.stamp(), state or self.state, self.conn, self.version, self.terminal.station,
                          self.terminal.groups)
        return Out(p.state_topic(self.id), message.to_json(), 1, True)

    def health(self, sim_s: float, qos: int = 0) -> Out:
        devices = {name: p.DeviceHealth(kind, status, detail) for name, (kind, status, detail) in self.devices.items()}
        at = self.clock.local(sim_s)
        busy = HOURLY[at.hour] * (0.5 if self.state != "online" else 1.0)
        system = p.SystemHealth(round(min(100.0, 4 + 30 * busy + self.rng.uniform(0, 8)), 1),
                                round(950 + 250 * busy + self.rng.uniform(0, 40)), round(self.disk_free_mb),
                                round(44 + 10 * busy + self.rng.uniform(-2, 2), 1),
                                round(sim_s - self.booted_at + 40), self.net)
        return Out(p.health_topic(self.id), p.Health(self.stamp(), devices, system).to_json(), qos)

    def event(self, type: str, severity: str, device: str, message: str) -> Out:
        return Out(p.events_topic(self.id), p.Event(self.stamp(), type, severity, device, message).to_json())

    def job_status(self, job: str, step: Step) -> Out:
        self.jobs[job] = step
        while len(self.jobs) > KEEP_JOBS:
            del self.jobs[next(iter(self.jobs))]
        message = p.JobStatus(self.stamp(), job, step.status, step.progress, step.detail)
        return Out(p.job_status_topic(self.id, job), message.to_json())

    def job(self, job_id: str, payload: bytes) -> list[Step]:
        """The reports a job message calls for: a duplicate's reached status, ``REJECTED`` when
        malformed, ``TIMED_OUT`` when expired, else the op's steps."""
        seen = self.jobs.get(job_id)
        if seen is not None:
            return [Step(0.0, seen.status, seen.progress, seen.detail)]
        try:
            job = p.Job.parse(payload)
            if job.job != job_id:
                raise p.ProtocolError("job.job", "differs from the job id in the topic")
        except p.ProtocolError as exc:
            return rejected("job.malformed", f"The job is malformed: {exc}")
        if job.expired():
            return [Step(0.0, p.TIMED_OUT, 0, {"expires_at": p.format_ts(job.expires_at)})]
        self.jobs[job_id] = Step(0.0, p.QUEUED, 0)
        return plan(job)

    def _set_device(self, name: str, status: str | None = None, **detail: str) -> bool:
        """Change a device; True when something changed (health then goes out at once)."""
        device = self.devices[name]
        new = [device[0], status or device[1], {**device[2], **detail}]
        changed, self.devices[name] = new != device, new
        return changed

    # -- a window of citizens -----------------------------------------------------------------
    def metrics(self, sim_s: float, window_s: float) -> list[Out]:
        """What happened in the last ``window_s`` simulated seconds: metrics, and the events and
        health a print run dry causes."""
        rng, tier = self.rng, self.terminal.tier
        at = self.clock.local(sim_s)
        weekend = 0.6 if at.weekday() >= 5 else 1.0
        serving = self.state == "online"
        sessions = poisson(rng, PEAK_VISITS[tier] * HOURLY[at.hour] * weekend * window_s / 3600) if serving else 0
        cases = binomial(rng, sessions, 0.45)
        by_item: dict[str, int] = {}
        for code in rng.choices(self.items, self.item_weights, k=cases) if self.items else ():
            by_item[code] = by_item.get(code, 0) + 1
        scans = sum(rng.randint(1, 3) for _ in range(cases)) if self.devices["scanner"][1] == "online" else 0
        staffed = self.clock.staffed(sim_s, tier)
        issued = binomial(rng, sessions, 0.5) if staffed else 0
        capacity = poisson(rng, self.terminal.staff * 5.0 * window_s / 3600) if staffed else 0
        called = min(self.waiting + issued, capacity)
        self.waiting = self.waiting + issued - called if staffed else 0
        per_staff = self.waiting / max(1, self.terminal.staff)
        avg_wait = round(120 + 300 * per_staff + rng.uniform(0, 90), 1) if called else 0.0
        printed, out = self._print(sim_s, cases + issued)
        certificates = binomial(rng, cases, 0.15) if self.devices["a4"][1] == "online" else 0
        evaluations = dict.fromkeys(p.EVALUATION_LEVELS, 0)
        for level in rng.choices(p.EVALUATION_LEVELS, EVALUATION_SHARES, k=binomial(rng, cases, 0.7)):
            evaluations[level] += 1
        if "outbox" in self.repairs:
            self.outbox_pending += cases
        else:
            self.outbox_pending = binomial(rng, cases, 0.2)  # sent within the next window
        metrics = p.Metrics(self.stamp(), window_s, sessions, cases, by_item, printed + certificates, scans,
                            p.QueueFigures(issued, self.waiting, called, avg_wait), evaluations,
                            self.outbox_pending)
        return [*out, Out(p.metrics_topic(self.id), metrics.to_json())]

    def _print(self, sim_s: float, receipts: int) -> tuple[int, list[Out]]:
        """Print ``receipts`` on the roll: how many were printed, and the messages of a paper change."""
        paper = self.devices["receipt"][2]["paper"]
        printed = 0 if paper == "out" else min(receipts, self.paper_left)
        self.paper_left -= printed
        now = "out" if self.paper_left <= 0 else "near_end" if self.paper_left <= NEAR_END else "ok"
        if now == paper or not self._set_device("receipt", paper=now):
            return printed, []
        self._refill_later(sim_s)
        near_end = ("printer.paper_near_end", "warning", "receipt", "Receipt paper near its end")
        return printed, self._announce(sim_s, FAULT_EVENTS["paper"][0] if now == "out" else near_end, True)

    def _refill_later(self, sim_s: float) -> None:
        if "paper" not in self.repairs:
            mean_h = 2.0 if self.terminal.tier == "demonstration" else 8.0
            self.repairs["paper"] = sim_s + self.rng.expovariate(1 / (mean_h * 3600))

    # -- faults -------------------------------------------------------------------------------
    def faults(self, sim_s: float, step_s: float) -> tuple[list[Out], float]:
        """Faults that begin or end in the last ``step_s`` simulated seconds: the messages, and
        how long to go offline (0 for not)."""
        out: list[Out] = []
        offline_s = 0.0
        for fault, end in list(self.repairs.items()):
            if fault == "paper" and not self.clock.staffed(sim_s, self.terminal.tier):
                self.repairs[fault] = max(end, sim_s)  # the roll waits for an agent
            elif sim_s >= end:
                del self.repairs[fault]
                out += self._recover(sim_s, fault)
        for fault, (mean_days, mean_hours) in FAULTS.items():
            chance = self.fault_rate * step_s / (mean_days * DAY)
            if fault in self.repairs or self.rng.random() >= chance:
                continue
            duration = self.rng.expovariate(1 / (mean_hours * 3600))
            if fault == "offline":
                offline_s = max(60.0, duration)
                continue
            self.repairs[fault] = sim_s + duration
            out += self._begin(sim_s, fault)
        return out, offline_s

    def _begin(self, sim_s: float, fault: str) -> list[Out]:
        return self._announce(sim_s, FAULT_EVENTS[fault][0], self._break(fault, True))

    def _recover(self, sim_s: float, fault: str) -> list[Out]:
        return self._announce(sim_s, FAULT_EVENTS[fault][1], self._break(fault, False))

    def _announce(self, sim_s: float, event: tuple[str, str, str, str], devices_changed: bool) -> list[Out]:
        return [self.event(*event), *([self.health(sim_s, 1)] if devices_changed else [])]

    def _break(self, fault: str, broken: bool) -> bool:
        """Begin or end ``fault``; True when a device's status changed with it."""
        if fault == "idcard":
            return self._set_device("idcard", "hardware_error" if broken else "online",
                                    card="unknown" if broken else "absent")
        if fault == "paper":  # only its end comes here: a new roll
            self.paper_left = ROLL
            return self._set_device("receipt", paper="ok")
        if fault == "disk":
            self.disk_free_mb = self.rng.uniform(150.0, 900.0) if broken else self.rng.uniform(9000.0, 28000.0)
        elif not broken:  # the outbox drains
            self.outbox_pending = 0
        return False
